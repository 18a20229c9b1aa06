# PA3 Task 5 (tensor parallelism), included by pa3_parallelism/CMakeLists.txt after model.cmake.
# pa3_tp = the given code (src/tp/: the shard layout, activations, the whole model on a TP group)
# + the student file src/tensor_parallel.cpp, or its twin under solutions/
# (mlsys_student_source). Tests run on the threads backend with the reference collectives.
mlsys_student_source(pa3_tp_student pa3_parallelism/src/tensor_parallel.cpp)  # Tasks 5.1-5.3

add_library(pa3_tp src/tp/shard.cpp src/tp/model.cpp ${pa3_tp_student})
target_include_directories(pa3_tp PUBLIC include PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(pa3_tp PUBLIC pa3_model pa3_runtime)
# Stubs leave their parameters unused until the student fills them in.
target_compile_options(pa3_tp PRIVATE -ffp-contract=off -Wno-unused-parameter)

# Public tests: one executable per task id, labelled "pa3;task<id>;task5".
function(pa3_tp_test name source labels)
  mlsys_add_test(${name} SOURCES ${source} LIBS pa3_tp LABELS "${labels}" TIMEOUT 120)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
endfunction()
pa3_tp_test(pa3_task5_1_tests tests/test_task5_1_linear.cpp "pa3;task5.1;task5")
pa3_tp_test(pa3_task5_2_tests tests/test_task5_2_block.cpp "pa3;task5.2;task5")
pa3_tp_test(pa3_task5_3_tests tests/test_task5_3_vocab.cpp "pa3;task5.3;task5")

# Hidden tests of Task 5: only in the staff tree and the Gradescope package.
if(EXISTS ${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/tp_hidden.cmake)
  include(${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/tp_hidden.cmake)
endif()
