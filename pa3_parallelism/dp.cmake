# PA3 Tasks 3 (data parallelism) and 4 (ZeRO), included by pa3_parallelism/CMakeLists.txt after
# model.cmake. pa3_dp = the given engine (src/dp/engine.cpp) + the two student files, or their
# twins under solutions/ (mlsys_student_source). Tests run on the threads backend.
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

# Public tests: one executable per task id, labelled "pa3;task<id>;task<major>".
function(pa3_dp_test name source labels)
  mlsys_add_test(${name} SOURCES ${source} LIBS pa3_dp LABELS "${labels}" TIMEOUT 120)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
endfunction()
pa3_dp_test(pa3_task3_1_tests tests/test_task3_1_replicas.cpp "pa3;task3.1;task3")
pa3_dp_test(pa3_task3_2_tests tests/test_task3_2_buckets.cpp "pa3;task3.2;task3")
pa3_dp_test(pa3_task3_3_tests tests/test_task3_3_step.cpp "pa3;task3.3;task3")
pa3_dp_test(pa3_task4_1_tests tests/test_task4_1_zero12.cpp "pa3;task4.1;task4")
pa3_dp_test(pa3_task4_2_tests tests/test_task4_2_zero3.cpp "pa3;task4.2;task4")

# Hidden tests of Tasks 3-4: only in the staff tree and the Gradescope package.
if(EXISTS ${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/dp_hidden.cmake)
  include(${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/dp_hidden.cmake)
endif()

# The data-parallel / ZeRO trainer on Tiny Shakespeare (either backend): pa3_train --help.
add_executable(pa3_train examples/train_dp.cpp)
target_link_libraries(pa3_train PRIVATE pa3_dp)
target_compile_options(pa3_train PRIVATE -ffp-contract=off)
