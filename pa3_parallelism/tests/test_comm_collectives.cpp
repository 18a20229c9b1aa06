// PA3 runtime, threads backend: the native collectives against a float64 (or long double)
// sum computed here, on world sizes 1..8 and lengths 0, 1, p-1, odd and large; the traffic
// counters against the ring formulas.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <vector>

#include "mlsys/tensor.h"
#include "pa3/backend.h"
#include "pa3/comm.h"

using mlsys::Tensor;
using pa3::Communicator;

namespace {

std::vector<int64_t> lengths(int p) { return {0, 1, p - 1, 2 * p + 3, 100003}; }

// Rank r's input: seeded normal values, different on every rank.
std::vector<float> input(int rank, int64_t n) {
  if (n == 0) return {};
  return mlsys::randn({n}, 1000 + rank).to_vector<float>();
}

// Chunk sizes computed here, independently of pa3::chunk_of: the first n % p get one more.
int64_t chunk_size(int64_t n, int p, int i) { return n / p + (i < n % p ? 1 : 0); }
int64_t chunk_begin(int64_t n, int p, int i) {
  int64_t b = 0;
  for (int j = 0; j < i; ++j) b += chunk_size(n, p, j);
  return b;
}

// The exact sum (in double: p <= 8 float32 values sum exactly in 53 bits only if exponents are
// close, so the reference is double and the bound below covers float32 rounding) and the
// bound on the float32 rounding error of any order of p-1 additions:
// |fl(sum) - sum| <= (p-1) u sum|x| (u = 2^-24; Higham, Accuracy and Stability, 4.2), with a
// factor 1.01 for the second-order term.
struct Reference {
  std::vector<double> sum, bound;
};

Reference reference(int p, int64_t n) {
  Reference ref{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  std::vector<double> abs_sum(n, 0.0);
  for (int r = 0; r < p; ++r) {
    std::vector<float> x = input(r, n);
    for (int64_t i = 0; i < n; ++i) {
      ref.sum[i] += x[i];
      abs_sum[i] += std::fabs(x[i]);
    }
  }
  const double u = std::ldexp(1.0, -24);
  for (int64_t i = 0; i < n; ++i) ref.bound[i] = 1.01 * (p - 1) * u * abs_sum[i] + 1e-30;
  return ref;
}

// Checks got[i] against ref.sum[offset + i]; reports the first few failures only.
void expect_close(const std::vector<float>& got, const Reference& ref, int64_t offset,
                  const std::string& where) {
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 5; ++i) {
    double err = std::fabs(got[i] - ref.sum[offset + i]);
    if (!(err <= ref.bound[offset + i])) {
      ++failures;
      ADD_FAILURE() << where << ": element " << offset + i << " is " << got[i]
                    << ", float64 sum is " << ref.sum[offset + i] << " (error " << err
                    << " > bound " << ref.bound[offset + i] << ")";
    }
  }
}

class NativeCollectives : public ::testing::TestWithParam<int> {};

std::string where(const char* op, int p, int64_t n, int r) {
  return std::string(op) + " p=" + std::to_string(p) + " n=" + std::to_string(n) + " rank " +
         std::to_string(r);
}

}  // namespace

TEST(ChunkOf, Partition) {
  // 10 over 4: sizes 3 3 2 2.
  int64_t sizes[] = {3, 3, 2, 2}, begins[] = {0, 3, 6, 8};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(pa3::chunk_of(10, 4, i).size, sizes[i]);
    EXPECT_EQ(pa3::chunk_of(10, 4, i).begin, begins[i]);
  }
  EXPECT_EQ(pa3::chunk_of(2, 4, 3).size, 0);
  EXPECT_EQ(pa3::chunk_of(2, 4, 3).begin, 2);
  EXPECT_THROW(pa3::chunk_of(5, 4, 4), mlsys::Error);
  EXPECT_THROW(pa3::chunk_of(-1, 4, 0), mlsys::Error);
}

TEST_P(NativeCollectives, AllReduceFloat32) {
  const int p = GetParam();
  for (int64_t n : lengths(p)) {
    Reference ref = reference(p, n);
    std::vector<std::vector<float>> results(p);
    pa3::run_ranks(p, [&](Communicator& comm) {
      const int r = comm.rank();
      Tensor t = n == 0 ? mlsys::zeros({0}) : mlsys::from_vector(input(r, n), {n});
      comm.native_all_reduce(t);
      results[r] = t.to_vector<float>();
      expect_close(results[r], ref, 0, where("all_reduce", p, n, r));

      // Traffic: 2n - |chunk r| - |chunk r+1| elements in 2(p-1) messages.
      int64_t elems = p == 1 ? 0 : 2 * n - chunk_size(n, p, r) - chunk_size(n, p, (r + 1) % p);
      pa3::Counts c = comm.stats().sent_in_scope("native_all_reduce");
      EXPECT_EQ(c.bytes, static_cast<uint64_t>(4 * elems)) << where("all_reduce", p, n, r);
      EXPECT_EQ(c.messages, static_cast<uint64_t>(2 * (p - 1)));
      EXPECT_EQ(comm.stats().sent.bytes, c.bytes);  // nothing else was counted
      if (n % p == 0) {  // the textbook form: 2 (p-1)/p n elements
        EXPECT_EQ(c.bytes * p, static_cast<uint64_t>(2 * (p - 1) * n * 4));
      }
    });
    // Every rank holds the same bits.
    for (int r = 1; r < p; ++r) EXPECT_EQ(results[r], results[0]) << "p=" << p << " n=" << n;
  }
}

TEST_P(NativeCollectives, AllReduceFloat64) {
  const int p = GetParam();
  for (int64_t n : lengths(p)) {
    // Reference in long double (64-bit mantissa on x86) with the float64 rounding bound.
    std::vector<long double> sum(n, 0.0L), abs_sum(n, 0.0L);
    auto data = [](int r, int64_t n) {
      std::vector<double> x(n);
      std::vector<float> a = input(r, n), b = input(r + 50, n);
      for (int64_t i = 0; i < n; ++i) x[i] = a[i] + 1e-9 * b[i];  // uses all 53 bits
      return x;
    };
    for (int r = 0; r < p; ++r) {
      std::vector<double> x = data(r, n);
      for (int64_t i = 0; i < n; ++i) sum[i] += x[i], abs_sum[i] += std::fabs(x[i]);
    }
    pa3::run_ranks(p, [&](Communicator& comm) {
      std::vector<double> x = data(comm.rank(), n);
      comm.native_all_reduce(x.data(), n);
      const long double u = std::ldexp(1.0L, -53);
      int failures = 0;
      for (int64_t i = 0; i < n && failures < 5; ++i) {
        long double err = std::fabs(x[i] - sum[i]);
        if (!(err <= 1.01L * (p - 1) * u * abs_sum[i] + 1e-300L)) {
          ++failures;
          ADD_FAILURE() << where("all_reduce f64", p, n, comm.rank()) << ": element " << i
                        << " error " << static_cast<double>(err);
        }
      }
    });
  }
}

TEST_P(NativeCollectives, ReduceScatter) {
  const int p = GetParam();
  for (int64_t n : lengths(p)) {
    Reference ref = reference(p, n);
    pa3::run_ranks(p, [&](Communicator& comm) {
      const int r = comm.rank();
      Tensor in = n == 0 ? mlsys::zeros({0}) : mlsys::from_vector(input(r, n), {n});
      Tensor out = mlsys::full({chunk_size(n, p, r)}, -7.f);
      comm.native_reduce_scatter(in, out);
      expect_close(out.to_vector<float>(), ref, chunk_begin(n, p, r),
                   where("reduce_scatter", p, n, r));
      // float64 arrays: the same partition.
      std::vector<float> x = input(r, n);
      std::vector<double> in64(x.begin(), x.end()), out64(chunk_size(n, p, r), -7.0);
      comm.native_reduce_scatter(in64.data(), out64.data(), n);
      for (int64_t i = 0; i < chunk_size(n, p, r) && i < 50; ++i)
        EXPECT_NEAR(out64[i], ref.sum[chunk_begin(n, p, r) + i], 1e-12);

      // Traffic: n - |chunk r| elements in p-1 messages, per call.
      pa3::Counts c = comm.stats().sent_in_scope("native_reduce_scatter");
      int64_t elems = n - chunk_size(n, p, r);
      EXPECT_EQ(c.bytes, static_cast<uint64_t>(elems * (4 + 8))) << where("rs", p, n, r);
      EXPECT_EQ(c.messages, static_cast<uint64_t>(2 * (p - 1)));
    });
  }
}

TEST_P(NativeCollectives, AllGather) {
  const int p = GetParam();
  for (int64_t n : lengths(p)) {
    std::vector<float> expected(n);
    for (int r = 0; r < p; ++r) {
      std::vector<float> x = input(r, n);
      for (int64_t i = chunk_begin(n, p, r); i < chunk_begin(n, p, r) + chunk_size(n, p, r); ++i)
        expected[i] = x[i];
    }
    pa3::run_ranks(p, [&](Communicator& comm) {
      const int r = comm.rank();
      std::vector<float> x = input(r, n);
      std::vector<float> mine(x.begin() + chunk_begin(n, p, r),
                              x.begin() + chunk_begin(n, p, r) + chunk_size(n, p, r));
      Tensor in = mlsys::from_vector(mine, {static_cast<int64_t>(mine.size())});
      Tensor out = mlsys::full({n}, -7.f);
      comm.native_all_gather(in, out);
      EXPECT_EQ(out.to_vector<float>(), expected) << where("all_gather", p, n, r);
      std::vector<double> out64(n, -7.0), in64(mine.begin(), mine.end());
      comm.native_all_gather(in64.data(), out64.data(), n);
      EXPECT_EQ(out64, std::vector<double>(expected.begin(), expected.end()));

      // Traffic: n - |chunk r+1| elements in p-1 messages, per call.
      pa3::Counts c = comm.stats().sent_in_scope("native_all_gather");
      int64_t elems = p == 1 ? 0 : n - chunk_size(n, p, (r + 1) % p);
      EXPECT_EQ(c.bytes, static_cast<uint64_t>(elems * (4 + 8))) << where("ag", p, n, r);
      EXPECT_EQ(c.messages, static_cast<uint64_t>(2 * (p - 1)));
    });
  }
}

TEST_P(NativeCollectives, Broadcast) {
  const int p = GetParam();
  for (int64_t n : lengths(p)) {
    for (int root : {0, p - 1}) {
      std::vector<float> expected = input(root, n);
      pa3::run_ranks(p, [&](Communicator& comm) {
        const int r = comm.rank();
        Tensor t = mlsys::full({n}, -7.f);
        if (r == root) t = mlsys::from_vector(expected, {n});
        comm.native_broadcast(t, root);
        EXPECT_EQ(t.to_vector<float>(), expected) << where("broadcast", p, n, r);
        // Traffic: a chain root -> root+1 -> ...; the rank before the root sends nothing.
        pa3::Counts c = comm.stats().sent_in_scope("native_broadcast");
        bool last = (r + 1) % p == root;
        EXPECT_EQ(c.bytes, last ? 0u : static_cast<uint64_t>(4 * n));
        EXPECT_EQ(c.messages, last ? 0u : 1u);
      });
    }
  }
}

INSTANTIATE_TEST_SUITE_P(WorldSize, NativeCollectives, ::testing::Range(1, 9),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "p" + std::to_string(info.param);
                         });

// Tensors of any dtype can be gathered and broadcast.
TEST(NativeCollectivesDtype, GatherAndBroadcastInt64) {
  pa3::run_ranks(3, [](Communicator& comm) {
    Tensor mine = mlsys::full({2}, static_cast<float>(comm.rank() + 1)).astype(mlsys::DType::Int64);
    Tensor all = mlsys::zeros({6}, mlsys::DType::Int64);
    comm.native_all_gather(mine, all);
    EXPECT_EQ(all.to_vector<int64_t>(), std::vector<int64_t>({1, 1, 2, 2, 3, 3}));
    Tensor b = mlsys::from_vector<int64_t>({int64_t{comm.rank()} * 10 + 1}, {1});
    comm.native_broadcast(b, 2);
    EXPECT_EQ(b.item_int(), 21);
  });
}

// The scopes are opened by the Backend's collectives themselves, so a call that reaches them
// without Communicator::native_* (comm.backend(), or a cast of the Communicator) is counted
// under native_* too: the Task 1 tests' check that no native collective was used relies on it.
TEST(NativeCollectivesScope, CountedWhenTheBackendIsCalledDirectly) {
  const int p = 3;
  const int64_t n = 10;  // chunks 4, 3, 3
  pa3::run_ranks(p, [&](Communicator& comm) {
    const int r = comm.rank();
    pa3::Backend& b = comm.backend();
    std::vector<float> x(n, 1.f), out(chunk_size(n, p, r)), all(n);
    b.all_reduce_sum(x.data(), n, pa3::ElemType::Float32);
    b.reduce_scatter_sum(x.data(), out.data(), n, pa3::ElemType::Float32);
    b.all_gather(out.data(), all.data(), n, pa3::ElemType::Float32);
    b.broadcast(all.data(), 4 * n, 0);
    const pa3::CommStats s = comm.stats();
    const uint64_t c_r = chunk_size(n, p, r), c_next = chunk_size(n, p, (r + 1) % p);
    EXPECT_EQ(s.sent_in_scope("native_all_reduce").bytes, 4 * (2 * n - c_r - c_next));
    EXPECT_EQ(s.sent_in_scope("native_reduce_scatter").bytes, 4 * (n - c_r));
    EXPECT_EQ(s.sent_in_scope("native_all_gather").bytes, 4 * (n - c_next));
    EXPECT_EQ(s.sent_in_scope("native_broadcast").messages, r == p - 1 ? 0u : 1u);
    EXPECT_EQ(s.sent.messages, 2u * (p - 1) + 2u * (p - 1) + (r == p - 1 ? 0u : 1u));
    EXPECT_EQ(b.current_scope(), "") << "a scope was left open";
  });
}
