# pa3_bench: the all-reduce table (nccl-tests style) and the data-parallel step, on either
# backend, and the graded performance items of PA3 (autograder/rubrics/pa3.json). Not a test:
# run by hand (handouts/pa3.md, "Performance") and by the grader (`pa3_bench --item ID`).
# Included by pa3_parallelism/CMakeLists.txt after dp.cmake (it links Task 1 and Tasks 3-4).
if(TARGET pa3_dp AND TARGET pa3_collectives)
  add_executable(pa3_bench ${CMAKE_CURRENT_LIST_DIR}/pa3_bench.cpp)
  target_link_libraries(pa3_bench PRIVATE pa3_dp pa3_collectives)
  target_compile_options(pa3_bench PRIVATE -ffp-contract=off)
endif()
