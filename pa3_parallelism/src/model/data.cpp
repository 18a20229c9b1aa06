// Tiny Shakespeare loading, the character tokenizer and batch sampling (contracts in pa3/data.h).
#include "pa3/data.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "check.h"
#include "mlsys/random.h"

#ifndef PA3_DATA_DIR
#error "PA3_DATA_DIR must be defined by the build (pa3_parallelism/model.cmake)"
#endif

namespace pa3 {

using detail::fail;

// ================================================================================================
// SHA-256 (FIPS 180-4)
// ================================================================================================

namespace {
constexpr uint32_t kSha256K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void sha256_block(uint32_t h[8], const unsigned char* p) {
  uint32_t w[64];
  for (int i = 0; i < 16; ++i) {
    w[i] = (uint32_t(p[4 * i]) << 24) | (uint32_t(p[4 * i + 1]) << 16) |
           (uint32_t(p[4 * i + 2]) << 8) | uint32_t(p[4 * i + 3]);
  }
  for (int i = 16; i < 64; ++i) {
    const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; ++i) {
    const uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const uint32_t ch = (e & f) ^ (~e & g);
    const uint32_t t1 = k + s1 + ch + kSha256K[i] + w[i];
    const uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    const uint32_t t2 = s0 + maj;
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}
}  // namespace

std::string sha256_hex(const std::string& bytes) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  // The message, a 1 bit, zeros, and the bit length as 64-bit big-endian, in 64-byte blocks.
  std::string msg = bytes;
  const uint64_t bit_len = static_cast<uint64_t>(bytes.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bit_len >> (8 * i)) & 0xff));
  for (size_t off = 0; off < msg.size(); off += 64) {
    sha256_block(h, reinterpret_cast<const unsigned char*>(msg.data() + off));
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (uint32_t word : h) {
    for (int i = 7; i >= 0; --i) out.push_back(hex[(word >> (4 * i)) & 0xf]);
  }
  return out;
}

// ================================================================================================
// Loading
// ================================================================================================

std::string data_dir() {
  const char* env = std::getenv("MLSYS_PA3_DATA_DIR");
  if (env && *env) return env;
  return PA3_DATA_DIR;
}

std::string load_tinyshakespeare() {
  const std::string path = data_dir() + "/tinyshakespeare.txt";
  const char* op = "load_tinyshakespeare";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(op, "path", "cannot open " + path +
                         " (it ships in pa3_parallelism/data/; set MLSYS_PA3_DATA_DIR to the "
                         "folder holding tinyshakespeare.txt if you moved it)");
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (static_cast<int64_t>(text.size()) != kTinyShakespeareBytes) {
    fail(op, "path", path + ": expected " + std::to_string(kTinyShakespeareBytes) +
                         " bytes, got " + std::to_string(text.size()) +
                         " (a truncated or modified copy; restore it from the repository)");
  }
  const std::string sha = sha256_hex(text);
  if (sha != kTinyShakespeareSha256) {
    fail(op, "path", path + ": expected sha256 " + kTinyShakespeareSha256 + ", got " + sha +
                         " (a modified copy; restore it from the repository)");
  }
  return text;
}

// ================================================================================================
// Tokenizer and split
// ================================================================================================

CharTokenizer::CharTokenizer(const std::string& text) {
  bool seen[256] = {};
  for (unsigned char c : text) seen[c] = true;
  std::fill(std::begin(id_of_), std::end(id_of_), -1);
  for (int c = 0; c < 256; ++c) {
    if (!seen[c]) continue;
    id_of_[c] = static_cast<int32_t>(chars_.size());
    chars_.push_back(static_cast<char>(c));
  }
}

int64_t CharTokenizer::padded_vocab_size() const { return (vocab_size() + 3) / 4 * 4; }

std::vector<int32_t> CharTokenizer::encode(const std::string& text) const {
  std::vector<int32_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (id_of_[c] < 0 || chars_.empty()) {
      fail("CharTokenizer::encode", "text", "byte " + std::to_string(c) + " at position " +
                                                std::to_string(i) + " is not in the vocabulary");
    }
    ids[i] = id_of_[c];
  }
  return ids;
}

std::string CharTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) {
      fail("CharTokenizer::decode", "ids", "expected ids in [0, " + std::to_string(vocab_size()) +
                                               "), got " + std::to_string(id));
    }
    out.push_back(chars_[id]);
  }
  return out;
}

Dataset make_dataset(const std::string& text) {
  Dataset d;
  d.tokenizer = CharTokenizer(text);
  const std::vector<int32_t> ids = d.tokenizer.encode(text);
  const size_t n_train = ids.size() * 9 / 10;
  d.train.assign(ids.begin(), ids.begin() + n_train);
  d.val.assign(ids.begin() + n_train, ids.end());
  return d;
}

Dataset load_dataset() { return make_dataset(load_tinyshakespeare()); }

// ================================================================================================
// Batches
// ================================================================================================

Batch global_batch(const std::vector<int32_t>& tokens, int64_t step, uint64_t seed, int64_t B,
                   int64_t T) {
  const char* op = "global_batch";
  if (B <= 0 || T <= 0) {
    fail(op, "B", "expected B > 0 and T > 0, got B = " + std::to_string(B) + ", T = " +
                      std::to_string(T));
  }
  if (step < 0) fail(op, "step", "expected >= 0, got " + std::to_string(step));
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n <= T) {
    fail(op, "tokens", "expected more than T = " + std::to_string(T) + " tokens, got " +
                           std::to_string(n));
  }
  Batch batch{mlsys::empty({B, T}, mlsys::DType::Int32), mlsys::empty({B, T}, mlsys::DType::Int32)};
  int32_t* x = batch.inputs.data<int32_t>();
  int32_t* y = batch.targets.data<int32_t>();
  const uint64_t windows = static_cast<uint64_t>(n - T);  // start offsets 0 .. n - T - 1
  for (int64_t b = 0; b < B; ++b) {
    const mlsys::Philox4x32 ctr{{static_cast<uint32_t>(b), static_cast<uint32_t>(step),
                                 static_cast<uint32_t>(static_cast<uint64_t>(step) >> 32),
                                 0xDA7Au}};
    const mlsys::Philox4x32 r =
        mlsys::philox4x32(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    const uint64_t word = static_cast<uint64_t>(r.v[0]) | (static_cast<uint64_t>(r.v[1]) << 32);
    const int64_t start = static_cast<int64_t>(word % windows);
    for (int64_t t = 0; t < T; ++t) {
      x[b * T + t] = tokens[start + t];
      y[b * T + t] = tokens[start + t + 1];
    }
  }
  return batch;
}

std::pair<int64_t, int64_t> shard_rows(int64_t B, int64_t rank, int64_t world) {
  const char* op = "shard_rows";
  if (world <= 0 || rank < 0 || rank >= world) {
    fail(op, "rank", "expected 0 <= rank < world, got rank " + std::to_string(rank) +
                         " of world " + std::to_string(world));
  }
  if (B % world != 0) {
    fail(op, "B", "expected a multiple of world = " + std::to_string(world) + ", got " +
                      std::to_string(B));
  }
  const int64_t rows = B / world;
  return {rank * rows, (rank + 1) * rows};
}

Batch batch_shard(const Batch& batch, int64_t rank, int64_t world) {
  detail::check_rank("batch_shard", "batch.inputs", batch.inputs, 2);
  const auto [begin, end] = shard_rows(batch.inputs.size(0), rank, world);
  return {batch.inputs.slice(0, begin, end).clone(), batch.targets.slice(0, begin, end).clone()};
}

}  // namespace pa3
