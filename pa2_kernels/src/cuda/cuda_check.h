// Internal: the GPU track's CUDA status check. PA2_CHECK / PA2_FAIL (mlsys::Error with the
// prefix "pa2::") come from pa2/common.h, shared with the CPU track.
//
//   PA2_CUDA_CHECK("gpu_bench", cudaMemcpy(...));
//     -> mlsys::Error("pa2::gpu_bench: cudaMemcpy(...) failed: invalid argument")
#pragma once

#include <cuda_runtime.h>

#include "pa2/common.h"

// Any CUDA runtime call: throws unless it returns cudaSuccess.
#define PA2_CUDA_CHECK(op, call)                                                   \
  do {                                                                             \
    cudaError_t pa2_status_ = (call);                                              \
    if (pa2_status_ != cudaSuccess)                                                \
      PA2_FAIL(op, #call, " failed: ", cudaGetErrorString(pa2_status_));           \
  } while (0)
