# PA2 GPU hidden tests: one executable, pa2_hidden_gpu_tests (included by ../CMakeLists.txt
# when CUDA is built). Test names start with the task (Task3_6_Hidden.*), which the rubric's
# gtest filters use ("Task3_6_Hidden*"); each test case also gets the CTest labels of its task
# (task3.6, task3), so `ctest -L task3.6` runs the public and hidden tests of one task. The
# helpers and error bounds are those of the public tests (pa2_kernels/tests/gpu/gpu_test_util.h).
if(TARGET pa2_gpu)
  mlsys_add_test(pa2_hidden_gpu_tests
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_hidden_sgemm.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_hidden_rowwise.cpp
            ${CMAKE_CURRENT_LIST_DIR}/test_hidden_attention.cpp
    LIBS pa2_gpu
    LABELS "pa2;gpu;hidden"
    TIMEOUT 600)
  target_include_directories(pa2_hidden_gpu_tests PRIVATE ${PROJECT_SOURCE_DIR}/pa2_kernels/tests/gpu)

  # Per-test task labels, read by CTest after the discovered tests and mlsys_add_test's labels.
  set(pa2_hidden_gpu_label_script ${CMAKE_CURRENT_BINARY_DIR}/pa2_hidden_gpu_tests_task_labels.cmake)
  file(WRITE ${pa2_hidden_gpu_label_script} [=[
foreach(test_name IN LISTS pa2_hidden_gpu_tests_TESTS)
  if(test_name MATCHES "^Task([0-9]+)_([0-9]+)_")
    set_tests_properties("${test_name}" PROPERTIES LABELS
      "pa2;gpu;hidden;task${CMAKE_MATCH_1}.${CMAKE_MATCH_2};task${CMAKE_MATCH_1}")
  endif()
endforeach()
]=])
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${pa2_hidden_gpu_label_script})
endif()
