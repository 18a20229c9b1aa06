# PA3 Tasks 3 (data parallelism) and 4 (ZeRO), included by pa3_parallelism/CMakeLists.txt after
# model.cmake. pa3_dp = the given engine (src/dp/engine.cpp) + the two student files, or their
# twins under solutions/ (mlsys_student_source). Tests: one executable per task, labels
# "pa3;task3" / "pa3;task4" (ctest -L task3), all on the threads backend.
set(PA3_DP_STUDENT_FILES
  pa3_parallelism/src/data_parallel.cpp  # Task 3
  pa3_parallelism/src/zero.cpp           # Task 4
)
set(pa3_dp_sources)
foreach(file ${PA3_DP_STUDENT_FILES})
  mlsys_student_source(source ${file})
  list(APPEND pa3_dp_sources ${source})
endforeach()

add_library(pa3_dp src/dp/engine.cpp ${pa3_dp_sources})
target_include_directories(pa3_dp PUBLIC include)
target_link_libraries(pa3_dp PUBLIC pa3_model pa3_runtime)
target_compile_options(pa3_dp PRIVATE -ffp-contract=off -Wno-unused-parameter)

mlsys_add_test(pa3_task3_tests SOURCES tests/test_task3_data_parallel.cpp
  LIBS pa3_dp LABELS "pa3;task3" TIMEOUT 120)
mlsys_add_test(pa3_task4_tests SOURCES tests/test_task4_zero.cpp
  LIBS pa3_dp LABELS "pa3;task4" TIMEOUT 120)
target_include_directories(pa3_task3_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
target_include_directories(pa3_task4_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
