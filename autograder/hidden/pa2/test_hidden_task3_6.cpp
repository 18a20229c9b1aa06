// PA2 GPU hidden tests, Task 3.6 (float4 vectorized SGEMM): one case per shape family of
// hidden_sgemm.h (degenerate, odd, wide, tall over several launches, large vs cuBLAS).
#include "hidden_sgemm.h"

using pa2::gpu::Sgemm;

PA2_HIDDEN_SGEMM_TESTS(Task3_6_Hidden, Sgemm::Vectorized, 600)

// Residues mod 4 of M, N, K together with sizes around the 128 x 128 tile.
TEST(Task3_6_Hidden, TileEdges) {
  MLSYS_SKIP_WITHOUT_GPU();
  uint64_t seed = 970;
  for (int M : {127, 128, 129})
    for (int N : {126, 127, 128, 129})
      pa2::gpu::test::check_sgemm(Sgemm::Vectorized, {M, N, 9 + M % 4}, seed++);
}
