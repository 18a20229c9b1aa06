# Hidden tests of PA3 Task 5 (staff tree and Gradescope package only), included by
# pa3_parallelism/tp.cmake when this file exists. One executable per task id, labelled
# "pa3;hidden;task<id>;task5"; they run the public tests' cases (pa3_parallelism/tests/
# tp_cases5_*.h) on other TP sizes (3, 6, 8), shapes and configurations.
function(pa3_tp_hidden_test name source labels)
  mlsys_add_test(${name} SOURCES ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/${source} LIBS pa3_tp
                 LABELS "${labels}" TIMEOUT 120)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/pa3_parallelism/tests)
endfunction()

pa3_tp_hidden_test(pa3_hidden_task5_1_tests test_hidden_task5_1.cpp "pa3;hidden;task5.1;task5")
pa3_tp_hidden_test(pa3_hidden_task5_2_tests test_hidden_task5_2.cpp "pa3;hidden;task5.2;task5")
pa3_tp_hidden_test(pa3_hidden_task5_3_tests test_hidden_task5_3.cpp "pa3;hidden;task5.3;task5")
