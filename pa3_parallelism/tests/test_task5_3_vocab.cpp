// PA3 Task 5.3 — the vocabulary-parallel embedding and cross-entropy, and the whole GPT on a
// TP group (given composition of Tasks 5.1-5.3). Threads backend, TP sizes 1, 2, 4. Expected
// values come from the single-process model of pa3/gpt.h (embedding_forward/_backward,
// crossentropy_forward/_backward, gpt_forward/_backward, AdamW; staff code) on the full
// weights, sliced with the staff tp_shard_params, and from the byte formulas of comm.h.

#include "tp_cases5_3.h"

namespace {

using namespace tptest::t53;
using mlsys::Tensor;
using tptest::on_ranks;
namespace rec = mlsys::test;

TEST(Task5_3_Embedding, Tp2BitIdenticalToOneProcess) { embedding_case(2); }
TEST(Task5_3_Embedding, Tp4BitIdenticalToOneProcess) { embedding_case(4); }
TEST(Task5_3_CrossEntropy, Tp1IsCrossentropyForwardBitForBit) { crossentropy_case(1, 13, 16); }
TEST(Task5_3_CrossEntropy, Tp2ThreeRowStatisticsAndPaddingIgnored) { crossentropy_case(2, 13, 16); }
TEST(Task5_3_CrossEntropy, Tp4LastRankHoldsPadding) { crossentropy_case(4, 13, 16); }
TEST(Task5_3_Model, Tp1IsGptForwardBackwardBitForBit) { model_case(1, tptest::tiny_config(), 4, 6); }
TEST(Task5_3_Model, Tp2MatchesOneProcess) { model_case(2, tptest::tiny_config(), 4, 6); }
TEST(Task5_3_Model, Tp4MatchesOneProcess) { model_case(4, tptest::tiny_config(), 4, 6); }
TEST(Task5_3_Model, TrafficPerStep) { traffic_case(2); }

TEST(Task5_3_Training, Tp1ThreeStepsBitForBit) { train_case(1); }
TEST(Task5_3_Training, Tp2ReplicasStayIdentical) { train_case(2); }
TEST(Task5_3_Training, Tp4ReplicasStayIdentical) { train_case(4); }
TEST(Task5_3_Errors, VocabularyNotDivisibleTokensOutOfRangeWrongShards) {
  const pa3::GPTConfig c = tptest::tiny_config();  // Vp = 8
  const Tensor x = tptest::tokens(2, 3, c.vocab_size, 1);
  // well-formed: the model runs (the stub does not pass this test by throwing)
  const std::string ok = error_of(2, [&](pa3::Communicator& comm) {
    const pa3::GPTParams s = pa3::tp_shard_params(pa3::gpt_init(c, 1), c, comm.size(), comm.rank());
    pa3::GPTActs acts;
    pa3::tp_gpt_forward(acts, s, c, x, x, comm);
  });
  EXPECT_EQ(ok, "no error");
  // Vp = 8 rows on 3 ranks (3 heads of C = 12, so that only the vocabulary fails)
  pa3::GPTConfig c3 = c;
  c3.n_head = 3;
  c3.n_embd = 12;
  const std::string vocab = error_of(1, [&](pa3::Communicator&) { pa3::tp_shard_params(pa3::gpt_init(c3, 1), c3, 3, 0); });
  EXPECT_NE(vocab.find("padded_vocab_size"), std::string::npos) << vocab;
  // a token id >= Vp
  const std::string token = error_of(2, [&](pa3::Communicator& comm) {
    const Tensor bad = mlsys::from_vector(std::vector<int32_t>{0, 8}, {1, 2});
    pa3::vocab_parallel_embedding_forward(comm, mlsys::empty({1, 2, 8}), bad, mlsys::zeros({4, 8}), mlsys::zeros({6, 8}));
  });
  EXPECT_NE(token.find("vocab_parallel_embedding_forward"), std::string::npos) << token;
  EXPECT_NE(token.find("tokens"), std::string::npos) << token;
  // the full model passed as a shard on tp = 2
  const std::string shard = error_of(2, [&](pa3::Communicator& comm) {
    pa3::GPTActs acts;
    pa3::tp_gpt_forward(acts, pa3::gpt_init(c, 1), c, x, x, comm);
  });
  EXPECT_NE(shard.find("tp_gpt_forward"), std::string::npos) << shard;
  EXPECT_NE(shard.find("wte"), std::string::npos) << shard;
  rec::record_exact("well_formed", ok);
  rec::record_exact("errors_name_the_argument",
                    std::vector<int64_t>{vocab.find("padded_vocab_size") != std::string::npos,
                                         token.find("tokens") != std::string::npos,
                                         shard.find("wte") != std::string::npos});
}

}  // namespace
