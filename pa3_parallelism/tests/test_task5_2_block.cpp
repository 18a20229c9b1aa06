// PA3 Task 5.2 — the tensor-parallel transformer block (attention split by heads, the MLP
// split column-then-row). Threads backend, TP sizes 1, 2, 4. Expected values come from the
// single-process block_forward / block_backward of pa3/gpt.h (staff code) on the full weights,
// sliced with the staff tp_shard_block, and from the ring all-reduce's byte formula (comm.h).

#include "tp_cases5_2.h"

namespace {

using namespace tptest::t52;
using mlsys::Tensor;
using tptest::on_ranks;
namespace rec = mlsys::test;

TEST(Task5_2_Block, Tp1IsBlockForwardAndBackwardBitForBit) {
  block_case(1, tptest::tiny_config(), 3, 5, 10);
}

TEST(Task5_2_Block, Tp2TwoAllReducesEachWayMatchesOneProcess) {
  block_case(2, tptest::tiny_config(), 3, 5, 20);
}

TEST(Task5_2_Block, Tp4OneHeadPerRankMatchesOneProcess) {
  block_case(4, tptest::tiny_config(), 3, 5, 30);
}

TEST(Task5_2_Errors, HeadsNotDivisibleAndWrongShardShapes) {
  // well-formed: no error (the stub does not pass this test by throwing)
  EXPECT_EQ(block_error(2, 4, false), "no error");
  // 4 heads on 3 ranks: the config is refused before any rank splits a head
  const pa3::GPTConfig c = tptest::tiny_config();
  std::string heads;
  try {
    pa3::tp_check_config("test", c, 3);
  } catch (const mlsys::Error& e) {
    heads = e.what();
  }
  EXPECT_NE(heads.find("n_head"), std::string::npos) << heads;
  const std::string heads_block = block_error(2, 3, false);
  EXPECT_NE(heads_block.find("tp_block_forward"), std::string::npos) << heads_block;
  EXPECT_NE(heads_block.find("n_head"), std::string::npos) << heads_block;
  // the full weights passed as a shard on tp = 2
  const std::string shapes = block_error(2, 4, true);
  EXPECT_NE(shapes.find("tp_block_forward"), std::string::npos) << shapes;
  EXPECT_NE(shapes.find("c_attn.weight"), std::string::npos) << shapes;
  rec::record_exact("well_formed", block_error(2, 4, false));
  rec::record_exact("errors_name_the_argument",
                    std::vector<int64_t>{heads_block.find("n_head") != std::string::npos,
                                         shapes.find("c_attn.weight") != std::string::npos});
}

}  // namespace
