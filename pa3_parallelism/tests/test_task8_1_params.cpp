// PA3 Task 8.1 — parameter counts (pa3_parallelism/src/cost_model.cpp: param_count).
// Against the published counts of Llama 2 7B, Llama 3 8B and GPT-2 small (the released
// checkpoints' number of parameters), a small shape that switches every option on, derived
// by hand below, and PA3's own GPT, whose parameters are counted by allocating them.
#include "cost_test_util.h"

#include "mlsys/memory_stats.h"
#include "pa3/gpt.h"

namespace {

namespace rec = mlsys::test;
using costtest::throws_error_with;

void record_parts(const pa3::ParamCount& c) {
  rec::record_exact("embedding, per_layer, blocks, final_norm, lm_head, total",
                    std::vector<int64_t>{c.embedding, c.per_layer, c.blocks, c.final_norm,
                                         c.lm_head, c.total});
}

// Llama 2 7B: 6,738,415,616 parameters (the released checkpoint). By part, d = 4096:
//   per layer: attention 4 d^2 = 67,108,864; SwiGLU 3 d f = 3 * 4096 * 11008 = 135,266,304;
//              two RMSNorms 2 d = 8,192                              -> 202,383,360
//   blocks 32 * 202,383,360 = 6,476,267,520; embedding = lm_head = 32000 d = 131,072,000;
//   final norm 4,096. Sum: 6,738,415,616.
TEST(Task8_1_Params, Llama2_7B) {
  const pa3::ParamCount c = pa3::param_count(costtest::llama2_7b());
  record_parts(c);
  EXPECT_EQ(c.per_layer, 202383360);
  EXPECT_EQ(c.blocks, 6476267520);
  EXPECT_EQ(c.embedding, 131072000);
  EXPECT_EQ(c.lm_head, 131072000);
  EXPECT_EQ(c.final_norm, 4096);
  EXPECT_EQ(c.total, 6738415616);
}

// Llama 3 8B: 8,030,261,248 parameters. Grouped-query attention: 8 key/value heads of
// hd = 4096 / 32 = 128, so W_k and W_v are [1024, 4096]:
//   attention 2 d^2 + 2 * 1024 d = 33,554,432 + 8,388,608 = 41,943,040;
//   SwiGLU 3 * 4096 * 14336 = 176,160,768; norms 8,192           -> per layer 218,112,000
//   blocks 6,979,584,000; embedding = lm_head = 128256 d = 525,336,576; final norm 4,096.
TEST(Task8_1_Params, Llama3_8B_GroupedQueryAttention) {
  const pa3::ParamCount c = pa3::param_count(costtest::llama3_8b());
  record_parts(c);
  EXPECT_EQ(c.per_layer, 218112000);
  EXPECT_EQ(c.embedding, 525336576);
  EXPECT_EQ(c.lm_head, 525336576);
  EXPECT_EQ(c.total, 8030261248);
}

// GPT-2 small: 124,439,808 parameters (tied). Per layer 12 d^2 + 13 d with d = 768 (c_attn
// 3d^2 + 3d, c_proj d^2 + d, c_fc 4d^2 + 4d, mlp c_proj 4d^2 + d, two LayerNorms 4d)
// = 7,077,888 + 9,984 = 7,087,872; embedding wte 50257 d + wpe 1024 d = 39,383,808; ln_f 2d;
// no LM head of its own.
TEST(Task8_1_Params, Gpt2Small_Tied) {
  const pa3::ParamCount c = pa3::param_count(costtest::gpt2_small());
  record_parts(c);
  EXPECT_EQ(c.per_layer, 7087872);
  EXPECT_EQ(c.embedding, 39383808);
  EXPECT_EQ(c.final_norm, 1536);
  EXPECT_EQ(c.lm_head, 0);
  EXPECT_EQ(c.total, 124439808);
}

// Every option at once, by hand: V 10, d 8, L 2, 4 heads (hd 2), 2 key/value heads (kv = 4),
// f 12, s 5, LayerNorm, SwiGLU, biases, learned positions, untied.
//   attention  W_q, W_o 2 * 64 + W_k, W_v 2 * 4 * 8 = 192, biases 8 + 4 + 4 + 8 = 24   -> 216
//   SwiGLU     3 * 8 * 12 = 288, biases 12 + 12 + 8 = 32                             -> 320
//   norms      2 LayerNorms of 2 * 8                                                  ->  32
//   per layer 568, blocks 1136; embedding 10 * 8 + 5 * 8 = 120; final norm 16; head 80;
//   total 1352. Then the options one at a time change exactly their own parameters.
TEST(Task8_1_Params, EveryOptionByHand) {
  pa3::TransformerShape s = pa3::llama_shape(10, 8, 2, 4, 2, 12, 5, false);
  s.norm = pa3::NormKind::LayerNorm;
  s.linear_bias = true;
  s.learned_positions = true;
  const pa3::ParamCount c = pa3::param_count(s);
  record_parts(c);
  EXPECT_EQ(c.per_layer, 568);
  EXPECT_EQ(c.blocks, 1136);
  EXPECT_EQ(c.embedding, 120);
  EXPECT_EQ(c.final_norm, 16);
  EXPECT_EQ(c.lm_head, 80);
  EXPECT_EQ(c.total, 1352);

  std::vector<int64_t> totals;
  pa3::TransformerShape t = s;
  t.tied_embeddings = true;  // - head 80
  totals.push_back(pa3::param_count(t).total);
  t = s;
  t.norm = pa3::NormKind::RMSNorm;  // - the biases of 5 norms: 5 * 8
  totals.push_back(pa3::param_count(t).total);
  t = s;
  t.mlp = pa3::MlpKind::Gelu;  // - the gate: 2 * (96 + 12)
  totals.push_back(pa3::param_count(t).total);
  t = s;
  t.linear_bias = false;  // - 2 * (24 + 32)
  totals.push_back(pa3::param_count(t).total);
  t = s;
  t.learned_positions = false;  // - 5 * 8
  totals.push_back(pa3::param_count(t).total);
  t = s;
  t.n_kv_heads = 4;  // multi-head attention: W_k, W_v and biases grow by 2 * (32 + 4) a layer
  totals.push_back(pa3::param_count(t).total);
  rec::record_exact("totals", totals);
  EXPECT_EQ(totals, (std::vector<int64_t>{1272, 1312, 1136, 1240, 1312, 1496}));

  EXPECT_TRUE(throws_error_with([&] { t.n_kv_heads = 3; pa3::param_count(t); },
                                {"param_count", "n_kv_heads", "3"}));
}

// PA3's GPT: the cost model's count equals the floats gpt_init allocates, counted by the
// tensor library's memory accounting (a tag set around gpt_init; 4 bytes per float), and the
// GPT-2 formula 12 C^2 + 13 C per block.
TEST(Task8_1_Params, Pa3GptEqualsTheFloatsGptInitAllocates) {
  std::vector<pa3::GPTConfig> configs(3);
  configs[1].tie_embeddings = true;
  configs[2].vocab_size = 7;
  configs[2].padded_vocab_size = 8;
  configs[2].block_size = 6;
  configs[2].n_layer = 3;
  configs[2].n_head = 2;
  configs[2].n_embd = 8;
  std::vector<int64_t> counts;
  for (const pa3::GPTConfig& config : configs) {
    const int tag = 4242;
    int64_t allocated = 0;
    {
      mlsys::memory::ScopedTag scoped(tag);
      const int64_t before = mlsys::memory::usage(tag).live_bytes;
      const pa3::GPTParams params = pa3::gpt_init(config, 1);
      allocated = (mlsys::memory::usage(tag).live_bytes - before) / 4;
    }
    const pa3::ParamCount c = pa3::param_count(pa3::shape_of(config));
    counts.push_back(c.total);
    const int64_t C = config.n_embd;
    EXPECT_EQ(c.total, allocated) << "n_layer " << config.n_layer << " tied "
                                  << config.tie_embeddings;
    EXPECT_EQ(c.per_layer, 12 * C * C + 13 * C);
  }
  rec::record_exact("totals", counts);
}

}  // namespace
