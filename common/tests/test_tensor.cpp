// Tensor basics: creation, views, copies, element access, the random generator, bad input.
// Expected values come from index arithmetic written out in the tests, the Philox
// known-answer vectors, or closed forms — never from the library's own output.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "mlsys/ops.h"
#include "mlsys/random.h"
#include "mlsys/tensor.h"
#include "mlsys/testing.h"

using namespace mlsys;

// Expects `stmt` to throw mlsys::Error whose message contains `needle`.
#define EXPECT_ERROR_WITH(stmt, needle)                                              \
  do {                                                                               \
    try {                                                                            \
      stmt;                                                                          \
      ADD_FAILURE() << "expected mlsys::Error containing '" << needle << "'";        \
    } catch (const mlsys::Error& e) {                                                \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)              \
          << "message was: " << e.what();                                            \
    }                                                                                \
  } while (0)

static Tensor iota(Shape shape) {
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  std::iota(v.begin(), v.end(), 0.f);
  return from_vector(v, shape);
}

// ============================================================================================
// Creation and metadata
// ============================================================================================

TEST(Tensor, CreationAndMetadata) {
  Tensor t = zeros({2, 3, 4});
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.dim(), 3);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.describe(), "float32[2, 3, 4] cpu");
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 0.f);
  for (float v : full({5}, 2.5f).to_vector<float>()) EXPECT_EQ(v, 2.5f);
  EXPECT_EQ(scalar(3.f).dim(), 0);
  EXPECT_EQ(scalar(3.f).item(), 3.f);
  EXPECT_EQ(ones({0, 3}).numel(), 0);
  Tensor i = arange(0, 5, 1, DType::Int64);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(arange(1, 2, 0.25).to_vector<float>(), (std::vector<float>{1, 1.25, 1.5, 1.75}));
  EXPECT_EQ(from_vector<int32_t>({7, 8}, {2}).at({1}), 8.f);
}

TEST(Tensor, ElementAccessAndItem) {
  Tensor t = iota({2, 3});
  EXPECT_EQ(t.at({1, 2}), 5.f);
  EXPECT_EQ(t.at({-1, -1}), 5.f);
  t.set({0, 1}, 42.f);
  EXPECT_EQ(t.at({0, 1}), 42.f);
  EXPECT_EQ(t.select(0, 1).select(0, 0).item(), 3.f);
  Tensor big = from_vector<int64_t>({int64_t{1} << 40}, {1});
  EXPECT_EQ(big.item_int(), int64_t{1} << 40);
}

// ============================================================================================
// Views share storage and follow index arithmetic
// ============================================================================================

TEST(TensorViews, ReshapeContiguousAndInfer) {
  Tensor t = iota({2, 3, 4});
  Tensor r = t.reshape({6, -1});
  EXPECT_EQ(r.shape(), (Shape{6, 4}));
  EXPECT_EQ(r.storage(), t.storage());  // a view, not a copy
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(r.at({i, j}), static_cast<float>(i * 4 + j));
  EXPECT_EQ(t.reshape({24}).at({23}), 23.f);
  EXPECT_EQ(t.reshape({1, 2, 1, 12, 1}).at({0, 1, 0, 11, 0}), 23.f);
  EXPECT_EQ(scalar(1.f).reshape({1, 1}).shape(), (Shape{1, 1}));
}

TEST(TensorViews, ReshapeOfNonContiguousViewWhenPossible) {
  // [4, 6] sliced to columns 0..3 is [4, 3] with row stride 6: merging rows is impossible,
  // but splitting the column dim is fine.
  Tensor t = iota({4, 6}).slice(1, 0, 3);
  EXPECT_FALSE(t.is_contiguous());
  Tensor r = t.reshape({2, 2, 3});
  EXPECT_EQ(r.at({1, 1, 2}), 3 * 6 + 2.f);
  EXPECT_ERROR_WITH(t.reshape({12}), "call .contiguous() first");
  EXPECT_EQ(t.contiguous().reshape({12}).at({5}), 1 * 6 + 2.f);
  // A transposed matrix cannot be flattened as a view either.
  EXPECT_ERROR_WITH(iota({3, 4}).t().reshape({12}), "without copying");
}

TEST(TensorViews, PermuteTransposeSliceSelect) {
  Tensor t = iota({2, 3, 4});
  Tensor p = t.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k)
        EXPECT_EQ(p.at({i, j, k}), static_cast<float>(j * 12 + k * 4 + i));
  EXPECT_EQ(t.transpose(0, 2).at({3, 1, 1}), t.at({1, 1, 3}));
  Tensor s = t.slice(2, 1, 4, 2);  // columns 1 and 3
  EXPECT_EQ(s.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(s.at({1, 2, 1}), 12 + 8 + 3.f);
  EXPECT_EQ(t.slice(1, -2, 100).shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(t.slice(1, 2, 1).shape(), (Shape{2, 0, 4}));
  EXPECT_EQ(t.select(1, -1).shape(), (Shape{2, 4}));
  EXPECT_EQ(t.select(1, -1).at({1, 0}), 12 + 8.f);
}

TEST(TensorViews, ExpandSqueezeUnsqueeze) {
  Tensor c = iota({3, 1});
  Tensor e = c.expand({2, 3, 4});
  EXPECT_EQ(e.strides()[0], 0);
  EXPECT_EQ(e.strides()[2], 0);
  EXPECT_EQ(e.at({1, 2, 3}), 2.f);
  EXPECT_EQ(e.contiguous().to_vector<float>()[23], 2.f);
  EXPECT_EQ(c.squeeze().shape(), (Shape{3}));
  EXPECT_EQ(c.squeeze(1).shape(), (Shape{3}));
  EXPECT_EQ(c.unsqueeze(0).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(c.unsqueeze(-1).shape(), (Shape{3, 1, 1}));
  EXPECT_ERROR_WITH(c.squeeze(0), "expected 1");
  EXPECT_ERROR_WITH(c.expand({3, 2, 2}), "cannot broadcast");
}

TEST(TensorViews, WritesThroughViewsAreShared) {
  Tensor t = zeros({3, 4});
  Tensor col = t.slice(1, 2, 3);
  col.fill_(7.f);
  EXPECT_EQ(t.at({2, 2}), 7.f);
  EXPECT_EQ(t.at({2, 1}), 0.f);
  Tensor row = t.select(0, 0);
  row.copy_(iota({4}));
  EXPECT_EQ(t.at({0, 3}), 3.f);
  // copy_ broadcasts its source.
  t.copy_(iota({4}));
  EXPECT_EQ(t.at({2, 3}), 3.f);
}

TEST(TensorCopies, ContiguousAndCloneOfStridedViews) {
  Tensor t = iota({3, 4, 5}).permute({2, 0, 1}).slice(0, 1, 5, 2);  // [2, 3, 4]
  Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  std::vector<float> v = c.to_vector<float>();
  size_t n = 0;
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t d = 0; d < 4; ++d) EXPECT_EQ(v[n++], static_cast<float>(b * 20 + d * 5 + 1 + 2 * a));
  Tensor k = iota({4}).clone();
  EXPECT_NE(k.storage(), iota({4}).storage());
  Tensor i64 = arange(0, 6, 1, DType::Int64).reshape({2, 3}).t().contiguous();
  EXPECT_EQ(i64.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(iota({3}).astype(DType::Int32).to_vector<int32_t>(), (std::vector<int32_t>{0, 1, 2}));
}

// ============================================================================================
// Writes: broadcast views are read-only; integers stay exact
// ============================================================================================

TEST(TensorWrites, BroadcastViewsAreReadOnly) {
  Tensor base = iota({3, 1});
  Tensor e = base.expand({3, 4});  // 4 positions per row share one element
  EXPECT_ERROR_WITH(e.copy_(iota({3, 4})), "cannot write into the broadcast view float32[3, 4]");
  EXPECT_ERROR_WITH(e.copy_(iota({3, 4})), "dim 1 has stride 0");
  EXPECT_ERROR_WITH(e.fill_(1.f), "mlsys::fill_: cannot write into the broadcast view");
  EXPECT_ERROR_WITH(e.set({0, 1}, 5.f), "mlsys::Tensor::set: cannot write into the broadcast");
  EXPECT_ERROR_WITH(scalar(2.f).expand({5}).fill_(0.f), "dim 0 has stride 0");
  EXPECT_EQ(base.to_vector<float>(), (std::vector<float>{0, 1, 2}));  // untouched
  // Broadcasting only adds size-1 dims here: nothing is aliased, so writing is fine.
  Tensor row = iota({3});
  row.expand({1, 3}).copy_(full({1, 3}, 7.f));
  EXPECT_EQ(row.to_vector<float>(), (std::vector<float>{7, 7, 7}));
}

TEST(TensorWrites, IntegerFillsStayExact) {
  // 2^24 + 1 is the first integer float32 cannot hold; 2^53 + 1 the first for double.
  const int64_t values[] = {16777217,
                            (int64_t{1} << 40) + 1,
                            (int64_t{1} << 53) + 1,
                            (int64_t{1} << 62) + 3,
                            std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min()};
  for (int64_t v : values) {
    EXPECT_EQ(full({2}, v, DType::Int64).to_vector<int64_t>(), (std::vector<int64_t>{v, v})) << v;
    Tensor t = zeros({2, 3}, DType::Int64);
    t.fill_(v);
    EXPECT_EQ(t.to_vector<int64_t>(), std::vector<int64_t>(6, v)) << v;
    const int64_t w = v == std::numeric_limits<int64_t>::min() ? v + 1 : v - 1;  // another exact value
    t.set({1, 2}, w);
    EXPECT_EQ(t.to_vector<int64_t>()[5], w) << v;
    EXPECT_EQ(t.select(0, 1).select(0, 2).item_int(), w) << v;
  }
  EXPECT_EQ(full({1}, 2147483647, DType::Int32).to_vector<int32_t>()[0], 2147483647);
  EXPECT_EQ(full({1}, -2147483647 - 1, DType::Int32).to_vector<int32_t>()[0], -2147483647 - 1);
  // Into float32 an integer rounds once, to nearest even: 2^24 + 1 -> 2^24, 2^24 + 3 -> 2^24 + 4.
  EXPECT_EQ(full({1}, 16777217, DType::Float32).to_vector<float>()[0], 16777216.f);
  EXPECT_EQ(full({1}, 16777219, DType::Float32).to_vector<float>()[0], 16777220.f);
  // Floating-point values truncate toward zero, as static_cast and NumPy do.
  EXPECT_EQ(full({2}, -2.75, DType::Int32).to_vector<int32_t>(), (std::vector<int32_t>{-2, -2}));
  EXPECT_EQ(full({1}, 1e15, DType::Int64).to_vector<int64_t>()[0], int64_t{1000000000000000});
  EXPECT_ERROR_WITH(full({1}, int64_t{1} << 40, DType::Int32),
                    "mlsys::full: value 1099511627776 cannot be converted to int32");
  EXPECT_ERROR_WITH(Scalar(std::numeric_limits<uint64_t>::max()), "does not fit in int64");
}

// ============================================================================================
// astype: always a copy; one rounding into float32; no undefined float -> int casts
// ============================================================================================

TEST(TensorAstype, SameDtypeIsACopy) {
  for (DType dtype : {DType::Float32, DType::Int32, DType::Int64}) {
    Tensor t = arange(0, 4, 1, dtype);
    Tensor c = t.astype(dtype);
    EXPECT_NE(c.storage(), t.storage()) << to_string(dtype);
    c.fill_(9);
    EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3})) << to_string(dtype);
  }
  Tensor v = iota({3, 4}).t();  // a non-contiguous view comes back contiguous
  EXPECT_TRUE(v.astype(DType::Float32).is_contiguous());
  EXPECT_EQ(v.astype(DType::Float32).to_vector<float>(), v.contiguous().to_vector<float>());
}

TEST(TensorAstype, Int64ToFloat32RoundsOnce) {
  // v = 2^60 + 2^36 + 1 is just above the midpoint between the float32 neighbours 2^60 and
  // 2^60 + 2^37, so it rounds up. Through double it would first lose the +1 (double spacing
  // is 2^8 there), land exactly on the midpoint and round to even: 2^60.
  const int64_t v = (int64_t{1} << 60) + (int64_t{1} << 36) + 1;
  const float up = std::ldexp(1.f, 60) + std::ldexp(1.f, 37);
  Tensor t = from_vector<int64_t>({v, -v}, {2});
  EXPECT_EQ(t.astype(DType::Float32).to_vector<float>(), (std::vector<float>{up, -up}));
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{up, -up}));
  EXPECT_EQ(t.at({0}), up);
  EXPECT_EQ(from_vector<int32_t>({16777217}, {1}).astype(DType::Float32).item(), 16777216.f);
}

TEST(TensorAstype, FloatToIntTruncatesAndRefusesWhatHasNoIntegerValue) {
  Tensor ok = from_vector<float>({-2.75f, 2.75f, -2147483648.f, 2147483520.f}, {4});
  EXPECT_EQ(ok.astype(DType::Int32).to_vector<int32_t>(),
            (std::vector<int32_t>{-2, 2, -2147483647 - 1, 2147483520}));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Bad { float value; DType dtype; const char* shown; };
  const Bad bad[] = {{nan, DType::Int32, "value nan"},
                     {nan, DType::Int64, "value nan"},
                     {inf, DType::Int32, "value inf"},
                     {-inf, DType::Int64, "value -inf"},
                     {2147483648.f, DType::Int32, "value 2147483648"},
                     {-3e9f, DType::Int32, "value -3000000000"},
                     {9.3e18f, DType::Int64, "value 9.3000003"},
                     {-1e19f, DType::Int64, "value -9.99999998"},
                     {3.4e38f, DType::Int64, "value 3.3999999"}};
  for (const Bad& b : bad) {
    Tensor t = from_vector<float>({1.f, b.value}, {2});
    EXPECT_ERROR_WITH(t.astype(b.dtype), std::string("mlsys::astype: ") + b.shown);
    EXPECT_ERROR_WITH(t.astype(b.dtype), std::string("cannot be converted to ") + to_string(b.dtype));
  }
  // -2^63 is the one int64 limit a float holds exactly.
  EXPECT_EQ(from_vector<float>({-9223372036854775808.f}, {1}).astype(DType::Int64).item_int(),
            std::numeric_limits<int64_t>::min());
  EXPECT_ERROR_WITH(from_vector<float>({9223372036854775808.f}, {1}).astype(DType::Int64),
                    "value 9.2233720368547758e+18 cannot be converted to int64");
  // int64 -> int32 out of range, element reads and fills go through the same rule.
  EXPECT_ERROR_WITH(from_vector<int64_t>({int64_t{1} << 31}, {1}).astype(DType::Int32),
                    "value 2147483648 cannot be converted to int32");
  EXPECT_ERROR_WITH(from_vector<float>({nan}, {1}).item_int(), "mlsys::Tensor::item_int: value nan");
  EXPECT_ERROR_WITH(from_vector<float>({inf}, {1}).to_vector<int64_t>(), "value inf");
  EXPECT_ERROR_WITH(zeros({1}, DType::Int32).fill_(nan), "mlsys::fill_: value nan");
  EXPECT_ERROR_WITH(zeros({1}, DType::Int64).set({0}, 1e300), "value 1.0000000000000001e+300");
}

// ============================================================================================
// Sizes and bounds: element counts cannot overflow; arange needs finite bounds
// ============================================================================================

TEST(TensorSizes, ElementCountsAreCheckedWhenShapesAreMade) {
  const int64_t big = int64_t{1} << 62;
  EXPECT_ERROR_WITH(ones({3, big}), "mlsys::Tensor: shape [3, 4611686018427387904] has more elements");
  EXPECT_ERROR_WITH(zeros({big, 4}, DType::Int64), "has more elements than");
  EXPECT_ERROR_WITH(empty({int64_t{1} << 31, int64_t{1} << 31, 1 << 30}), "has more elements than");
  EXPECT_ERROR_WITH(scalar(1.f).expand({big, 4}), "mlsys::Tensor::make_view: shape");
  EXPECT_ERROR_WITH(iota({4}).reshape({big, 4, -1}), "mlsys::reshape: shape");
  // At the limit itself nothing overflows (nothing is allocated for a zero-size dim).
  EXPECT_EQ(empty({kMaxNumel, 0}).numel(), 0);
  EXPECT_EQ(scalar(1.f).expand({kMaxNumel}).numel(), kMaxNumel);
}

TEST(TensorSizes, ArangeRefusesNonFiniteBoundsAndHugeLengths) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_ERROR_WITH(arange(0, inf), "mlsys::arange: start, stop and step must be finite, got start=0, stop=inf");
  EXPECT_ERROR_WITH(arange(-inf, 0), "must be finite");
  EXPECT_ERROR_WITH(arange(0, nan), "stop=nan");
  EXPECT_ERROR_WITH(arange(nan, 1), "start=nan");
  EXPECT_ERROR_WITH(arange(0, 1, nan), "step=nan");
  EXPECT_ERROR_WITH(arange(0, 1e300, 1e-300), "at most");
  EXPECT_ERROR_WITH(arange(2e9, 3e9, 5e8, DType::Int32), "value 2500000000 cannot be converted to int32");
  EXPECT_EQ(arange(5, 0).numel(), 0);  // an empty range is still fine
  EXPECT_EQ(arange(0, -3, -1).to_vector<float>(), (std::vector<float>{0, -1, -2}));
}

TEST(TensorErrors, OutOfRangeEnumsAreRefused) {
  EXPECT_ERROR_WITH(zeros({2}, static_cast<DType>(7)), "mlsys::Tensor: dtype DType(7) is not a dtype");
  EXPECT_ERROR_WITH(zeros({2}, DType::Float32, static_cast<Device>(5)), "Device(5) is not a device");
  EXPECT_ERROR_WITH(iota({2}).astype(static_cast<DType>(-1)), "mlsys::astype: dtype DType(-1)");
  EXPECT_ERROR_WITH(arange(0, 3, 1, static_cast<DType>(3)), "DType(3) is not a dtype");
}

// ============================================================================================
// Random numbers
// ============================================================================================

TEST(Random, PhiloxKnownAnswers) {
  // Known-answer vectors of Philox-4x32-10 from the Random123 distribution (kat_vectors).
  Philox4x32 r = philox4x32({{0, 0, 0, 0}}, 0, 0);
  EXPECT_EQ(r.v[0], 0x6627e8d5u);
  EXPECT_EQ(r.v[1], 0xe169c58du);
  EXPECT_EQ(r.v[2], 0xbc57ac4cu);
  EXPECT_EQ(r.v[3], 0x9b00dbd8u);
  r = philox4x32({{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu);
  EXPECT_EQ(r.v[0], 0x408f276du);
  EXPECT_EQ(r.v[1], 0x41c83b0eu);
  EXPECT_EQ(r.v[2], 0xa20bc7c6u);
  EXPECT_EQ(r.v[3], 0x6d5451fdu);
  r = philox4x32({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  EXPECT_EQ(r.v[0], 0xd16cfe09u);
  EXPECT_EQ(r.v[1], 0x94fdccebu);
  EXPECT_EQ(r.v[2], 0x5001e420u);
  EXPECT_EQ(r.v[3], 0x24126ea1u);
}

TEST(Random, SeededTensorsAreReproducibleAndWellDistributed) {
  Tensor a = rand({1000}, 42), b = rand({1000}, 42), c = rand({1000}, 43);
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_NE(a.to_vector<float>(), c.to_vector<float>());
  // Element i is defined by (seed, i) alone: a prefix of a larger tensor matches.
  EXPECT_EQ(rand({10}, 42).to_vector<float>()[7], a.to_vector<float>()[7]);
  EXPECT_EQ(a.to_vector<float>()[5], uniform_from_word(philox_word(42, 5)));
  Tensor n = randn({100000}, 7);
  double m = mean(n).item(), var = mean(n * n).item() - m * m;
  EXPECT_NEAR(m, 0.0, 0.02);   // standard error 0.0032
  EXPECT_NEAR(var, 1.0, 0.03);  // standard error ~0.0045
  Tensor u = rand({100000}, 9, -2.f, 2.f);
  EXPECT_GE(min(u).item(), -2.f);
  EXPECT_LT(max(u).item(), 2.f);
  EXPECT_NEAR(mean(u).item(), 0.0, 0.03);
  Tensor k = randint({10000}, 3, 5, 8);
  for (int64_t v : k.to_vector<int64_t>()) {
    EXPECT_GE(v, 5);
    EXPECT_LT(v, 8);
  }
}

// ============================================================================================
// Bad input: every misuse is an mlsys::Error with the op and both sides named
// ============================================================================================

TEST(TensorErrors, ClearMessages) {
  Tensor t = iota({2, 3});
  EXPECT_ERROR_WITH(t.reshape({4, 2}), "has 8 elements, but the input [2, 3] has 6");
  EXPECT_ERROR_WITH(t.reshape({-1, -1}), "only one dim may be -1");
  EXPECT_ERROR_WITH(t.permute({0, 0}), "appears twice");
  EXPECT_ERROR_WITH(t.permute({0}), "expected 2 dims");
  EXPECT_ERROR_WITH(t.transpose(0, 2), "axis 2 is out of range for a 2-d tensor");
  EXPECT_ERROR_WITH(t.at({2, 0}), "index 2 is out of range for dim 0 of size 2");
  EXPECT_ERROR_WITH(t.at({0}), "expected 2 indices");
  EXPECT_ERROR_WITH(t.select(1, 5), "out of range");
  EXPECT_ERROR_WITH(t.slice(0, 0, 2, 0), "step must be positive");
  EXPECT_ERROR_WITH(t.item(), "expected a tensor with one element");
  EXPECT_ERROR_WITH(t.data<int64_t>(), "expected dtype int64, got float32");
  EXPECT_ERROR_WITH(zeros({1, 1, 1, 1, 1, 1, 1, 1, 1}), "at most 8 dims");
  EXPECT_ERROR_WITH(zeros({2, -3}), "non-negative");
  EXPECT_ERROR_WITH((from_vector<float>({1, 2, 3}, {2, 2})), "needs 4 values, got 3");
  EXPECT_ERROR_WITH(t.copy_(arange(0, 6, 1, DType::Int64).reshape({2, 3})), "expected dtype float32");
  EXPECT_ERROR_WITH(Tensor().shape().size() == 0 ? Tensor().contiguous() : Tensor(), "undefined");
  EXPECT_ERROR_WITH(randint({2}, 0, 5, 5), "expected low < high");
  if (!cuda_available()) EXPECT_ERROR_WITH(t.to(Device::CUDA), "cannot move float32[2, 3] cpu to cuda");
}
