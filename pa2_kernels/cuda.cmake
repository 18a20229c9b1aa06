# PA2 GPU track (Tasks 3-6). Included by pa2_kernels/CMakeLists.txt when MLSYS_HAVE_CUDA, so
# CMAKE_CURRENT_SOURCE_DIR is pa2_kernels/ here.
#
#   pa2_gpu          staff entries (validation), CPU references, staff kernels, and one student
#                    file per task (mlsys_student_source picks it or its twin in solutions/)
#   tests/gpu/       public tests, one executable per task, labelled pa2;task<id>;task<major>;gpu
#   pa2_gpu_bench    the benchmark (not a test), in <build>/pa2_kernels/bench/

# The student files of the GPU track, one per task. The rubric lists the same files.
set(PA2_GPU_STUDENT_FILES
  pa2_kernels/src/cuda/sgemm_naive.cu         # Task 3.1
  pa2_kernels/src/cuda/sgemm_coalesced.cu     # Task 3.2
  pa2_kernels/src/cuda/sgemm_shared.cu        # Task 3.3
  pa2_kernels/src/cuda/sgemm_regtile_1d.cu    # Task 3.4
  pa2_kernels/src/cuda/sgemm_regtile_2d.cu    # Task 3.5
  pa2_kernels/src/cuda/sgemm_vectorized.cu    # Task 3.6
  pa2_kernels/src/cuda/reduce.cu              # Task 4.1
  pa2_kernels/src/cuda/softmax.cu             # Task 4.2
  pa2_kernels/src/cuda/layernorm_forward.cu   # Task 4.3
  pa2_kernels/src/cuda/layernorm_backward.cu  # Task 4.4
  pa2_kernels/src/cuda/attention.cu           # Task 5.1
  pa2_kernels/src/cuda/gemm_bias_relu.cu      # Task 6.1
)
set(pa2_gpu_student_sources)
foreach(file ${PA2_GPU_STUDENT_FILES})
  mlsys_student_source(source ${file})
  list(APPEND pa2_gpu_student_sources ${source})
endforeach()

add_library(pa2_gpu
  ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/entry.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/reference.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda/staff_kernels.cu
  ${pa2_gpu_student_sources})
# src/cuda holds the private headers (launchers.h, cuda_check.h); the solution twins include
# them from solutions/, hence the explicit include directory.
target_include_directories(pa2_gpu
  PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
  PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda)
target_link_libraries(pa2_gpu PUBLIC mlsys CUDA::cudart)
# Stubs leave their parameters unused until the student fills them in.
target_compile_options(pa2_gpu PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-unused-parameter>)
set_target_properties(pa2_gpu PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
target_link_libraries(pa2 INTERFACE pa2_gpu)  # `pa2`: every PA2 library of this build

add_subdirectory(${CMAKE_CURRENT_SOURCE_DIR}/tests/gpu ${CMAKE_CURRENT_BINARY_DIR}/tests/gpu)

# Not a test: validates, then times every kernel against cuBLAS / cudaMemcpy / the naive and
# unfused paths (see bench/gpu_bench.cu for the items). Without a GPU it prints
# "no GPU: skipped" and exits 0.
add_executable(pa2_gpu_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/gpu_bench.cu)
target_include_directories(pa2_gpu_bench PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src/cuda)
target_link_libraries(pa2_gpu_bench PRIVATE pa2_gpu CUDA::cublas)
set_target_properties(pa2_gpu_bench PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/bench)
