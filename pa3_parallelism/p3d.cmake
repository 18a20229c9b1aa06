# PA3 Task 7 (3D parallelism: DP x TP x PP with ZeRO-1 on DP), included by
# pa3_parallelism/CMakeLists.txt after the Task 5 and Task 6 fragments. pa3_3d = the given engine
# (src/p3d/engine3d.cpp) + the student file src/parallel3d.cpp, or its twin under solutions/
# (mlsys_student_source). It builds on the grid (Task 2, pa3_collectives), tensor parallelism
# (Task 5, pa3_tp) and the pipeline executor (Task 6, pa3_pipeline); in grading, those are the
# staff versions. Tests run on the threads backend.
if(NOT TARGET pa3_tp OR NOT TARGET pa3_pipeline)
  message(STATUS "PA3 Task 7 needs the Task 5 and 6 libraries (pa3_tp, pa3_pipeline): skipped")
  return()
endif()
mlsys_student_source(pa3_3d_student pa3_parallelism/src/parallel3d.cpp)  # Tasks 7.1-7.2
add_library(pa3_3d src/p3d/engine3d.cpp ${pa3_3d_student})
target_include_directories(pa3_3d PUBLIC include)
target_link_libraries(pa3_3d PUBLIC pa3_tp pa3_pipeline pa3_collectives pa3_model pa3_runtime)
target_compile_options(pa3_3d PRIVATE -ffp-contract=off -Wno-unused-parameter)

# Public tests: one executable per task id, labelled "pa3;task<id>;task<major>".
function(pa3_3d_test name source labels)
  mlsys_add_test(${name} SOURCES ${source} LIBS pa3_3d LABELS "${labels}" TIMEOUT 120)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
endfunction()
pa3_3d_test(pa3_task7_1_tests tests/test_task7_1_syncs.cpp "pa3;task7.1;task7")
pa3_3d_test(pa3_task7_2_tests tests/test_task7_2_layouts.cpp "pa3;task7.2;task7")
# The engine's own checks of its options (given code, not graded).
mlsys_add_test(pa3_3d_engine_tests SOURCES tests/test_p3d_engine.cpp LIBS pa3_3d
  LABELS "pa3;runtime" TIMEOUT 120)
target_include_directories(pa3_3d_engine_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)

# Hidden tests of Task 7: only in the staff tree and the Gradescope package.
if(EXISTS ${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/p3d_hidden.cmake)
  include(${PROJECT_SOURCE_DIR}/autograder/hidden/pa3/p3d_hidden.cmake)
endif()

# pa3_train (examples/train_dp.cpp, defined by dp.cmake) runs 3D layouts too: --tp, --pp,
# --schedule or --stages hand its command line to examples/train_3d.cpp.
target_sources(pa3_train PRIVATE examples/train_3d.cpp)
target_link_libraries(pa3_train PRIVATE pa3_3d)
target_compile_definitions(pa3_train PRIVATE PA3_TRAIN_3D=1)

# pa3_train --dp 2 --tp 2 --pp 2: threads == mpirun -n 8 (losses and weights bit for bit) and
# == one process (pa3_train --single --dp 2) within 1e-5 per step's loss. Staff builds only (it
# needs every task solved); a few seconds on 2 cores.
if(MLSYS_SOLUTIONS AND PA3_HAVE_MPI)
  add_test(NAME pa3_train_3d_equivalence
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/train_3d_equivalence.sh $<TARGET_FILE:pa3_train>
            ${CMAKE_CURRENT_BINARY_DIR}/train_3d_equivalence ${MPIEXEC_EXECUTABLE}
            -- --steps 4 --batch 8 --seq 16 --layers 2 --heads 2 --embd 16 --micro-batches 2
               --sample 0 --log-every 1)
  set_tests_properties(pa3_train_3d_equivalence PROPERTIES
    LABELS "pa3;example;mpi" TIMEOUT 120 PROCESSORS 2
    ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_mpi_yield_when_idle=1;OMPI_MCA_rmaps_base_oversubscribe=1")
endif()
