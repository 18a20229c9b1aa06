# PA3 checks across tasks, included at the end of pa3_parallelism/CMakeLists.txt (after the
# targets pa3_collectives, pa3_dp and pa3_train exist):
#   - the student collectives (Tasks 1.1-1.4), data parallelism (Task 3, and ZeRO-1 of Task 4),
#     tensor (Task 5), pipeline (Task 6) and 3D (Task 7) parallelism on the MPI backend, under
#     mpirun at 2 and 4 processes (label mpi);
#   - pa3_train --dp 2 --zero 1, threads and MPI, equal to pa3_train --single (one process)
#     bit for bit (staff builds only: they need every task solved);
#   - bad input across the runtime, the given checks of the student files and the engine
#     (pa3_bad_input_tests), and malformed pa3_train / pa3_train_single options.
# Kept few and small: CI has 2 cores (each mpirun test takes a few seconds).

# ---- bad input ---------------------------------------------------------------------------
mlsys_add_test(pa3_bad_input_tests SOURCES tests/test_bad_input.cpp
  LIBS pa3_dp pa3_collectives LABELS "pa3;runtime" TIMEOUT 120)
target_include_directories(pa3_bad_input_tests PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)

# ---- MPI ---------------------------------------------------------------------------------
# As root and on 2 cores: --allow-run-as-root, --oversubscribe, ranks that yield when idle, and
# mpirun --timeout behind the runtime's own deadlines (the tests set 20 s).
set(PA3_MPI_ENV
  "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_mpi_yield_when_idle=1;OMPI_MCA_rmaps_base_oversubscribe=1")

# pa3_mpi_gtest(<target> <source> <libs> <labels>): one executable, run at 2 and 4 processes.
function(pa3_mpi_gtest target source libs labels)
  add_executable(${target} ${source})
  target_link_libraries(${target} PRIVATE ${libs} mlsys_testing GTest::gtest)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests)
  foreach(n 2 4)
    string(REGEX REPLACE "_tests$" "_n${n}" test_name ${target})
    add_test(NAME ${test_name}
      COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe --timeout 100
              ${MPIEXEC_NUMPROC_FLAG} ${n} $<TARGET_FILE:${target}>)
    set_tests_properties(${test_name} PROPERTIES
      LABELS "${labels}" TIMEOUT 120 PROCESSORS ${n} ENVIRONMENT "${PA3_MPI_ENV}")
  endforeach()
endfunction()

if(PA3_HAVE_MPI)
  pa3_mpi_gtest(pa3_task1_mpi_tests tests/test_task1_mpi.cpp pa3_collectives "pa3;task1;mpi")
  pa3_mpi_gtest(pa3_dp_mpi_tests tests/test_dp_mpi.cpp pa3_dp "pa3;task3;task4;mpi")
  # Tasks 5, 6 and 7: the threads tests' cases with one process per rank (tests/ranks_util.h).
  if(TARGET pa3_3d)
    pa3_mpi_gtest(pa3_model_parallel_mpi_tests tests/test_model_parallel_mpi.cpp pa3_3d
                  "pa3;task5;task6;task7;mpi")
  endif()
endif()

# ---- pa3_train: malformed option values are refused (exit 2, the option named) -------------
add_test(NAME pa3_train_bad_arguments
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/train_bad_args.sh $<TARGET_FILE:pa3_train>
          $<TARGET_FILE:pa3_train_single>)
set_tests_properties(pa3_train_bad_arguments PROPERTIES LABELS "pa3;example" TIMEOUT 60)

# ---- pa3_train: --dp 2 --zero 1 == --single ------------------------------------------------
if(MLSYS_SOLUTIONS)
  set(pa3_train_args --steps 4 --batch 8 --seq 16 --layers 1 --heads 2 --embd 16 --sample 0
                     --log-every 1)
  add_test(NAME pa3_train_equivalence_threads
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/train_equivalence.sh $<TARGET_FILE:pa3_train>
            ${CMAKE_CURRENT_BINARY_DIR}/train_equivalence_threads threads -- ${pa3_train_args})
  set_tests_properties(pa3_train_equivalence_threads PROPERTIES
    LABELS "pa3;example" TIMEOUT 120 PROCESSORS 2)
  if(PA3_HAVE_MPI)
    add_test(NAME pa3_train_equivalence_mpi
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/train_equivalence.sh $<TARGET_FILE:pa3_train>
              ${CMAKE_CURRENT_BINARY_DIR}/train_equivalence_mpi mpi ${MPIEXEC_EXECUTABLE}
              -- ${pa3_train_args})
    set_tests_properties(pa3_train_equivalence_mpi PROPERTIES
      LABELS "pa3;example;mpi" TIMEOUT 120 PROCESSORS 2 ENVIRONMENT "${PA3_MPI_ENV}")
  endif()
endif()
