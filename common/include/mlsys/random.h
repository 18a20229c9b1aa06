// mlsys/random.h — a counter-based random number generator (Philox-4x32-10).
//
// Philox (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) maps a 64-bit
// key and a 128-bit counter to four 32-bit random words with integer arithmetic only, so the
// same (seed, index) gives the same bits on every platform, compiler and device, with no state
// to carry between calls. Element i of a tensor made from seed s uses key s and counter i/4,
// word i%4. Uniform floats keep the top 24 bits (exact in float32); normals use Box-Muller on
// two uniforms computed in double and rounded once to float32. Tensors on CUDA are generated on
// the host with the same function and copied, so CPU and GPU values are identical.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define MLSYS_HOST_DEVICE __host__ __device__
#else
#define MLSYS_HOST_DEVICE
#endif

namespace mlsys {

struct Philox4x32 {
  uint32_t v[4];
};

MLSYS_HOST_DEVICE inline void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi,
                                             uint32_t& lo) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// Ten rounds of Philox-4x32 on a 128-bit counter with a 64-bit key (k0 low, k1 high); the
// multipliers and Weyl constants are the ones from the paper.
MLSYS_HOST_DEVICE inline Philox4x32 philox4x32(Philox4x32 ctr, uint32_t k0, uint32_t k1) {
  uint32_t c0 = ctr.v[0], c1 = ctr.v[1], c2 = ctr.v[2], c3 = ctr.v[3];
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(0xD2511F53u, c0, hi0, lo0);
    philox_mulhilo(0xCD9E8D57u, c2, hi1, lo1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// The i-th 32-bit random word of stream `seed`.
MLSYS_HOST_DEVICE inline uint32_t philox_word(uint64_t seed, uint64_t i) {
  const uint64_t block = i >> 2;
  Philox4x32 ctr{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32), 0u, 0u}};
  return philox4x32(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)).v[i & 3];
}

// Uniform in [0, 1) with 24 random bits: exactly representable in float32.
MLSYS_HOST_DEVICE inline float uniform_from_word(uint32_t w) {
  return static_cast<float>(w >> 8) * (1.0f / 16777216.0f);
}

}  // namespace mlsys
