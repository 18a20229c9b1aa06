// PA3 Task 5.2, hidden cases: the TP block with 6 heads on 3 and 6 ranks (C = 12), with one
// position (B = T = 1), and with two heads of 4 channels on 2 ranks at T = block_size.
// Expected values as in the public tests: the staff block_forward/backward on the full
// weights, sliced with tp_shard_block.
#include "tp_cases5_2.h"

namespace {

using namespace tptest::t52;

pa3::GPTConfig six_heads() {
  pa3::GPTConfig c = tptest::tiny_config();
  c.n_head = 6;
  c.n_embd = 12;
  c.vocab_size = 10;
  c.padded_vocab_size = 12;
  return c;
}

pa3::GPTConfig two_heads() {
  pa3::GPTConfig c = tptest::tiny_config();
  c.n_head = 2;
  return c;
}

TEST(Task5_2_Hidden, SixHeadsOnThreeRanks) { block_case(3, six_heads(), 2, 4, 40); }
TEST(Task5_2_Hidden, SixHeadsOnSixRanks) { block_case(6, six_heads(), 2, 3, 50); }
TEST(Task5_2_Hidden, OnePosition) { block_case(2, tptest::tiny_config(), 1, 1, 60); }
TEST(Task5_2_Hidden, TwoHeadsFullBlockSize) { block_case(2, two_heads(), 2, 6, 70); }

}  // namespace
