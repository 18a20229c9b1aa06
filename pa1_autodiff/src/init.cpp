// Seeded weight initializers (staff code). See pa1/optim.h for the formulas.
#include <cmath>

#include "check.h"
#include "pa1/optim.h"

namespace pa1 {

static void fans(const Shape& shape, const char* op, double& fan_in, double& fan_out) {
  PA1_CHECK(!shape.empty() && mlsys::numel(shape) > 0, op,
            "expected a non-empty shape [fan_in, ...], got ", mlsys::to_string(shape));
  fan_in = static_cast<double>(shape[0]);
  fan_out = static_cast<double>(mlsys::numel(shape)) / fan_in;
}

Tensor xavier_uniform(const Shape& shape, uint64_t seed) {
  double fi, fo;
  fans(shape, "xavier_uniform", fi, fo);
  const float bound = static_cast<float>(std::sqrt(6.0 / (fi + fo)));
  return mlsys::rand(shape, seed, -bound, bound);
}

Tensor xavier_normal(const Shape& shape, uint64_t seed) {
  double fi, fo;
  fans(shape, "xavier_normal", fi, fo);
  return mlsys::randn(shape, seed, 0.f, static_cast<float>(std::sqrt(2.0 / (fi + fo))));
}

Tensor he_uniform(const Shape& shape, uint64_t seed) {
  double fi, fo;
  fans(shape, "he_uniform", fi, fo);
  const float bound = static_cast<float>(std::sqrt(6.0 / fi));
  return mlsys::rand(shape, seed, -bound, bound);
}

Tensor he_normal(const Shape& shape, uint64_t seed) {
  double fi, fo;
  fans(shape, "he_normal", fi, fo);
  return mlsys::randn(shape, seed, 0.f, static_cast<float>(std::sqrt(2.0 / fi)));
}

}  // namespace pa1
