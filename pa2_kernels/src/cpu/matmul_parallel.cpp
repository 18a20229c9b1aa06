// pa2_kernels/src/cpu/matmul_parallel.cpp — PA2 Task 1.5: multi-threading with OpenMP.
// Edit only the marked region; the rest is given. Handout: handouts/pa2.md#task-15
//
// Task 1.4's blocked loop nest, run on every core. It calls your pack_a, pack_b and
// micro_kernel from Task 1.4 (matmul_simd.cpp). In official grading this task is linked with
// the staff's Task 1.4, so a bug there does not cost points here; locally, finish 1.4 first.
#include <omp.h>

#include <algorithm>

#include "pa2/cpu.h"

namespace pa2::cpu {

// Block sizes, as in Task 1.4 (kMC is the largest row block; see the plan for the actual one).
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 20 * kMR;
constexpr int64_t kNC = 4096;

// C[M, N] = A[M, K] @ B[K, N] (contract in pa2/cpu.h: row-major, leading dimensions, C
// overwritten, any M, N, K >= 1), on omp_get_max_threads() threads. No two threads may ever
// write the same element of C, and nobody may read a packing buffer while another thread is
// still filling it or overwrite it while another is still reading it.
// Plan:
//   1. Zero C, rows split over the threads (#pragma omp parallel for).
//   2. Row block: T = omp_get_max_threads(); with kMC-row blocks, M = 256 on 2 threads gives 3
//      blocks, one thread does two and the other waits. So pick the number of row blocks as a
//      multiple of T, blocks = T * ceil(M / (T * kMC)), and mc_block = round_up(ceil(M /
//      blocks), kMR) (<= kMC).
//   3. One packed-B buffer shared by all threads (allocate it before the parallel region);
//      one packed-A buffer per thread (allocate it inside the region, so each thread has its
//      own).
//   4. Inside one #pragma omp parallel region, every thread runs the jc and pc loops:
//      a. pack the B block together: #pragma omp for over its column panels s (panel s is
//         pack_b of the kc x min(kNR, nc - s*kNR) block at column jc + s*kNR, written to
//         Bp + s*kNR*kc). The implicit barrier at the end of the omp for guarantees that Bp
//         is complete before anyone uses it.
//      b. #pragma omp for schedule(dynamic) over the row blocks ic: pack your A block into
//         your own buffer, then the jr / ir micro-kernel loops of Task 1.4 on rows ic..ic+mc.
//         Each thread writes only its own rows of C. The implicit barrier at the end keeps
//         the next pc iteration from repacking Bp under a thread still using it.
//   5. An exception escaping the parallel region aborts the program: wrap the body of each
//      omp-for iteration in errors.run([&] { ... }) (ThreadErrors, pa2/cpu.h) and call
//      errors.rethrow() after the region.
// Tests: as Task 1.4, with 1, 2 and 3 threads (omp_set_num_threads); results must not
// depend on the thread count beyond fp32 rounding.
void matmul_parallel(const float* A, const float* B, float* C, int64_t M, int64_t N, int64_t K,
                     int64_t lda, int64_t ldb, int64_t ldc) {
  check_matmul_args("matmul_parallel", A, B, C, M, N, K, lda, ldb, ldc);
  // TODO(student): PA2 Task 1.5 — see handouts/pa2.md#task-15
  throw mlsys::NotImplemented("PA2 Task 1.5", "pa2_kernels/src/cpu/matmul_parallel.cpp", "handouts/pa2.md#task-15");
}

}  // namespace pa2::cpu
