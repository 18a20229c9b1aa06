// The CUDA backend of a build without CUDA (MLSYS_CUDA=OFF, or AUTO without nvcc): there is
// never a device, and anything that would need one throws an Error saying how to get one.
// The entries check cuda_available() first, so users normally see their message, not these.
#include <cstring>
#include <string>

#include "backend.h"

namespace mlsys {

bool cuda_built() { return false; }
bool cuda_available() { return false; }

}  // namespace mlsys

namespace mlsys::detail {
namespace {

[[noreturn]] void no_cuda(const char* fn) {
  throw Error(std::string("mlsys::") + fn +
              ": this build has no CUDA support; reconfigure with -DMLSYS_CUDA=ON on a machine "
              "with the CUDA toolkit");
}

}  // namespace

int cuda_device_count() { return 0; }

void* cuda_alloc(size_t) { no_cuda("cuda_alloc"); }

// Nothing can have been allocated, and a noexcept function must not throw.
void cuda_free(void*) noexcept {}

void cuda_memcpy(void* dst, Device dst_device, const void* src, Device src_device,
                 size_t nbytes) {
  // Host to host needs no CUDA; behave as the CUDA build does.
  if (dst_device == Device::CPU && src_device == Device::CPU) {
    if (nbytes > 0) std::memcpy(dst, src, nbytes);
    return;
  }
  no_cuda("cuda_memcpy");
}

void cuda_copy_strided(void*, const Layout&, const void*, const Layout&, size_t) {
  no_cuda("cuda_copy_strided");
}

void cuda_fill(void*, int64_t, const void*, size_t) { no_cuda("cuda_fill"); }

void cuda_unary(UnaryOp, float*, const float*, const Layout&, int64_t) {
  no_cuda("cuda_unary");
}

void cuda_binary(BinaryOp, float*, const float*, const Layout&, const float*, const Layout&,
                 int64_t) {
  no_cuda("cuda_binary");
}

void cuda_where(float*, const float*, const Layout&, const float*, const Layout&,
                const float*, const Layout&, int64_t) {
  no_cuda("cuda_where");
}

void cuda_reduce_rows(ReduceOp, float*, const float*, int64_t, int64_t) {
  no_cuda("cuda_reduce_rows");
}

void cuda_argmax_rows(int64_t*, const float*, int64_t, int64_t) { no_cuda("cuda_argmax_rows"); }

void cuda_softmax_rows(float*, const float*, int64_t, int64_t, bool) {
  no_cuda("cuda_softmax_rows");
}

void cuda_matmul(float*, const float*, const float*, int64_t, int64_t, int64_t, int64_t,
                 int64_t, int64_t) {
  no_cuda("cuda_matmul");
}

}  // namespace mlsys::detail
