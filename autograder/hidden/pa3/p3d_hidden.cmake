# Hidden tests of PA3 Task 7 (staff tree and Gradescope package only), included by
# pa3_parallelism/p3d.cmake when this file exists. One executable per task id, labelled
# "pa3;hidden;task<id>;task7"; they reuse pa3_parallelism/tests/p3d_test_util.h.
function(pa3_3d_hidden_test name source labels)
  mlsys_add_test(${name} SOURCES ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${source} LIBS pa3_3d
                 LABELS "${labels}" TIMEOUT 120)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/pa3_parallelism/tests)
endfunction()

pa3_3d_hidden_test(pa3_hidden_task7_1_tests test_hidden_task7_1.cpp "pa3;hidden;task7.1;task7")
pa3_3d_hidden_test(pa3_hidden_task7_2_tests test_hidden_task7_2.cpp "pa3;hidden;task7.2;task7")
