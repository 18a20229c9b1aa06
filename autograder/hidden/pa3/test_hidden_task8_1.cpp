// PA3 Task 8.1 hidden tests — parameter counts of other published models and PA3 configs.
#include "cost_test_util.h"

#include "mlsys/memory_stats.h"
#include "pa3/gpt.h"

namespace {

namespace rec = mlsys::test;

// GPT-3 175B (Brown et al. 2020, Table 2.1): V 50257, d 12288, 96 layers, 96 heads, f 4d,
// context 2048, tied, learned positions. Per layer 12 d^2 + 13 d = 1,811,939,328 + 159,744 =
// 1,812,099,072; blocks 173,961,510,912; wte 617,558,016 + wpe 25,165,824; ln_f 24,576:
// 174,604,259,328 (the paper's "175B").
TEST(Task8_1_HiddenParams, Gpt3_175B) {
  const pa3::ParamCount c =
      pa3::param_count(pa3::gpt_shape(50257, 12288, 96, 96, 49152, 2048, true));
  rec::record_exact("per_layer, total", std::vector<int64_t>{c.per_layer, c.total});
  EXPECT_EQ(c.per_layer, 1812099072);
  EXPECT_EQ(c.embedding, 642723840);
  EXPECT_EQ(c.total, 174604259328);
  EXPECT_NEAR(static_cast<double>(c.total) / 175e9, 1.0, 0.003);
}

// Llama 2 70B: V 32000, d 8192, 80 layers, 64 heads with 8 key/value heads (kv = 1024),
// f 28672, untied: attention 2 d^2 + 2 * 1024 d = 150,994,944; SwiGLU 704,643,072; norms
// 16,384 -> 855,654,400 per layer; 68,452,352,000 + 2 * 262,144,000 + 8,192 = 68,976,648,192.
TEST(Task8_1_HiddenParams, Llama2_70B_GroupedQueryAttention) {
  const pa3::ParamCount c =
      pa3::param_count(pa3::llama_shape(32000, 8192, 80, 64, 8, 28672, 4096, false));
  rec::record_exact("per_layer, total", std::vector<int64_t>{c.per_layer, c.total});
  EXPECT_EQ(c.per_layer, 855654400);
  EXPECT_EQ(c.total, 68976648192);
}

// GPT-2 medium: d 1024, 24 layers, 16 heads: 24 (12 d^2 + 13 d) = 302,309,376; wte 51,463,168;
// wpe 1,048,576; ln_f 2,048: 354,823,168. Untied it would add 51,463,168: 406,286,336.
TEST(Task8_1_HiddenParams, Gpt2MediumTiedAndUntied) {
  const int64_t tied = pa3::param_count(pa3::gpt_shape(50257, 1024, 24, 16, 4096, 1024, true)).total;
  const int64_t untied =
      pa3::param_count(pa3::gpt_shape(50257, 1024, 24, 16, 4096, 1024, false)).total;
  rec::record_exact("tied, untied", std::vector<int64_t>{tied, untied});
  EXPECT_EQ(tied, 354823168);
  EXPECT_EQ(untied, 406286336);
}

// PA3's GPT in other configurations: the count equals the floats gpt_init allocates.
TEST(Task8_1_HiddenParams, Pa3GptOtherConfigs) {
  std::vector<pa3::GPTConfig> configs(2);
  configs[0].n_layer = 4;
  configs[0].n_embd = 32;
  configs[0].n_head = 8;
  configs[0].tie_embeddings = true;
  configs[1].vocab_size = 65;
  configs[1].padded_vocab_size = 72;
  configs[1].block_size = 16;
  configs[1].n_layer = 1;
  configs[1].n_head = 3;
  configs[1].n_embd = 12;
  std::vector<int64_t> counts;
  for (const pa3::GPTConfig& config : configs) {
    const int tag = 4243;
    int64_t allocated = 0;
    {
      mlsys::memory::ScopedTag scoped(tag);
      const int64_t before = mlsys::memory::usage(tag).live_bytes;
      const pa3::GPTParams params = pa3::gpt_init(config, 3);
      allocated = (mlsys::memory::usage(tag).live_bytes - before) / 4;
    }
    counts.push_back(pa3::param_count(pa3::shape_of(config)).total);
    EXPECT_EQ(counts.back(), allocated);
  }
  rec::record_exact("totals", counts);
}

}  // namespace
