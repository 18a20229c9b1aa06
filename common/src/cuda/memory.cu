// CUDA backend, part 1: device discovery, device memory and copies between devices.
// Everything works on device 0, the only device the tensor library uses.
#include <cstring>

#include "backend.h"
#include "cuda/check.h"

namespace mlsys {

bool cuda_built() { return true; }
bool cuda_available() { return detail::cuda_device_count() > 0; }

}  // namespace mlsys

namespace mlsys::detail {

int cuda_device_count() {
  // Asked once: the answer cannot change while the process runs. No driver, no device or any
  // other failure means "no GPU", never an exception (tests use this to decide to skip).
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // clear the error so that it does not surface in a later check
      return 0;
    }
    return n;
  }();
  return count;
}

void* cuda_alloc(size_t nbytes) {
  if (nbytes == 0) return nullptr;  // cuda_free and cuda_memcpy accept it
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, nbytes);
  if (status != cudaSuccess) {
    cudaGetLastError();  // an out-of-memory error is not sticky; clear it for later checks
    MLSYS_FAIL("cuda_alloc", "cudaMalloc of ", nbytes, " bytes failed: ",
               cudaGetErrorString(status));
  }
  return ptr;
}

void cuda_free(void* ptr) noexcept {
  // Errors are ignored: this runs in destructors, possibly after the CUDA context is gone at
  // process exit, when there is nothing useful left to do with them.
  if (ptr != nullptr) cudaFree(ptr);
}

void cuda_memcpy(void* dst, Device dst_device, const void* src, Device src_device,
                 size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device == Device::CPU && src_device == Device::CPU) {
    std::memcpy(dst, src, nbytes);
    return;
  }
  cudaMemcpyKind kind = src_device == Device::CPU   ? cudaMemcpyHostToDevice
                        : dst_device == Device::CPU ? cudaMemcpyDeviceToHost
                                                    : cudaMemcpyDeviceToDevice;
  // cudaMemcpy runs on the default stream, so it waits for every kernel launched before it; an
  // error it reports may therefore come from one of those kernels.
  MLSYS_CUDA_CHECK("cuda_memcpy", cudaMemcpy(dst, src, nbytes, kind));
  // A device-to-device cudaMemcpy may return before the copy is done; the contract is
  // synchronous, so wait for it.
  if (kind == cudaMemcpyDeviceToDevice)
    MLSYS_CUDA_CHECK("cuda_memcpy", cudaStreamSynchronize(nullptr));
}

}  // namespace mlsys::detail
