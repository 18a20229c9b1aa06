// Internal: status checks for the CUDA backend. Every CUDA runtime and cuBLAS call goes through
// one of these, so a failure throws mlsys::Error naming our function, the call and the reason:
//
//   mlsys::cuda_alloc: cudaMalloc(&ptr, nbytes) failed: out of memory
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "mlsys/error.h"

// MLSYS_CUDA_CHECK("fn", cudaCall(...)): throws when the call does not return cudaSuccess.
#define MLSYS_CUDA_CHECK(fn, call)                                                  \
  do {                                                                              \
    cudaError_t mlsys_status_ = (call);                                             \
    if (mlsys_status_ != cudaSuccess)                                               \
      MLSYS_FAIL(fn, #call, " failed: ", cudaGetErrorString(mlsys_status_));        \
  } while (0)

// MLSYS_CUBLAS_CHECK("fn", cublasCall(...)): throws with the status name, e.g.
// CUBLAS_STATUS_INVALID_VALUE.
#define MLSYS_CUBLAS_CHECK(fn, call)                                                \
  do {                                                                              \
    cublasStatus_t mlsys_status_ = (call);                                          \
    if (mlsys_status_ != CUBLAS_STATUS_SUCCESS)                                     \
      MLSYS_FAIL(fn, #call, " failed: ", cublasGetStatusName(mlsys_status_));       \
  } while (0)

// MLSYS_CUDA_CHECK_LAUNCH("fn", "kernel"): right after a <<<...>>> launch. Catches a bad launch
// configuration, and also a sticky error left by an earlier asynchronous kernel.
#define MLSYS_CUDA_CHECK_LAUNCH(fn, kernel)                                         \
  do {                                                                              \
    cudaError_t mlsys_status_ = cudaGetLastError();                                 \
    if (mlsys_status_ != cudaSuccess)                                               \
      MLSYS_FAIL(fn, "launching ", kernel, " failed: ", cudaGetErrorString(mlsys_status_)); \
  } while (0)
