# Hidden tests of PA3 Task 6 (staff tree and Gradescope package only), included by
# pa3_parallelism/pp.cmake when this file exists. One executable per task id, labelled
# "pa3;hidden;task<id>;task<major>"; they reuse pa3_parallelism/tests/pp_test_util.h.
function(pa3_pp_hidden_test name source labels)
  mlsys_add_test(${name} SOURCES ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${source} LIBS pa3_pipeline
                 LABELS "${labels}" TIMEOUT 120)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/pa3_parallelism/tests)
endfunction()

pa3_pp_hidden_test(pa3_hidden_task6_1_tests test_hidden_task6_1.cpp "pa3;hidden;task6.1;task6")
pa3_pp_hidden_test(pa3_hidden_task6_2_tests test_hidden_task6_2.cpp "pa3;hidden;task6.2;task6")
pa3_pp_hidden_test(pa3_hidden_task6_3_tests test_hidden_task6_3.cpp "pa3;hidden;task6.3;task6")
