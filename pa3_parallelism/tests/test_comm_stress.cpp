// PA3 runtime, threads backend: randomized traffic that checks every delivered byte.
//
// A matched send/receive pair is copied by whichever of its two ranks first waits on, tests or
// destroys one of its requests, with the runtime's lock released (threads_backend.cpp). This
// test drives that protocol from every side at once: for p = 2..8 ranks and a fixed seed, each
// round
//   1. posts many isend/irecv (raw bytes and float32 tensors; sizes 0 to 3 MiB; tags 0..3; on
//      the world and on a split of it with the ranks in reverse order, so equal tags on the two
//      communicators must never match each other; several messages per (peer, tag) in flight,
//      so non-overtaking order matters; a few receives of the wrong size, which must fail on
//      both sides), then completes them in a random order per rank with wait, a test() loop,
//      or, after a barrier, by destroying the request (with or without one test() first);
//   2. runs blocking items in one global order (deadlock-free: the lowest pending item always
//      has both of its ranks at it): send/recv, each side possibly isend/irecv + wait or test(),
//      and sendrecv rings over random subsets of ranks (two ranks: dst == src).
// Every payload word is a hash of (message id, word index), so a byte from another message, at
// another offset, or not (yet) copied is caught, and the failure names the message. The
// schedule comes from SplitMix64 (the same numbers on every platform), not std distributions.
// Then targeted cases of the same protocol: tensor sendrecv rings on both communicators, a
// receive destroyed / polled / waited on while its sender is copying into it, and a rank that
// throws while its matched pairs are not copied yet.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "mlsys/tensor.h"
#include "pa3/comm.h"

using mlsys::Tensor;
using pa3::Communicator;

namespace {

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return state_ = splitmix(state_); }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

// ---- payloads ------------------------------------------------------------------------------

uint64_t word_of(int id, size_t w) {
  return splitmix((static_cast<uint64_t>(id) << 40) ^ static_cast<uint64_t>(w));
}

void fill(unsigned char* p, size_t n, int id) {
  if (n == 0) return;
  size_t w = 0;
  for (; 8 * w + 8 <= n; ++w) {
    uint64_t v = word_of(id, w);
    std::memcpy(p + 8 * w, &v, 8);
  }
  uint64_t v = word_of(id, w);
  std::memcpy(p + 8 * w, &v, n - 8 * w);
}

// "" when p holds message `id`'s n bytes, else where and what the first wrong byte is.
std::string check_bytes(const unsigned char* p, size_t n, int id) {
  for (size_t w = 0; 8 * w < n; ++w) {
    uint64_t v = word_of(id, w);
    size_t len = std::min<size_t>(8, n - 8 * w);
    unsigned char got[8], want[8];
    std::memcpy(got, p + 8 * w, len);  // one read (a broken runtime may still be writing)
    std::memcpy(want, &v, 8);
    for (size_t b = 0; b < len; ++b) {
      if (got[b] == want[b]) continue;
      std::ostringstream os;
      os << "byte " << 8 * w + b << " of " << n << " is " << int(got[b]) << ", expected "
         << int(want[b]);
      return os.str();
    }
  }
  return "";
}

// ---- the schedule (the same on every rank) --------------------------------------------------

constexpr int kComms = 2;  // 0: world; 1: world.split(0, p - 1 - rank), ranks reversed
constexpr int kTags = 4;

struct Msg {
  int id = 0;
  int src = 0, dst = 0;  // world ranks
  int comm = 0;
  int tag = 0;
  size_t nbytes = 0;       // what the sender sends
  size_t recv_nbytes = 0;  // what the receiver posts; another size is an error on both sides
  bool tensor = false;     // float32 tensors (nbytes a multiple of 4) rather than raw bytes
};

// 0 bytes, small, medium, large and above 1 MiB.
size_t random_size(Rng& rng) {
  int c = rng.below(100);
  if (c < 8) return 0;
  if (c < 40) return 1 + rng.below(size_t{64});
  if (c < 75) return 65 + rng.below(size_t{1} << 16);
  if (c < 92) return (size_t{1} << 16) + rng.below(size_t{1} << 20);
  return (size_t{1} << 20) + 1 + rng.below(size_t{2} << 20);
}

Msg random_msg(Rng& rng, int id, int src, int dst, bool may_mismatch) {
  Msg m;
  m.id = id;
  m.src = src;
  m.dst = dst;
  m.comm = rng.below(kComms);
  m.tag = rng.below(kTags);
  m.nbytes = random_size(rng);
  m.tensor = rng.below(3) == 0;
  if (m.tensor) m.nbytes -= m.nbytes % 4;
  m.recv_nbytes = m.nbytes;
  if (may_mismatch && !m.tensor && rng.below(25) == 0)
    m.recv_nbytes = m.nbytes > 0 && rng.below(2) == 0 ? m.nbytes - 1 : m.nbytes + 1;
  return m;
}

// A blocking item: one message, or a sendrecv ring (members[i] sends msgs[i] to members[i+1]).
struct Item {
  bool ring = false;
  std::vector<int> members;
  std::vector<Msg> msgs;
};

struct Round {
  std::vector<Msg> posted;
  std::vector<Item> blocking;
};

std::vector<Round> make_schedule(int p, uint64_t seed, int rounds) {
  Rng rng(seed);
  std::vector<Round> schedule(rounds);
  int id = 1;
  for (Round& round : schedule) {
    const int posted = 4 * p + rng.below(3 * p);
    for (int i = 0; i < posted; ++i) {
      int src = rng.below(p), dst = (src + 1 + rng.below(p - 1)) % p;
      round.posted.push_back(random_msg(rng, id++, src, dst, true));
    }
    const int items = p + rng.below(p);
    for (int i = 0; i < items; ++i) {
      Item item;
      item.ring = rng.below(3) == 0;
      std::vector<int> order(p);
      for (int r = 0; r < p; ++r) order[r] = r;
      for (int r = p - 1; r > 0; --r) std::swap(order[r], order[rng.below(r + 1)]);
      int k = item.ring ? 2 + rng.below(p - 1) : 2;
      item.members.assign(order.begin(), order.begin() + k);
      for (int j = 0; j < k; ++j) {
        if (!item.ring && j == 1) break;
        int src = item.members[j], dst = item.members[(j + 1) % k];
        Msg m = random_msg(rng, id++, src, dst, false);
        if (item.ring && !item.msgs.empty()) {  // one ring: one communicator, one tag
          m.comm = item.msgs[0].comm;
          m.tag = item.msgs[0].tag;
        }
        if (item.ring) m.tensor = false;  // sendrecv_bytes here; tensor rings in their own test
        item.msgs.push_back(m);
      }
      round.blocking.push_back(item);
    }
  }
  return schedule;
}

std::string describe(const Msg& m) {
  std::ostringstream os;
  os << "message " << m.id << " (world rank " << m.src << " -> " << m.dst << ", comm "
     << (m.comm == 0 ? "world" : "reversed split") << ", tag " << m.tag << ", " << m.nbytes
     << " bytes" << (m.recv_nbytes != m.nbytes ? ", receive posted with another size" : "")
     << (m.tensor ? ", float32 tensor" : ", raw bytes") << ")";
  return os.str();
}

// ---- one rank ------------------------------------------------------------------------------

// One side of one message on this rank: its buffer (raw bytes, or a tensor) and its request.
struct Side {
  Side(const Msg* m, bool is_send) : msg(m), sending(is_send) {}
  const Msg* msg;
  bool sending;
  std::vector<unsigned char> bytes;
  Tensor tensor;
  pa3::Request req;
  enum Style { Wait, TestLoop, DestroyAfterBarrier, TestOnceThenDestroy } style = Wait;

  unsigned char* data() {
    return msg->tensor ? static_cast<unsigned char*>(tensor.raw_data()) : bytes.data();
  }
  size_t size() const { return sending ? msg->nbytes : msg->recv_nbytes; }

  void allocate() {
    const size_t n = size();
    if (msg->tensor) {
      tensor = mlsys::empty({static_cast<int64_t>(n / 4)});
    } else {
      bytes.assign(n + 1, 0);  // +1: data() is never null, even for 0 bytes
    }
    if (sending) {
      fill(data(), n, msg->id);
    } else if (n > 0) {
      std::memset(data(), 0x5a, n);
    }
  }
};

class RankRun {
 public:
  RankRun(Communicator& world, int p) : world_(world), p_(p), me_(world.rank()) {
    comms_[0] = world;
    comms_[1] = world.split(0, p - 1 - me_);
    if (comms_[1].rank() != p - 1 - me_)
      throw std::runtime_error("the reversed split gave rank " +
                               std::to_string(comms_[1].rank()) + " to world rank " +
                               std::to_string(me_));
  }

  int rank_in(int comm, int world_rank) const {
    return comm == 0 ? world_rank : p_ - 1 - world_rank;
  }

  void run_round(const Round& round, uint64_t seed) {
    Rng rng(splitmix(seed ^ (0x1000003ULL * static_cast<uint64_t>(me_ + 1))));
    posted_phase(round, rng);
    for (const Item& item : round.blocking) blocking_item(item, rng);
    world_.barrier();
  }

 private:
  [[noreturn]] void fail(const Msg& m, const std::string& what) {
    throw std::runtime_error("world rank " + std::to_string(me_) + ", " + describe(m) + ": " +
                             what);
  }

  void post(Side& s) {
    const Msg& m = *s.msg;
    Communicator& c = comms_[m.comm];
    if (s.sending) {
      int dst = rank_in(m.comm, m.dst);
      s.req = m.tensor ? c.isend(s.tensor, dst, m.tag)
                       : c.isend_bytes(s.data(), m.nbytes, dst, m.tag);
    } else {
      int src = rank_in(m.comm, m.src);
      s.req = m.tensor ? c.irecv(s.tensor, src, m.tag)
                       : c.irecv_bytes(s.data(), m.recv_nbytes, src, m.tag);
    }
  }

  // After the request completed (or was destroyed): a receive holds exactly the message.
  void check_delivered(Side& s) {
    if (s.sending) return;
    std::string bad = check_bytes(s.data(), s.msg->nbytes, s.msg->id);
    if (!bad.empty()) fail(*s.msg, "received wrong data (" + styles_[s.style] + "): " + bad);
  }

  // Completes s with wait() or a test() loop; a size mismatch must throw on both sides.
  void complete(Side& s) {
    const bool mismatch = s.msg->nbytes != s.msg->recv_nbytes;
    try {
      if (s.style == Side::Wait) {
        s.req.wait();
      } else {
        // The runtime's deadline bounds blocking calls, not a test() loop: bound it here.
        const auto give_up = std::chrono::steady_clock::now() +
                             std::chrono::duration<double>(pa3::deadline());
        while (!s.req.test()) {
          if (std::chrono::steady_clock::now() > give_up)
            fail(*s.msg, "test() still false after the deadline of " +
                             std::to_string(pa3::deadline()) + " s");
          std::this_thread::yield();
        }
      }
      if (!s.req.test()) fail(*s.msg, "test() is false after completion");
    } catch (const mlsys::Error& e) {
      if (mismatch && std::string(e.what()).find("must agree on the size") != std::string::npos)
        return;
      throw;
    }
    if (mismatch) fail(*s.msg, "a size mismatch completed without an error");
    check_delivered(s);
  }

  void posted_phase(const Round& round, Rng& rng) {
    std::vector<Side> sides;
    sides.reserve(2 * round.posted.size());
    for (const Msg& m : round.posted) {
      for (bool sending : {true, false}) {
        if ((sending ? m.src : m.dst) != me_) continue;
        Side s(&m, sending);
        s.style = static_cast<Side::Style>(rng.below(4));
        s.allocate();
        sides.push_back(std::move(s));
      }
    }
    // Post in a random order that keeps the schedule's order among sides with the same
    // (direction, peer, communicator, tag): that order decides which receive gets which message.
    std::vector<size_t> order(sides.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    std::map<std::tuple<bool, int, int, int>, std::vector<size_t>> by_key;
    auto key = [&](size_t i) {
      const Msg& m = *sides[i].msg;
      return std::make_tuple(sides[i].sending, sides[i].sending ? m.dst : m.src, m.comm, m.tag);
    };
    for (size_t i = 0; i < sides.size(); ++i) by_key[key(i)].push_back(i);  // schedule order
    std::map<std::tuple<bool, int, int, int>, size_t> next;
    for (size_t& slot : order) slot = by_key[key(slot)][next[key(slot)]++];
    for (size_t i : order) post(sides[i]);

    // Complete the waited ones in another random order.
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    for (size_t i : order)
      if (sides[i].style == Side::Wait || sides[i].style == Side::TestLoop) complete(sides[i]);

    // Every rank has posted everything, so every remaining request is matched: destroying it
    // delivers its message (or, when the peer is copying, waits for that copy to end).
    world_.barrier();
    for (size_t i : order) {
      Side& s = sides[i];
      if (s.style != Side::DestroyAfterBarrier && s.style != Side::TestOnceThenDestroy) continue;
      if (s.style == Side::TestOnceThenDestroy) {
        try {
          s.req.test();
        } catch (const mlsys::Error&) {
          if (s.msg->nbytes == s.msg->recv_nbytes) throw;
        }
      }
      s.req = pa3::Request();
      if (s.msg->nbytes == s.msg->recv_nbytes) check_delivered(s);
    }
  }

  // Blocking phase: every rank runs the items in schedule order and skips those without it.
  void blocking_item(const Item& item, Rng& rng) {
    const int k = static_cast<int>(item.members.size());
    int pos = -1;
    for (int j = 0; j < k; ++j)
      if (item.members[j] == me_) pos = j;
    if (pos < 0) return;
    if (item.ring) {
      const Msg& out = item.msgs[pos];
      const Msg& in = item.msgs[(pos - 1 + k) % k];
      Communicator& c = comms_[out.comm];
      Side send(&out, true), recv(&in, false);
      send.allocate();
      recv.allocate();
      c.sendrecv_bytes(send.data(), out.nbytes, rank_in(out.comm, out.dst), recv.data(),
                       in.nbytes, rank_in(in.comm, in.src), out.tag);
      check_delivered(recv);
      return;
    }
    const Msg& m = item.msgs[0];
    Side s(&m, pos == 0);
    s.allocate();
    Communicator& c = comms_[m.comm];
    const int how = rng.below(3);  // 0: blocking call, 1: i* + wait, 2: i* + test() loop
    if (how == 0 && s.sending) {
      if (m.tensor)
        c.send(s.tensor, rank_in(m.comm, m.dst), m.tag);
      else
        c.send_bytes(s.data(), m.nbytes, rank_in(m.comm, m.dst), m.tag);
    } else if (how == 0) {
      if (m.tensor)
        c.recv(s.tensor, rank_in(m.comm, m.src), m.tag);
      else
        c.recv_bytes(s.data(), m.nbytes, rank_in(m.comm, m.src), m.tag);
    } else {
      s.style = how == 1 ? Side::Wait : Side::TestLoop;
      post(s);
      complete(s);
      return;
    }
    check_delivered(s);
  }

  Communicator& world_;
  int p_, me_;
  Communicator comms_[kComms];
  const std::string styles_[4] = {"wait", "test() loop", "destroyed after a barrier",
                                  "one test(), then destroyed"};
};

void run_stress(int p, uint64_t seed, int rounds) {
  const std::vector<Round> schedule = make_schedule(p, seed, rounds);
  try {
    pa3::run_ranks(p, [&](Communicator& world) {
      RankRun run(world, p);
      for (int r = 0; r < rounds; ++r) run.run_round(schedule[r], seed + 7919 * (r + 1));
    });
  } catch (const std::exception& e) {
    ADD_FAILURE() << "p = " << p << ", seed " << seed << ": " << e.what();
  }
}

}  // namespace

// A broken copy protocol shows up as a wrong byte, a missing size error, a deadline error (a
// message never delivered), a crash on a freed buffer, or a ThreadSanitizer report.
TEST(CommStress, RandomTrafficDeliversEveryByte) {
  pa3::ScopedDeadline deadline(10);
  for (int p = 2; p <= 8; ++p) run_stress(p, 20261205 + static_cast<uint64_t>(p), 3);
}

// sendrecv with tensors around the full ring on both communicators, many times in a row: the
// ring step of the collectives, where every rank copies its own incoming chunk.
TEST(CommStress, TensorRingsOnBothCommunicators) {
  pa3::ScopedDeadline deadline(10);
  for (int p = 2; p <= 8; ++p) {
    pa3::run_ranks(p, [p](Communicator& world) {
      Communicator rev = world.split(0, p - 1 - world.rank());
      Rng rng(99 + static_cast<uint64_t>(p));
      for (int step = 0; step < 8; ++step) {
        const int64_t n = static_cast<int64_t>(rng.below(size_t{200000}));  // same on all ranks
        const int tag = rng.below(kTags);
        for (Communicator* c : {&world, &rev}) {
          const int r = c->rank(), q = c->size();
          const int id_out = 1000 * step + 10 * (c == &rev) + r;
          const int id_in = 1000 * step + 10 * (c == &rev) + (r - 1 + q) % q;
          Tensor out = mlsys::empty({n}), in = mlsys::zeros({n});
          fill(static_cast<unsigned char*>(out.raw_data()), 4 * n, id_out);
          c->sendrecv(out, (r + 1) % q, in, (r - 1 + q) % q, tag);
          std::string bad =
              check_bytes(static_cast<const unsigned char*>(in.raw_data()), 4 * n, id_in);
          if (!bad.empty())
            throw std::runtime_error("p = " + std::to_string(p) + ", step " +
                                     std::to_string(step) + ", " + c->name() + ": " + bad);
        }
      }
    });
  }
}

// The receiver destroys, polls or waits on its request while the sender is copying into its
// buffer: each must hold back until the copy is complete. In each trial half the ranks of the
// ring enter wait() on their send (which claims the pair at once: it is matched and not copied
// yet) after announcing it; their right neighbours see the announcement and go straight to
// their receive. Which rank makes a copy is timing, so a trial may not hit the window; 24
// trials of 2 MiB almost always do when the runtime is broken.
TEST(CommStress, CopyInFlightHoldsBackTheReceiver) {
  pa3::ScopedDeadline deadline(10);
  for (int p : {2, 4}) {
    std::vector<std::atomic<int>> entering(p);  // trial + 1 once a rank enters its send's wait
    for (auto& e : entering) e.store(0);
    pa3::run_ranks(p, [&](Communicator& comm) {
      const int r = comm.rank(), right = (r + 1) % p, left = (r - 1 + p) % p;
      for (int trial = 0; trial < 24; ++trial) {
        const size_t n = (size_t{2} << 20) + 8 * trial + 3;
        const int id_out = 100 * trial + r, id_in = 100 * trial + left;
        std::vector<unsigned char> out(n), in(n, 0x5a);
        fill(out.data(), n, id_out);
        pa3::Request recv = comm.irecv_bytes(in.data(), n, left, trial % 4);
        pa3::Request send = comm.isend_bytes(out.data(), n, right, trial % 4);
        comm.barrier();  // every pair is matched, none is copied
        const bool copier = (r + trial) % 2 == 0;  // p is even: a copier's right is not one
        if (copier) {
          entering[r].store(trial + 1);
          send.wait();
        } else {
          while (entering[left].load() != trial + 1) std::this_thread::yield();
        }
        const char* how[3] = {"destroyed", "polled with test()", "waited for"};
        switch (trial % 3) {
          case 0: recv = pa3::Request(); break;
          case 1: while (!recv.test()) std::this_thread::yield(); break;
          default: recv.wait(); break;
        }
        std::string bad = check_bytes(in.data(), n, id_in);
        if (!bad.empty())
          throw std::runtime_error("p = " + std::to_string(p) + ", trial " +
                                   std::to_string(trial) + ", receive " + how[trial % 3] +
                                   " while the sender copied: " + bad);
        if (!copier) send.wait();
      }
    });
  }
}

// A rank throws while every pair around the ring is matched and not yet copied, large and
// small: its requests' destructors deliver its two messages (or wait for the neighbour that is
// copying), and every other rank learns of the failure from a blocking call, yet still gets
// every byte of its matched messages, whether it waits on them before or after that abort.
TEST(CommStress, ThrowingRankStillDeliversItsMatchedPairs) {
  pa3::ScopedDeadline deadline(10);
  for (int p : {2, 3, 6}) {
    for (int trial = 0; trial < 8; ++trial) {
      const int thrower = trial % p;
      const bool abort_first = (trial / 2) % 2 == 1;
      std::vector<std::string> outcome(p);
      std::atomic<int> past_barrier{0};
      std::string error;
      int failed = -1;
      try {
        pa3::run_ranks(p, [&](Communicator& comm) {
          const int r = comm.rank(), right = (r + 1) % p, left = (r - 1 + p) % p;
          const size_t n = trial % 2 == 0 ? (size_t{3} << 20) + 5 : 1 + 7 * trial;
          std::vector<unsigned char> out(n), in(n, 0x5a);
          fill(out.data(), n, 10 * trial + r);
          pa3::Request recv = comm.irecv_bytes(in.data(), n, left, 5);
          pa3::Request send = comm.isend_bytes(out.data(), n, right, 5);
          comm.barrier();
          // A rank leaves the barrier before the slowest one; had it thrown then, that one
          // would (rightly) abort in the barrier. So the thrower waits until all are past it.
          past_barrier.fetch_add(1);
          if (r == thrower) {
            while (past_barrier.load() < p) std::this_thread::yield();
            throw std::runtime_error("planned failure");
          }
          auto wait_for_abort = [&] {
            std::vector<unsigned char> never(4);
            try {
              comm.recv_bytes(never.data(), 4, left, 6);  // nobody sends this
              outcome[r] += "no abort;";
            } catch (const mlsys::Error& e) {
              bool aborted = std::string(e.what()).find("aborted because rank " +
                                                        std::to_string(thrower) + " failed") !=
                             std::string::npos;
              outcome[r] += aborted ? "aborted;" : std::string(e.what()) + ";";
            }
          };
          if (abort_first) wait_for_abort();
          if (trial % 3 == 0) {
            recv.wait();
            send.wait();
          } else {
            send.wait();
            recv.wait();
          }
          std::string bad = check_bytes(in.data(), n, 10 * trial + left);
          outcome[r] += bad.empty() ? "delivered;" : "wrong data: " + bad + ";";
          if (!abort_first) wait_for_abort();
        });
      } catch (const pa3::RankFailed& e) {
        failed = e.rank();
        error = e.what();
      }
      SCOPED_TRACE("p = " + std::to_string(p) + ", trial " + std::to_string(trial));
      EXPECT_EQ(failed, thrower);
      EXPECT_NE(error.find("planned failure"), std::string::npos) << error;
      const std::string want = abort_first ? "aborted;delivered;" : "delivered;aborted;";
      for (int r = 0; r < p; ++r) {
        if (r == thrower) continue;
        EXPECT_EQ(outcome[r], want) << "rank " << r;
      }
    }
  }
}
