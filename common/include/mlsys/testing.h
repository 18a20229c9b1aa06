// mlsys/testing.h — GoogleTest helpers shared by every PA's tests.
//
//   EXPECT_TRUE(mlsys::test::allclose(actual, expected, rtol, atol));
//   MLSYS_EXPECT_ALLCLOSE(actual, expected);            // default tolerances
//   MLSYS_SKIP_WITHOUT_GPU();                            // first line of a GPU test
//   Tensor g = mlsys::test::numeric_gradient(f, x);  // central finite differences
//   mlsys::test::record_exact("order", ids);             // an output the grader re-checks
//
// A failed allclose prints the shapes, the max abs/rel error, the first mismatching elements
// with their indices, and a hint on what to check next.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlsys/ops.h"
#include "mlsys/recording.h"
#include "mlsys/tensor.h"

namespace mlsys::test {

// |actual - expected| <= atol + rtol * |expected| elementwise (NumPy's rule), same shape
// required; NaN never matches. Works for CPU and CUDA tensors of any dtype.
::testing::AssertionResult allclose(const Tensor& actual, const Tensor& expected,
                                    double rtol = 1e-5, double atol = 1e-6,
                                    const std::string& hint = "");

// Central finite differences of a scalar function: g[i] = (f(x+eps e_i) - f(x-eps e_i)) / 2eps.
// f receives a perturbed copy of x (float32, CPU). Cost: 2 * numel(x) calls of f.
Tensor numeric_gradient(const std::function<double(const Tensor&)>& f, const Tensor& x,
                        double eps = 1e-3);

// Checks an analytic gradient against numeric_gradient with float32-appropriate tolerances.
::testing::AssertionResult gradcheck(const std::function<double(const Tensor&)>& f,
                                     const Tensor& x, const Tensor& analytic_grad,
                                     double eps = 1e-3, double rtol = 1e-2, double atol = 1e-3);

// ---- Recorded outputs (mlsys/recording.h): what the official grader checks --------------
// allclose() records its `actual` argument with its tolerances; record a tensor explicitly with
void record(const std::string& label, const Tensor& value, double rtol = 1e-5, double atol = 1e-6);

// The devices a parametrized suite should cover: always CPU, plus CUDA when built with it.
std::vector<Device> test_devices();
std::string device_name(const ::testing::TestParamInfo<Device>& info);

}  // namespace mlsys::test

#define MLSYS_EXPECT_ALLCLOSE(actual, expected, ...) \
  EXPECT_TRUE(::mlsys::test::allclose((actual), (expected), ##__VA_ARGS__))
#define MLSYS_ASSERT_ALLCLOSE(actual, expected, ...) \
  ASSERT_TRUE(::mlsys::test::allclose((actual), (expected), ##__VA_ARGS__))

// Skips the current test, with the reason, when no CUDA device can be used.
#define MLSYS_SKIP_WITHOUT_GPU()                                                          \
  do {                                                                                    \
    if (!::mlsys::cuda_available())                                                       \
      GTEST_SKIP() << "no CUDA device available (this build: "                            \
                   << (::mlsys::cuda_built() ? "with CUDA, but no GPU found at run time"  \
                                             : "built without CUDA")                      \
                   << ")";                                                                \
  } while (0)
