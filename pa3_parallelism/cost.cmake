# PA3 Task 8 (the cost model), included by pa3_parallelism/CMakeLists.txt after model.cmake.
# pa3_cost = the given shapes and checks (src/cost/shapes.cpp) + the student file, or its twin
# under solutions/ (mlsys_student_source). It links the model library only for GPTConfig
# (shape_of) and gpt_init (the tests count the floats it allocates); no communication.
mlsys_student_source(pa3_cost_source pa3_parallelism/src/cost_model.cpp)  # Task 8
add_library(pa3_cost src/cost/shapes.cpp ${pa3_cost_source})
target_include_directories(pa3_cost PUBLIC include)
target_link_libraries(pa3_cost PUBLIC pa3_model)
# Stubs leave their parameters unused until the student fills them in.
target_compile_options(pa3_cost PRIVATE -Wno-unused-parameter)

# Public tests: one executable per task id, labelled "pa3;task<id>;task8".
function(pa3_cost_test name source labels)
  mlsys_add_test(${name} SOURCES ${source} LIBS pa3_cost LABELS "${labels}" TIMEOUT 60)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
endfunction()
pa3_cost_test(pa3_task8_1_tests tests/test_task8_1_params.cpp "pa3;task8.1;task8")
pa3_cost_test(pa3_task8_2_tests tests/test_task8_2_flops.cpp "pa3;task8.2;task8")
pa3_cost_test(pa3_task8_3_tests tests/test_task8_3_memory.cpp "pa3;task8.3;task8")
pa3_cost_test(pa3_task8_4_tests tests/test_task8_4_comm.cpp "pa3;task8.4;task8")

# Hidden tests of Task 8: only in the staff tree and the Gradescope package.
if(EXISTS ${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/cost_hidden.cmake)
  include(${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/cost_hidden.cmake)
endif()
