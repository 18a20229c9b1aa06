// pa3/data.h — Tiny Shakespeare, a character tokenizer, the train/validation split and the
// global batch every rank samples identically.
//
// The text ships in pa3_parallelism/data/tinyshakespeare.txt (provenance and license in the
// README there). The loader finds it through the directory compiled into the library
// (PA3_DATA_DIR, the source folder's data/) or the environment variable MLSYS_PA3_DATA_DIR,
// and checks its size and SHA-256 before use.
//
// Batches: step s of a run with seed `seed` draws B windows of T+1 tokens; row b starts at an
// offset taken from Philox-4x32 keyed by the seed with counter (b, s), so every rank computes
// the same global batch without communication. Rank r of N trains on the contiguous rows
// [r B/N, (r+1) B/N): the ranks' shards, stacked in rank order, are the single-process batch.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mlsys/tensor.h"

namespace pa3 {

using mlsys::Tensor;

constexpr int64_t kTinyShakespeareBytes = 1115394;
constexpr const char* kTinyShakespeareSha256 =
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed";

// The data directory: $MLSYS_PA3_DATA_DIR when set and non-empty, else the compiled-in one.
std::string data_dir();
// SHA-256 of a byte string, as 64 lowercase hex digits.
std::string sha256_hex(const std::string& bytes);
// data_dir()/tinyshakespeare.txt, after checking its size and SHA-256; throws mlsys::Error
// naming the path, what was expected and what was found (and how to fix it).
std::string load_tinyshakespeare();

// A character-level tokenizer: the vocabulary is the distinct bytes of a text in increasing
// order (Tiny Shakespeare: 65 symbols, '\n' = 0, ' ' = 1, ...), a symbol's id its rank.
class CharTokenizer {
 public:
  CharTokenizer() = default;
  explicit CharTokenizer(const std::string& text);
  int64_t vocab_size() const { return static_cast<int64_t>(chars_.size()); }
  // vocab_size rounded up to a multiple of 4 (so tensor parallelism can split it evenly).
  int64_t padded_vocab_size() const;
  const std::string& chars() const { return chars_; }
  // Throws mlsys::Error on a byte outside the vocabulary (encode) or an id >= vocab_size.
  std::vector<int32_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int32_t>& ids) const;

 private:
  std::string chars_;
  int32_t id_of_[256] = {};  // -1 for bytes outside the vocabulary
};

struct Dataset {
  CharTokenizer tokenizer;
  std::vector<int32_t> train;  // the first N * 9 / 10 tokens (integer division)
  std::vector<int32_t> val;    // the remaining tokens
};
// Tokenizes `text` with its own vocabulary and splits it 90/10.
Dataset make_dataset(const std::string& text);
// make_dataset(load_tinyshakespeare()).
Dataset load_dataset();

struct Batch {
  Tensor inputs;   // int32 [B, T]: tokens[o_b .. o_b + T)
  Tensor targets;  // int32 [B, T]: tokens[o_b + 1 .. o_b + T + 1)  (the next token)
};

// The whole global batch of `step` (see the top of this file). Requires tokens.size() > T.
Batch global_batch(const std::vector<int32_t>& tokens, int64_t step, uint64_t seed, int64_t B,
                   int64_t T);
// Rows [begin, end) of rank `rank` out of `world` for a batch of B rows: [r B/N, (r+1) B/N).
// Requires B % world == 0.
std::pair<int64_t, int64_t> shard_rows(int64_t B, int64_t rank, int64_t world);
// Rank `rank`'s rows of `batch` (contiguous copies).
Batch batch_shard(const Batch& batch, int64_t rank, int64_t world);

}  // namespace pa3
