// PA2 Task 1.4 public tests (pa2_kernels/src/cpu/matmul_simd.cpp): the packed layouts of
// pack_a and pack_b element by element, the micro-kernel on full and edge tiles, and
// matmul_simd against a double-precision product (tolerances: pa2_cpu_test_util.h).
#include "pa2_cpu_test_util.h"

namespace {

using pa2::cpu::kMR;
using pa2::cpu::kNR;
using pa2::test::kNaN;
using pa2::test::kSentinel;
using pa2::test::Report;
using pa2::test::same_bits;
using pa2::test::Strided;

// Packs an mc x kc block of a random matrix (padding NaN) and compares every float of Ap with
// the layout of pa2/cpu.h; the floats after packed_a_size must stay untouched.
::testing::AssertionResult pack_a_case(int64_t mc, int64_t kc, int64_t pad) {
  Strided A(mc, kc, pad, kNaN);
  std::vector<float> v = pa2::test::uniform(mc * kc, 11);
  for (int64_t i = 0; i < mc; ++i)
    for (int64_t p = 0; p < kc; ++p) A.at(i, p) = v[size_t(i * kc + p)];
  const int64_t size = pa2::cpu::packed_a_size(mc, kc);
  std::vector<float> Ap(size_t(size + 64), kSentinel);
  pa2::cpu::pack_a(A.data.data(), A.ld, mc, kc, Ap.data());
  pa2::test::record_flat("Ap", Ap.data(), size, 0.0, 0.0);  // a copy: exact
  Report report("pack_a of a " + std::to_string(mc) + " x " + std::to_string(kc) + " block");
  for (int64_t r = 0; r * kMR < mc; ++r)
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t i = 0; i < kMR; ++i) {
        int64_t row = r * kMR + i;
        float want = row < mc ? A.at(row, p) : 0.f;
        report.compare(row, p, Ap[size_t(r * kMR * kc + p * kMR + i)], want, 0.0);
      }
  for (int64_t k = size; k < size + 64; ++k)
    if (!same_bits(Ap[size_t(k)], kSentinel)) report.fail(k, 0, "wrote past packed_a_size");
  report.note("entry [row, p] is Ap[r*kMR*kc + p*kMR + i] with row = r*kMR + i; rows >= mc are 0.");
  return report.result();
}

::testing::AssertionResult pack_b_case(int64_t kc, int64_t nc, int64_t pad) {
  Strided B(kc, nc, pad, kNaN);
  std::vector<float> v = pa2::test::uniform(kc * nc, 12);
  for (int64_t p = 0; p < kc; ++p)
    for (int64_t j = 0; j < nc; ++j) B.at(p, j) = v[size_t(p * nc + j)];
  const int64_t size = pa2::cpu::packed_b_size(kc, nc);
  std::vector<float> Bp(size_t(size + 64), kSentinel);
  pa2::cpu::pack_b(B.data.data(), B.ld, kc, nc, Bp.data());
  pa2::test::record_flat("Bp", Bp.data(), size, 0.0, 0.0);  // a copy: exact
  Report report("pack_b of a " + std::to_string(kc) + " x " + std::to_string(nc) + " block");
  for (int64_t s = 0; s * kNR < nc; ++s)
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t j = 0; j < kNR; ++j) {
        int64_t col = s * kNR + j;
        float want = col < nc ? B.at(p, col) : 0.f;
        report.compare(p, col, Bp[size_t(s * kNR * kc + p * kNR + j)], want, 0.0);
      }
  for (int64_t k = size; k < size + 64; ++k)
    if (!same_bits(Bp[size_t(k)], kSentinel)) report.fail(k, 0, "wrote past packed_b_size");
  report.note("entry [p, col] is Bp[s*kNR*kc + p*kNR + j] with col = s*kNR + j; cols >= nc are 0.");
  return report.result();
}

// One micro-kernel call on random packed panels, C = C0 + Ap @ Bp on its mr x nr corner of a
// kMR+2 x kNR+5 array; everything else must keep its sentinel.
::testing::AssertionResult micro_case(int64_t kc, int64_t mr, int64_t nr) {
  std::vector<float> Ap = pa2::test::uniform(kMR * kc, 21), Bp = pa2::test::uniform(kNR * kc, 22);
  Strided C(kMR + 2, kNR, 5, kSentinel);
  std::vector<float> c0 = pa2::test::uniform(mr * nr, 23);
  for (int64_t i = 0; i < kMR + 2; ++i)
    for (int64_t j = 0; j < kNR; ++j) C.at(i, j) = (i < mr && j < nr) ? c0[size_t(i * nr + j)] : kSentinel;
  pa2::cpu::micro_kernel(kc, Ap.data(), Bp.data(), C.data.data(), C.ld, mr, nr);
  Report report("micro_kernel(kc = " + std::to_string(kc) + ", mr = " + std::to_string(mr) +
                ", nr = " + std::to_string(nr) + ")");
  double max_tol = 0;  // for the record of the tile
  for (int64_t i = 0; i < kMR + 2; ++i)
    for (int64_t j = 0; j < C.ld; ++j) {
      if (i < mr && j < nr) {
        double want = c0[size_t(i * nr + j)], bound = std::fabs(want);
        for (int64_t p = 0; p < kc; ++p) {
          double t = double(Ap[size_t(p * kMR + i)]) * Bp[size_t(p * kNR + j)];
          want += t;
          bound += std::fabs(t);
        }
        const double tol = 8 * std::sqrt(double(kc + 1)) * pa2::test::kU * bound;
        report.compare(i, j, C.at(i, j), want, tol);
        max_tol = std::max(max_tol, tol);
      } else if (!same_bits(C.at(i, j), kSentinel)) {
        report.fail(i, j, "written, but outside the mr x nr tile");
      }
    }
  Strided tile(mr, nr, 0, 0.f);
  for (int64_t i = 0; i < mr; ++i)
    for (int64_t j = 0; j < nr; ++j) tile.at(i, j) = C.at(i, j);
  pa2::test::record_body("C", tile, 0.0, max_tol);
  report.note("C[i, j] must become C[i, j] + sum_p Ap[p*kMR + i] * Bp[p*kNR + j] (add, do not "
              "overwrite); edge tiles (mr < kMR or nr < kNR) may only touch C[0:mr, 0:nr].");
  return report.result();
}

::testing::AssertionResult simd(int64_t M, int64_t N, int64_t K, int64_t pad = 0) {
  return pa2::test::check_matmul(pa2::cpu::matmul_simd, {M, N, K, pad});
}

}  // namespace

TEST(Task1_4_PackA, OnePanel) { EXPECT_TRUE(pack_a_case(kMR, 9, 0)); }
TEST(Task1_4_PackA, PartialLastPanel_13x7) { EXPECT_TRUE(pack_a_case(13, 7, 3)); }
TEST(Task1_4_PackA, Tiny_1x1) { EXPECT_TRUE(pack_a_case(1, 1, 0)); }
TEST(Task1_4_PackA, Block_125x256) { EXPECT_TRUE(pack_a_case(125, 256, 5)); }

TEST(Task1_4_PackB, OnePanel) { EXPECT_TRUE(pack_b_case(9, kNR, 0)); }
TEST(Task1_4_PackB, PartialLastPanel_7x45) { EXPECT_TRUE(pack_b_case(7, 45, 3)); }
TEST(Task1_4_PackB, Tiny_1x1) { EXPECT_TRUE(pack_b_case(1, 1, 0)); }
TEST(Task1_4_PackB, Block_256x300) { EXPECT_TRUE(pack_b_case(256, 300, 5)); }

TEST(Task1_4_MicroKernel, FullTile) { EXPECT_TRUE(micro_case(37, kMR, kNR)); }
TEST(Task1_4_MicroKernel, FullTile_kc1) { EXPECT_TRUE(micro_case(1, kMR, kNR)); }
TEST(Task1_4_MicroKernel, EdgeTile_3x5) { EXPECT_TRUE(micro_case(29, 3, 5)); }
TEST(Task1_4_MicroKernel, EdgeRows_1xNR) { EXPECT_TRUE(micro_case(16, 1, kNR)); }
TEST(Task1_4_MicroKernel, EdgeCols_MRx1) { EXPECT_TRUE(micro_case(16, kMR, 1)); }

TEST(Task1_4_MatmulSimd, Tiny_1x1x1) { EXPECT_TRUE(simd(1, 1, 1)); }
TEST(Task1_4_MatmulSimd, OuterProduct_K1) { EXPECT_TRUE(simd(37, 23, 1)); }
TEST(Task1_4_MatmulSimd, RowVector_M1) { EXPECT_TRUE(simd(1, 300, 200)); }
TEST(Task1_4_MatmulSimd, ColumnVector_N1) { EXPECT_TRUE(simd(300, 1, 200)); }
TEST(Task1_4_MatmulSimd, Primes_17x13x29) { EXPECT_TRUE(simd(17, 13, 29)); }
TEST(Task1_4_MatmulSimd, WholePanels_120x64x256) { EXPECT_TRUE(simd(120, 64, 256)); }
TEST(Task1_4_MatmulSimd, PartialPanels_131x77x300) { EXPECT_TRUE(simd(131, 77, 300)); }
TEST(Task1_4_MatmulSimd, PaddedLeadingDims_100x270x140) { EXPECT_TRUE(simd(100, 270, 140, 7)); }
TEST(Task1_4_MatmulSimd, WideN_7x4500x300) { EXPECT_TRUE(simd(7, 4500, 300)); }
TEST(Task1_4_MatmulSimd, Large_512x384x600) { EXPECT_TRUE(simd(512, 384, 600)); }
