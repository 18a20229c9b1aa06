# Hidden tests of PA3 Tasks 3 and 4 (staff tree and Gradescope package only), included by
# pa3_parallelism/dp.cmake when this file exists. One executable per task id, labelled
# "pa3;hidden;task<id>;task<major>"; they reuse pa3_parallelism/tests/dp_test_util.h.
function(pa3_dp_hidden_test name source labels)
  mlsys_add_test(${name} SOURCES ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${source} LIBS pa3_dp
                 LABELS "${labels}" TIMEOUT 120)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/pa3_parallelism/tests)
endfunction()

pa3_dp_hidden_test(pa3_hidden_task3_1_tests test_hidden_task3_1.cpp "pa3;hidden;task3.1;task3")
pa3_dp_hidden_test(pa3_hidden_task3_2_tests test_hidden_task3_2.cpp "pa3;hidden;task3.2;task3")
pa3_dp_hidden_test(pa3_hidden_task3_3_tests test_hidden_task3_3.cpp "pa3;hidden;task3.3;task3")
pa3_dp_hidden_test(pa3_hidden_task4_1_tests test_hidden_task4_1.cpp "pa3;hidden;task4.1;task4")
pa3_dp_hidden_test(pa3_hidden_task4_2_tests test_hidden_task4_2.cpp "pa3;hidden;task4.2;task4")
