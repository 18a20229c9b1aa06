# PA3 Task 6 (pipeline parallelism), included by pa3_parallelism/CMakeLists.txt after
# model.cmake. pa3_pipeline = the given code (src/pipeline/: schedules as text, StageRecorder,
# the GPT stage, timeline tools) + the student file src/pipeline.cpp, or its twin under
# solutions/ (mlsys_student_source). Task 7 links pa3_pipeline too. Tests use the threads backend.
mlsys_student_source(pa3_pipeline_student pa3_parallelism/src/pipeline.cpp)  # Tasks 6.1-6.3
add_library(pa3_pipeline
  src/pipeline/schedule.cpp
  src/pipeline/gpt_stage.cpp
  src/pipeline/timeline.cpp
  ${pa3_pipeline_student})
target_include_directories(pa3_pipeline PUBLIC include)
target_link_libraries(pa3_pipeline PUBLIC pa3_model pa3_runtime)
target_compile_options(pa3_pipeline PRIVATE -ffp-contract=off -Wno-unused-parameter)

# Public tests: one executable per task id, labelled "pa3;task<id>;task<major>".
function(pa3_pp_test name source labels)
  mlsys_add_test(${name} SOURCES ${source} LIBS pa3_pipeline LABELS "${labels}" TIMEOUT 120)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
endfunction()
pa3_pp_test(pa3_task6_1_tests tests/test_task6_1_partition.cpp "pa3;task6.1;task6")
pa3_pp_test(pa3_task6_2_tests tests/test_task6_2_schedules.cpp "pa3;task6.2;task6")
pa3_pp_test(pa3_task6_3_tests tests/test_task6_3_executor.cpp "pa3;task6.3;task6")
# The timeline tools (given code: Chrome trace JSON shape, bubble formula, ASCII picture).
pa3_pp_test(pa3_pipeline_tools_tests tests/test_pipeline_tools.cpp "pa3;runtime")
target_link_libraries(pa3_pipeline_tools_tests PRIVATE nlohmann_json::nlohmann_json)

# Hidden tests of Task 6: only in the staff tree and the Gradescope package.
if(EXISTS ${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/pp_hidden.cmake)
  include(${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/pp_hidden.cmake)
endif()

# A pipeline-parallel run of the GPT with a timeline: pa3_pipeline_trace --help.
add_executable(pa3_pipeline_trace examples/pipeline_trace.cpp)
target_link_libraries(pa3_pipeline_trace PRIVATE pa3_pipeline)
target_compile_options(pa3_pipeline_trace PRIVATE -ffp-contract=off)
