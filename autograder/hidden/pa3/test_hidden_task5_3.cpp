// PA3 Task 5.3, hidden cases: the vocabulary-parallel embedding and cross-entropy on 3 and 8
// ranks (ranks that own only padding, one position), the whole model and AdamW steps with 6
// heads on 3 ranks and with tied embeddings. Expected values as in the public tests: the
// staff single-process model of pa3/gpt.h.
#include "tp_cases5_3.h"

namespace {

using namespace tptest::t53;

pa3::GPTConfig six_heads(bool tied = false) {
  pa3::GPTConfig c = tptest::tiny_config(tied);
  c.n_head = 6;
  c.n_embd = 12;
  c.vocab_size = 10;
  c.padded_vocab_size = 12;
  c.block_size = 8;
  return c;
}

TEST(Task5_3_Hidden, EmbeddingTp3) { embedding_case(3, 2, 3, 4, 9, 3); }
TEST(Task5_3_Hidden, EmbeddingTp8OnePosition) { embedding_case(8, 1, 1, 5, 16, 2); }
TEST(Task5_3_Hidden, CrossEntropyTp3) { crossentropy_case(3, 10, 12, 2, 5); }
TEST(Task5_3_Hidden, CrossEntropyTp8RanksOfPaddingOnly) { crossentropy_case(8, 5, 8, 2, 3); }
TEST(Task5_3_Hidden, CrossEntropyOnePosition) { crossentropy_case(2, 7, 8, 1, 1); }
TEST(Task5_3_Hidden, ModelSixHeadsOnThreeRanks) { model_case(3, six_heads(), 2, 5); }
TEST(Task5_3_Hidden, ModelTiedEmbeddingsTp2) { model_case(2, six_heads(true), 3, 8); }
TEST(Task5_3_Hidden, ModelOnePosition) { model_case(4, tptest::tiny_config(), 1, 1); }
TEST(Task5_3_Hidden, TrainingSixHeadsOnThreeRanks) { train_case(3, six_heads(), 4, 2, 5); }
TEST(Task5_3_Hidden, TrainingTiedEmbeddingsTp2) { train_case(2, six_heads(true), 3, 3, 8); }
TEST(Task5_3_Hidden, TrainingTp1TiedBitForBit) { train_case(1, six_heads(true), 3, 2, 4); }

}  // namespace
