// Hidden tests of PA3 Task 6.1 (layer partition): more splits, written by hand from the rule
// "as even as possible, the first n_layer % p stages one layer more, in stage order".

#include "pp_test_util.h"

namespace {

namespace rec = mlsys::test;

std::vector<int64_t> partition(int64_t n_layer, int p) {
  std::vector<int64_t> out;
  for (int s = 0; s < p; ++s) {
    const pa3::LayerRange r = pa3::stage_layers(n_layer, p, s);
    out.push_back(r.begin);
    out.push_back(r.end);
  }
  return out;
}

TEST(HiddenTask6_1_Partition, ThreeStages) {
  const std::vector<int64_t> a = partition(3, 3), b = partition(5, 3), c = partition(8, 3);
  rec::record_exact("3_over_3", a);
  rec::record_exact("5_over_3", b);
  rec::record_exact("8_over_3", c);
  EXPECT_EQ(a, (std::vector<int64_t>{0, 1, 1, 2, 2, 3}));
  EXPECT_EQ(b, (std::vector<int64_t>{0, 2, 2, 4, 4, 5}));  // 2 2 1
  EXPECT_EQ(c, (std::vector<int64_t>{0, 3, 3, 6, 6, 8}));  // 3 3 2
}

TEST(HiddenTask6_1_Partition, ManyLayersAndOneStage) {
  const std::vector<int64_t> a = partition(13, 4), b = partition(1, 1), c = partition(9, 2);
  rec::record_exact("13_over_4", a);
  rec::record_exact("1_over_1", b);
  rec::record_exact("9_over_2", c);
  EXPECT_EQ(a, (std::vector<int64_t>{0, 4, 4, 7, 7, 10, 10, 13}));  // 4 3 3 3
  EXPECT_EQ(b, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(c, (std::vector<int64_t>{0, 5, 5, 9}));
}

TEST(HiddenTask6_1_Partition, EveryLayerExactlyOnceUpToEightStages) {
  int64_t checked = 0;
  for (int p = 1; p <= 8; ++p) {
    for (int64_t n = p; n <= 20; ++n) {
      int64_t next = 0, largest = 0, smallest = n;
      for (int s = 0; s < p; ++s) {
        const pa3::LayerRange r = pa3::stage_layers(n, p, s);
        EXPECT_EQ(r.begin, next) << n << " layers, " << p << " stages, stage " << s;
        next = r.end;
        largest = std::max(largest, r.size());
        smallest = std::min(smallest, r.size());
        // sizes never increase along the stages
        if (s > 0) {
          EXPECT_LE(r.size(), pa3::stage_layers(n, p, s - 1).size());
        }
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(largest - smallest, 1);
      ++checked;
    }
  }
  rec::record_exact("checked", checked);
}

}  // namespace
