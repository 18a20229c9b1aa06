// PA3 Task 6.1 — the layer partition. Expected ranges are written by hand from the rule "as
// even as possible, the first n_layer % p stages one layer more, consecutive in stage order".

#include "pp_test_util.h"

namespace {

namespace rec = mlsys::test;

// All stages' ranges as a flat list begin0, end0, begin1, end1, ...
std::vector<int64_t> partition(int64_t n_layer, int p) {
  std::vector<int64_t> out;
  for (int s = 0; s < p; ++s) {
    const pa3::LayerRange r = pa3::stage_layers(n_layer, p, s);
    out.push_back(r.begin);
    out.push_back(r.end);
  }
  return out;
}

TEST(Task6_1_Partition, EvenSplits) {
  const std::vector<int64_t> one = partition(4, 1), two = partition(4, 2), four = partition(4, 4);
  rec::record_exact("4_over_1", one);
  rec::record_exact("4_over_2", two);
  rec::record_exact("4_over_4", four);
  EXPECT_EQ(one, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(two, (std::vector<int64_t>{0, 2, 2, 4}));
  EXPECT_EQ(four, (std::vector<int64_t>{0, 1, 1, 2, 2, 3, 3, 4}));
}

TEST(Task6_1_Partition, RemainderGoesToTheFirstStages) {
  const std::vector<int64_t> a = partition(7, 3), b = partition(5, 4), c = partition(6, 4);
  rec::record_exact("7_over_3", a);
  rec::record_exact("5_over_4", b);
  rec::record_exact("6_over_4", c);
  EXPECT_EQ(a, (std::vector<int64_t>{0, 3, 3, 5, 5, 7}));          // 3 2 2
  EXPECT_EQ(b, (std::vector<int64_t>{0, 2, 2, 3, 3, 4, 4, 5}));    // 2 1 1 1
  EXPECT_EQ(c, (std::vector<int64_t>{0, 2, 2, 4, 4, 5, 5, 6}));    // 2 2 1 1
}

TEST(Task6_1_Partition, ErrorsNameTheArgument) {
  // a valid call first: the errors alone are no partition
  EXPECT_EQ(pa3::stage_layers(4, 2, 1), (pa3::LayerRange{2, 4}));
  std::vector<int64_t> threw;
  auto expect_error = [&](int64_t n, int p, int s, const std::string& arg) {
    try {
      pa3::stage_layers(n, p, s);
      ADD_FAILURE() << "stage_layers(" << n << ", " << p << ", " << s << ") did not throw";
      threw.push_back(0);
    } catch (const mlsys::NotImplemented&) {
      throw;
    } catch (const mlsys::Error& e) {
      EXPECT_NE(std::string(e.what()).find(arg), std::string::npos) << e.what();
      threw.push_back(1);
    }
  };
  expect_error(4, 0, 0, "num_stages");
  expect_error(4, 2, 2, "stage");
  expect_error(4, 2, -1, "stage");
  expect_error(3, 4, 0, "n_layer");
  rec::record_exact("errors", threw);
}

}  // namespace
