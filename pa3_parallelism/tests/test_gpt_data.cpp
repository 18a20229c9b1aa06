// Tests of the data pipeline (pa3/data.h): SHA-256 against the FIPS 180-4 examples, the shipped
// file's checks, the tokenizer, the 90/10 split and the global batch with its rank shards.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "pa3/data.h"

namespace {

using mlsys::Tensor;

const pa3::Dataset& dataset() {
  static const pa3::Dataset data = pa3::load_dataset();
  return data;
}

TEST(Pa3ModelData, Sha256MatchesPublishedTestVectors) {
  // FIPS 180-4 / NIST examples.
  EXPECT_EQ(pa3::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(pa3::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(pa3::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Pa3ModelData, LoadsTheShippedTextAndRejectsAModifiedCopy) {
  const std::string text = pa3::load_tinyshakespeare();
  EXPECT_EQ(static_cast<int64_t>(text.size()), pa3::kTinyShakespeareBytes);
  EXPECT_EQ(text.substr(0, 14), "First Citizen:");
  // A copy with one byte changed, found through MLSYS_PA3_DATA_DIR.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pa3_data_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& content) {
    std::ofstream(dir / "tinyshakespeare.txt", std::ios::binary) << content;
  };
  std::string changed = text;
  changed[100] = changed[100] == 'a' ? 'b' : 'a';
  write(changed);
  ::setenv("MLSYS_PA3_DATA_DIR", dir.c_str(), 1);
  EXPECT_EQ(pa3::data_dir(), dir.string());
  try {
    pa3::load_tinyshakespeare();
    ADD_FAILURE() << "expected mlsys::Error for a modified copy";
  } catch (const mlsys::Error& e) {
    EXPECT_NE(std::string(e.what()).find("sha256"), std::string::npos) << e.what();
  }
  write(text.substr(0, 1000));
  try {
    pa3::load_tinyshakespeare();
    ADD_FAILURE() << "expected mlsys::Error for a truncated copy";
  } catch (const mlsys::Error& e) {
    EXPECT_NE(std::string(e.what()).find("1115394 bytes"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
  EXPECT_THROW(pa3::load_tinyshakespeare(), mlsys::Error);  // the folder is gone
  ::unsetenv("MLSYS_PA3_DATA_DIR");
  EXPECT_NO_THROW(pa3::load_tinyshakespeare());
}

TEST(Pa3ModelData, TokenizerHas65SortedSymbolsAndRoundTrips) {
  const pa3::CharTokenizer& tok = dataset().tokenizer;
  EXPECT_EQ(tok.vocab_size(), 65);
  EXPECT_EQ(tok.padded_vocab_size(), 68);
  const std::string& chars = tok.chars();
  for (size_t i = 1; i < chars.size(); ++i) EXPECT_LT(chars[i - 1], chars[i]);
  EXPECT_EQ(chars.substr(0, 3), "\n !");
  EXPECT_EQ(tok.encode("\n")[0], 0);
  EXPECT_EQ(tok.encode("z")[0], 64);
  const std::string text = pa3::load_tinyshakespeare();
  const std::vector<int32_t> ids = tok.encode(text);
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_THROW(tok.encode("~"), mlsys::Error);
  EXPECT_THROW(tok.decode({65}), mlsys::Error);
}

TEST(Pa3ModelData, SplitIsNinetyTen) {
  const pa3::Dataset& d = dataset();
  const int64_t n = pa3::kTinyShakespeareBytes;
  EXPECT_EQ(static_cast<int64_t>(d.train.size()), static_cast<int64_t>(std::floor(0.9 * n)));
  EXPECT_EQ(static_cast<int64_t>(d.train.size() + d.val.size()), n);
  const std::vector<int32_t> all = d.tokenizer.encode(pa3::load_tinyshakespeare());
  EXPECT_TRUE(std::equal(d.val.begin(), d.val.end(), all.begin() + d.train.size()));
}

TEST(Pa3ModelData, GlobalBatchIsSeededWindowsWithShiftedTargets) {
  const std::vector<int32_t>& tokens = dataset().train;
  const int64_t B = 8, T = 16;
  const pa3::Batch a = pa3::global_batch(tokens, 3, 42, B, T);
  const pa3::Batch b = pa3::global_batch(tokens, 3, 42, B, T);
  EXPECT_EQ(a.inputs.to_vector<int32_t>(), b.inputs.to_vector<int32_t>());
  EXPECT_NE(pa3::global_batch(tokens, 4, 42, B, T).inputs.to_vector<int32_t>(),
            a.inputs.to_vector<int32_t>());
  EXPECT_NE(pa3::global_batch(tokens, 3, 43, B, T).inputs.to_vector<int32_t>(),
            a.inputs.to_vector<int32_t>());
  const std::vector<int32_t> x = a.inputs.to_vector<int32_t>(), y = a.targets.to_vector<int32_t>();
  std::set<std::vector<int32_t>> rows;
  for (int64_t r = 0; r < B; ++r) {
    // targets are inputs shifted by one, and the window occurs in the data
    for (int64_t t = 0; t + 1 < T; ++t) EXPECT_EQ(y[r * T + t], x[r * T + t + 1]);
    std::vector<int32_t> window(x.begin() + r * T, x.begin() + (r + 1) * T);
    window.push_back(y[r * T + T - 1]);
    EXPECT_NE(std::search(tokens.begin(), tokens.end(), window.begin(), window.end()), tokens.end());
    rows.insert(window);
  }
  EXPECT_EQ(static_cast<int64_t>(rows.size()), B);  // distinct windows
  EXPECT_THROW(pa3::global_batch(std::vector<int32_t>(16, 0), 0, 1, 2, 16), mlsys::Error);
}

TEST(Pa3ModelData, RankShardsStackToTheGlobalBatch) {
  const std::vector<int32_t>& tokens = dataset().train;
  const int64_t B = 8, T = 5;
  const pa3::Batch global = pa3::global_batch(tokens, 11, 7, B, T);
  for (int64_t world : {1, 2, 4, 8}) {
    std::vector<int32_t> xs, ys;
    for (int64_t r = 0; r < world; ++r) {
      const pa3::Batch shard = pa3::batch_shard(global, r, world);
      EXPECT_EQ(shard.inputs.shape(), (mlsys::Shape{B / world, T}));
      const auto [begin, end] = pa3::shard_rows(B, r, world);
      EXPECT_EQ(begin, r * B / world);
      EXPECT_EQ(end, (r + 1) * B / world);
      for (int32_t v : shard.inputs.to_vector<int32_t>()) xs.push_back(v);
      for (int32_t v : shard.targets.to_vector<int32_t>()) ys.push_back(v);
    }
    EXPECT_EQ(xs, global.inputs.to_vector<int32_t>()) << "world " << world;
    EXPECT_EQ(ys, global.targets.to_vector<int32_t>()) << "world " << world;
  }
  EXPECT_THROW(pa3::batch_shard(global, 0, 3), mlsys::Error);  // 3 does not divide 8
  EXPECT_THROW(pa3::batch_shard(global, 2, 2), mlsys::Error);  // rank out of range
}

}  // namespace
