// PA1 Task 1.3 — gradients of softmax, log_softmax, cross-entropy, layernorm, gelu, embedding
// and dropout (src/grad_nn.cpp). Finite-difference checks of one op at a time.
#include "pa1_test_util.h"

using namespace pa1;
using pa1::test::check_op_gradient;
using pa1::test::GradCheckOptions;
using pa1::test::uniform;

TEST(Task1_3_Softmax, Softmax) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax(in[0]); }, {uniform({4, 5}, 1)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax(in[0], 0); }, {uniform({3, 4}, 2)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax(in[0], 1); }, {uniform({2, 3, 4}, 3)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax(in[0]); }, {uniform({6}, 4)}));
}

TEST(Task1_3_Softmax, LogSoftmax) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return log_softmax(in[0]); }, {uniform({4, 5}, 5)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return log_softmax(in[0], 0); }, {uniform({3, 4}, 6)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return log_softmax(in[0], 1); }, {uniform({2, 3, 4}, 7)}));
}

TEST(Task1_3_CrossEntropy, Batch) {
  Tensor labels = mlsys::from_vector<int64_t>({0, 4, 2, 2, 1, 3}, {6});
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax_cross_entropy(in[0], in[1]); },
                                {uniform({6, 5}, 10), labels}));
}

TEST(Task1_3_CrossEntropy, SequenceBatch) {
  // logits [B, T, C], labels [B, T]: the mean over all B * T rows.
  Tensor labels = mlsys::randint({2, 3}, 11, 0, 4);
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax_cross_entropy(in[0], in[1]); },
                                {uniform({2, 3, 4}, 12), labels}));
}

TEST(Task1_3_CrossEntropy, RunTimeBatch) {
  GradCheckOptions opt;
  opt.static_shapes = {{-1, 3}, {-1}};
  Tensor labels = mlsys::from_vector<int64_t>({2, 0, 1, 1}, {4});
  EXPECT_TRUE(check_op_gradient([](auto& in) { return softmax_cross_entropy(in[0], in[1]); },
                                {uniform({4, 3}, 13), labels}, opt));
}

TEST(Task1_3_LayerNorm, Rows) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return layernorm(in[0], in[1], in[2]); },
                                {uniform({4, 6}, 20), uniform({6}, 21, 0.5f, 1.5f), uniform({6}, 22)}));
}

TEST(Task1_3_LayerNorm, Sequence) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return layernorm(in[0], in[1], in[2], 1e-3f); },
                                {uniform({2, 3, 5}, 23), uniform({5}, 24), uniform({5}, 25)}));
}

TEST(Task1_3_Gelu, Values) {
  EXPECT_TRUE(check_op_gradient([](auto& in) { return gelu(in[0]); }, {uniform({4, 5}, 30, -3.f, 3.f)}));
}

TEST(Task1_3_Embedding, RepeatedIndices) {
  // Row 1 is used three times: its gradient adds up three rows of grad.
  Tensor idx = mlsys::from_vector<int64_t>({1, 0, 1, 6, 1}, {5});
  EXPECT_TRUE(check_op_gradient([](auto& in) { return embedding(in[0], in[1]); },
                                {uniform({7, 3}, 31), idx}));
}

TEST(Task1_3_Embedding, BatchOfSequences) {
  Tensor idx = mlsys::from_vector<int64_t>({3, 3, 0, 2, 1, 3}, {2, 3});
  EXPECT_TRUE(check_op_gradient([](auto& in) { return embedding(in[0], in[1]); },
                                {uniform({4, 2}, 32), idx}));
}

TEST(Task1_3_Dropout, SameMaskAsForward) {
  // Every run here is the first run of its executor (step 0), so forward runs share a mask.
  EXPECT_TRUE(check_op_gradient([](auto& in) { return dropout(in[0], 0.3f, 7); }, {uniform({6, 8}, 33)}));
  EXPECT_TRUE(check_op_gradient([](auto& in) { return dropout(in[0], 0.f, 7); }, {uniform({3}, 34)}));
}
