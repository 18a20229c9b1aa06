# PA2 CPU hidden tests: one executable, pa2_hidden_cpu_tests. Test names start with the task
# (Task1_3_Hidden.*), which the rubric's gtest filters use ("Task1_3*"); each test case also
# gets the CTest labels of its task (task1.3, task1), so `ctest -L task1.3` runs the public
# and hidden tests of one task.
mlsys_add_test(pa2_hidden_cpu_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_hidden_matmul.cpp ${CMAKE_CURRENT_LIST_DIR}/test_hidden_rowwise.cpp
  LIBS pa2_cpu
  LABELS "pa2;cpu;hidden")
target_include_directories(pa2_hidden_cpu_tests PRIVATE ${PA2_CPU_TEST_DIR})

# Per-test task labels, read by CTest after the discovered tests and mlsys_add_test's labels.
set(pa2_hidden_cpu_label_script ${CMAKE_CURRENT_BINARY_DIR}/pa2_hidden_cpu_tests_task_labels.cmake)
file(WRITE ${pa2_hidden_cpu_label_script} [=[
foreach(test_name IN LISTS pa2_hidden_cpu_tests_TESTS)
  if(test_name MATCHES "^Task([0-9]+)_([0-9]+)_")
    set_tests_properties("${test_name}" PROPERTIES LABELS
      "pa2;cpu;hidden;task${CMAKE_MATCH_1}.${CMAKE_MATCH_2};task${CMAKE_MATCH_1}")
  endif()
endforeach()
]=])
set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${pa2_hidden_cpu_label_script})
