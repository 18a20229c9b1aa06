# Hidden tests of PA3 Task 8 (staff tree and Gradescope package only), included by
# pa3_parallelism/cost.cmake when this file exists. One executable per task id, labelled
# "pa3;hidden;task<id>;task8"; they reuse pa3_parallelism/tests/cost_test_util.h.
function(pa3_cost_hidden_test name source labels)
  mlsys_add_test(${name} SOURCES ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${source} LIBS pa3_cost
                 LABELS "${labels}" TIMEOUT 60)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/pa3_parallelism/tests)
endfunction()

pa3_cost_hidden_test(pa3_hidden_task8_1_tests test_hidden_task8_1.cpp "pa3;hidden;task8.1;task8")
pa3_cost_hidden_test(pa3_hidden_task8_2_tests test_hidden_task8_2.cpp "pa3;hidden;task8.2;task8")
pa3_cost_hidden_test(pa3_hidden_task8_3_tests test_hidden_task8_3.cpp "pa3;hidden;task8.3;task8")
pa3_cost_hidden_test(pa3_hidden_task8_4_tests test_hidden_task8_4.cpp "pa3;hidden;task8.4;task8")
