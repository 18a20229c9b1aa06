// A five-minute tour of the mlsys tensor library: views, broadcasting, reductions, matmul,
// softmax, seeded random numbers, and the same code on the GPU when there is one.
#include <cstdio>

#include "mlsys/ops.h"
#include "mlsys/tensor.h"

using namespace mlsys;

static void show(const char* label, const Tensor& t) {
  std::printf("%-34s %-22s", label, t.describe().c_str());
  std::vector<float> v = t.astype(DType::Float32).to_vector<float>();
  for (size_t i = 0; i < v.size() && i < 8; ++i) std::printf(" %7.3f", v[i]);
  std::printf("%s\n", v.size() > 8 ? " ..." : "");
}

int main() {
  std::printf("mlsys tensor library demo (CUDA: %s)\n\n",
              cuda_available() ? "available" : cuda_built() ? "built, no GPU" : "not built");
  Tensor x = arange(0, 12).reshape({3, 4});
  show("x = arange(12).reshape(3, 4)", x);
  show("x.t()  (a view, no copy)", x.t());
  show("x.slice(1, 0, 4, 2)", x.slice(1, 0, 4, 2));
  show("x + [10, 20, 30, 40]", x + from_vector<float>({10, 20, 30, 40}, {4}));
  show("sum(x, axis 0)", sum(x, {0}));
  show("max(x, axis 1, keepdims)", max(x, {1}, true));
  show("argmax(x, axis 1)", argmax(x, 1));
  show("softmax(x, axis -1) row 0", softmax(x).select(0, 0));
  Tensor w = randn({4, 2}, 42);
  show("w = randn([4, 2], seed 42)", w);
  show("x @ w", matmul(x, w));
  if (cuda_available()) {
    Tensor g = matmul(x.cuda(), w.cuda());
    show("(x @ w) on the GPU", g);
    show("|cpu - gpu|", abs(g.cpu() - matmul(x, w)));
  }
  try {
    matmul(x, x);
  } catch (const Error& e) {
    std::printf("\nbad input is a clear error:\n  %s\n", e.what());
  }
  return 0;
}
