// The threads backend: every rank is a thread of one process, messages are copied between
// their buffers.
//
// A World holds, per rank, a mailbox of posted sends that no receive has matched yet and of
// posted receives that no send has matched yet, and what the rank is doing (for the roll
// call). One mutex guards the whole World; one condition variable wakes waiters. A send and a
// receive match when their context (communicator and channel), source, destination and tag
// agree; among several candidates the one posted first wins, which gives MPI's non-overtaking
// order. A send completes only when its data has been copied into the receive's buffer
// (synchronous mode, like MPI_Ssend), so programs that rely on buffering deadlock here as they
// may under MPI.
//
// The copy: matching only pairs the two requests. The first of the two ranks that then waits
// on (or tests, or destroys) either request claims the pair and makes the one memcpy, with the
// mutex released, so that the copies of different pairs run at the same time on different
// cores. (sendrecv waits on its receive first, so in a ring step every rank copies its own
// incoming chunk, which then sits in its own cache for what it does next, such as the add of
// a reduce-scatter.) A request whose pair has been claimed is not released, by wait, abort or
// destruction, until the copy is done: no copy ever touches a buffer its owner got back.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <iomanip>
#include <map>
#include <sstream>
#include <thread>

#include "comm_internal.h"
#include "mlsys/memory_stats.h"
#include "pa3/backend.h"

namespace pa3 {
namespace {

using Clock = std::chrono::steady_clock;

struct Desc {
  bool is_send = false;
  int context = 0;
  int src = 0, dst = 0;              // ranks in the communicator
  int src_world = 0, dst_world = 0;  // ranks in the world (mailboxes, roll call)
  int tag = 0;
  const void* send_data = nullptr;
  void* recv_data = nullptr;
  size_t nbytes = 0;
  ElemType type = ElemType::Bytes;
  const char* op = "";
  std::string comm_name;
  bool world_comm = true;
  bool done = false;
  std::string error;
  // Matched with `peer` (a send with its receive), not copied yet unless `claimed`.
  std::shared_ptr<Desc> peer;
  bool claimed = false;  // a rank is copying this pair's data (mutex released)
};
using DescPtr = std::shared_ptr<Desc>;

struct Mailbox {
  std::deque<DescPtr> sends;  // addressed to this rank, not matched yet
  std::deque<DescPtr> recvs;  // posted by this rank, not matched yet
};

enum class State { Running, Blocked, Finished, Failed };

struct Activity {
  State state = State::Running;
  std::string what;
  Clock::time_point since;
};

std::string peer_name(int rank, int world_rank, bool world_comm) {
  std::string s = "rank " + std::to_string(rank);
  if (!world_comm) s += " (world rank " + std::to_string(world_rank) + ")";
  return s;
}

std::string size_text(size_t nbytes, ElemType type) {
  std::string s = std::to_string(nbytes) + " bytes";
  if (type != ElemType::Bytes)
    s += " (" + std::to_string(nbytes / elem_size(type)) + " " + to_string(type) + ")";
  return s;
}

}  // namespace

class World {
 public:
  explicit World(int n) : n_(n), boxes_(n), activity_(n) {
    contexts_["world"] = 0;
  }

  std::mutex mu;
  std::condition_variable cv;

  int n() const { return n_; }
  Mailbox& box(int world_rank) { return boxes_[world_rank]; }
  Activity& activity(int world_rank) { return activity_[world_rank]; }
  bool aborted() const { return failed_rank_ >= 0; }
  int failed_rank() const { return failed_rank_; }

  // Under mu. The first failure wins; everyone waiting wakes up and aborts.
  void fail(int world_rank) {
    if (failed_rank_ < 0) failed_rank_ = world_rank;
    activity_[world_rank].state = State::Failed;
    cv.notify_all();
  }

  // Under mu. Context ids come in pairs (User, Collective); the key names the split.
  int context_for(const std::string& key) {
    auto it = contexts_.find(key);
    if (it != contexts_.end()) return it->second;
    next_context_ += 2;
    contexts_[key] = next_context_;
    return next_context_;
  }

  // Under mu: one line per rank.
  std::string roll_call() const {
    std::ostringstream os;
    auto now = Clock::now();
    for (int r = 0; r < n_; ++r) {
      const Activity& a = activity_[r];
      os << "\n  rank " << r << ": ";
      switch (a.state) {
        case State::Running: os << "running its own code (not in a communication call)"; break;
        case State::Finished: os << "finished (its function returned)"; break;
        case State::Failed: os << "failed (threw an exception)"; break;
        case State::Blocked: {
          double waited = std::chrono::duration<double>(now - a.since).count();
          os << a.what << ", blocked for " << std::fixed << std::setprecision(2) << waited
             << " s";
          break;
        }
      }
    }
    return os.str();
  }

 private:
  int n_;
  std::vector<Mailbox> boxes_;
  std::vector<Activity> activity_;
  std::map<std::string, int> contexts_;
  int next_context_ = 0;
  int failed_rank_ = -1;
};

namespace {

// Under mu: pairs a send with its receive. A size or dtype clash is an error on both, at once;
// an empty message is complete at once; otherwise the pair waits for a rank to copy it
// (copy_pair).
void match(World& world, const DescPtr& send, const DescPtr& recv) {
  bool type_clash = send->type != recv->type && send->type != ElemType::Bytes &&
                    recv->type != ElemType::Bytes;
  if (send->nbytes != recv->nbytes || type_clash) {
    std::string where = " (tag " + std::to_string(send->tag) + ", communicator '" +
                        send->comm_name + "')";
    recv->error = std::string("pa3::") + recv->op + ": rank " + std::to_string(recv->dst) +
                  " expected " + size_text(recv->nbytes, recv->type) + " from " +
                  peer_name(send->src, send->src_world, send->world_comm) + where + ", but " +
                  "rank " + std::to_string(send->src) + " sent " +
                  size_text(send->nbytes, send->type) +
                  "; sender and receiver must agree on the size and dtype";
    send->error = std::string("pa3::") + send->op + ": rank " + std::to_string(send->src) +
                  " sent " + size_text(send->nbytes, send->type) + " to " +
                  peer_name(recv->dst, recv->dst_world, recv->world_comm) + where + ", but " +
                  "rank " + std::to_string(recv->dst) + " posted a receive of " +
                  size_text(recv->nbytes, recv->type) +
                  "; sender and receiver must agree on the size and dtype";
    send->done = recv->done = true;
  } else if (send->nbytes == 0) {
    send->done = recv->done = true;
  } else {
    send->peer = recv;
    recv->peer = send;
  }
  world.cv.notify_all();
}

// Called with `lock` held on world.mu, for a request d that is matched and unclaimed: claims
// the pair, copies with the mutex released, and marks both requests done.
void copy_pair(World& world, std::unique_lock<std::mutex>& lock, Desc& d) {
  DescPtr peer = d.peer;
  Desc& send = d.is_send ? d : *peer;
  Desc& recv = d.is_send ? *peer : d;
  send.claimed = recv.claimed = true;
  lock.unlock();
  std::memcpy(recv.recv_data, send.send_data, send.nbytes);
  lock.lock();
  send.done = recv.done = true;
  send.peer.reset();  // break the send <-> receive cycle
  recv.peer.reset();
  world.cv.notify_all();
}

bool copy_pending(const Desc& d) { return !d.done && d.peer && !d.claimed; }

bool matches(const Desc& send, const Desc& recv) {
  return send.context == recv.context && send.src == recv.src && send.dst == recv.dst &&
         send.tag == recv.tag;
}

// Under mu: takes d out of whichever queue holds it (a cancelled or failed request).
void unlink(World& world, const DescPtr& d) {
  Mailbox& box = world.box(d->dst_world);
  auto& q = d->is_send ? box.sends : box.recvs;
  q.erase(std::remove(q.begin(), q.end(), d), q.end());
}

std::string describe_wait(const Desc& d, const std::string& scope) {
  std::ostringstream os;
  os << "in " << d.op;
  if (!scope.empty() && scope != d.op) os << " (scope '" << scope << "')";
  if (d.is_send)
    os << ", sending to " << peer_name(d.dst, d.dst_world, d.world_comm);
  else
    os << ", receiving from " << peer_name(d.src, d.src_world, d.world_comm);
  os << " (tag " << d.tag << ", communicator '" << d.comm_name << "')";
  return os.str();
}

class ThreadRequest : public RequestImpl {
 public:
  ThreadRequest(std::shared_ptr<World> world, DescPtr desc, int my_world_rank, std::string scope)
      : world_(std::move(world)),
        desc_(std::move(desc)),
        me_(my_world_rank),
        scope_(std::move(scope)) {}

  // An unmatched request is withdrawn; a matched one is delivered first (as if it had been
  // waited for), and one whose copy another rank is making waits for that copy to end.
  ~ThreadRequest() override {
    std::unique_lock<std::mutex> lock(world_->mu);
    if (copy_pending(*desc_)) copy_pair(*world_, lock, *desc_);
    while (!desc_->done && desc_->claimed) world_->cv.wait(lock);
    if (!desc_->done) unlink(*world_, desc_);
  }

  bool test() override {
    std::unique_lock<std::mutex> lock(world_->mu);
    if (copy_pending(*desc_)) copy_pair(*world_, lock, *desc_);
    if (!desc_->done && !desc_->claimed && world_->aborted()) throw_aborted();
    if (desc_->done && !desc_->error.empty()) throw mlsys::Error(desc_->error);
    return desc_->done;
  }

  void wait() override {
    std::unique_lock<std::mutex> lock(world_->mu);
    if (!desc_->done) {
      const double seconds = deadline();
      const auto start = Clock::now();
      const auto until = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds));
      Activity& act = world_->activity(me_);
      act.state = State::Blocked;
      act.what = describe_wait(*desc_, scope_);
      act.since = start;
      while (!desc_->done) {
        if (copy_pending(*desc_)) {
          copy_pair(*world_, lock, *desc_);
          continue;
        }
        if (desc_->claimed) {  // the peer is copying: done within a memcpy
          world_->cv.wait(lock);
          continue;
        }
        if (world_->aborted()) {
          act.state = State::Running;
          throw_aborted();
        }
        if (world_->cv.wait_until(lock, until) == std::cv_status::timeout && !desc_->done &&
            !desc_->peer && !world_->aborted()) {
          std::ostringstream os;
          os << "pa3::" << desc_->op << ": deadline of " << seconds << " s exceeded: rank "
             << (desc_->is_send ? desc_->src : desc_->dst) << " waited ";
          if (desc_->is_send)
            os << "for " << peer_name(desc_->dst, desc_->dst_world, desc_->world_comm)
               << " to receive its message";
          else
            os << "for a message from "
               << peer_name(desc_->src, desc_->src_world, desc_->world_comm);
          os << " (tag " << desc_->tag << ", communicator '" << desc_->comm_name << "')."
             << "\nRoll call (world ranks) at that moment:" << world_->roll_call()
             << "\nRanks waiting for each other are a deadlock: two ranks that both recv (or "
                "both send) first wait forever; use sendrecv, or isend/irecv and wait. "
                "The deadline is set with pa3::set_deadline or MLSYS_PA3_DEADLINE_S.";
          unlink(*world_, desc_);
          world_->fail(me_);
          throw mlsys::Error(os.str());
        }
      }
      act.state = State::Running;
    }
    if (!desc_->error.empty()) throw mlsys::Error(desc_->error);
  }

 private:
  // Under mu.
  [[noreturn]] void throw_aborted() {
    unlink(*world_, desc_);
    std::ostringstream os;
    os << "pa3::" << desc_->op << ": aborted because rank " << world_->failed_rank()
       << " failed (this rank was in " << describe_wait(*desc_, scope_) << ")";
    throw mlsys::Error(os.str());
  }

  std::shared_ptr<World> world_;
  DescPtr desc_;
  int me_;
  std::string scope_;
};

class ThreadBackend : public Backend {
 public:
  ThreadBackend(std::shared_ptr<World> world, std::vector<int> members, int rank, int context,
                std::string name)
      : world_(std::move(world)),
        members_(std::move(members)),
        rank_(rank),
        context_(context),
        name_(std::move(name)) {}

  int rank() const override { return rank_; }
  int size() const override { return static_cast<int>(members_.size()); }
  const char* backend_name() const override { return "threads"; }
  std::string name() const override { return name_; }

  std::unique_ptr<RequestImpl> isend(const void* data, size_t nbytes, ElemType type, int dst,
                                     int tag, Channel channel, const char* op) override {
    auto d = make_desc(true, rank_, dst, tag, channel, type, nbytes, op);
    d->send_data = data;
    {
      std::lock_guard<std::mutex> lock(world_->mu);
      Mailbox& box = world_->box(d->dst_world);
      auto it = std::find_if(box.recvs.begin(), box.recvs.end(),
                             [&](const DescPtr& r) { return matches(*d, *r); });
      if (it != box.recvs.end()) {
        DescPtr r = *it;
        box.recvs.erase(it);
        match(*world_, d, r);
      } else {
        box.sends.push_back(d);
      }
    }
    return std::make_unique<ThreadRequest>(world_, d, members_[rank_], current_scope());
  }

  std::unique_ptr<RequestImpl> irecv(void* data, size_t nbytes, ElemType type, int src, int tag,
                                     Channel channel, const char* op) override {
    auto d = make_desc(false, src, rank_, tag, channel, type, nbytes, op);
    d->recv_data = data;
    {
      std::lock_guard<std::mutex> lock(world_->mu);
      Mailbox& box = world_->box(d->dst_world);
      auto it = std::find_if(box.sends.begin(), box.sends.end(),
                             [&](const DescPtr& s) { return matches(*s, *d); });
      if (it != box.sends.end()) {
        DescPtr s = *it;
        box.sends.erase(it);
        match(*world_, s, d);
      } else {
        box.recvs.push_back(d);
      }
    }
    return std::make_unique<ThreadRequest>(world_, d, members_[rank_], current_scope());
  }

 protected:
  std::shared_ptr<Backend> make_split(int color, int key,
                                      const std::vector<int64_t>& colors_keys) override {
    (void)key;
    // Members of my color, ordered by key.
    std::vector<std::pair<int64_t, int>> mine;  // (key, parent rank)
    for (int r = 0; r < size(); ++r)
      if (colors_keys[2 * r] == color) mine.push_back({colors_keys[2 * r + 1], r});
    std::sort(mine.begin(), mine.end());
    std::vector<int> members;
    int new_rank = -1;
    for (size_t i = 0; i < mine.size(); ++i) {
      members.push_back(members_[mine[i].second]);
      if (mine[i].second == rank_) new_rank = static_cast<int>(i);
    }
    // Every rank of this communicator calls split the same number of times, so
    // (parent context, split number, color) names the new group identically on its members.
    std::string key_text = std::to_string(context_) + "/" + std::to_string(splits_++) + "/" +
                           std::to_string(color);
    int context;
    {
      std::lock_guard<std::mutex> lock(world_->mu);
      context = world_->context_for(key_text);
    }
    std::string name = name_ + ".split(color " + std::to_string(color) + ")";
    return std::make_shared<ThreadBackend>(world_, std::move(members), new_rank, context,
                                           std::move(name));
  }

 private:
  DescPtr make_desc(bool is_send, int src, int dst, int tag, Channel channel, ElemType type,
                    size_t nbytes, const char* op) {
    auto d = std::make_shared<Desc>();
    d->is_send = is_send;
    d->context = context_ + (channel == Channel::Collective ? 1 : 0);
    d->src = src;
    d->dst = dst;
    d->src_world = members_[src];
    d->dst_world = members_[dst];
    d->tag = tag;
    d->type = type;
    d->nbytes = nbytes;
    d->op = op;
    d->comm_name = name_;
    d->world_comm = static_cast<int>(members_.size()) == world_->n() && context_ == 0;
    return d;
  }

  std::shared_ptr<World> world_;
  std::vector<int> members_;  // world rank of each rank of this communicator
  int rank_;
  int context_;
  std::string name_;
  int splits_ = 0;
};

std::string message_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception (not derived from std::exception)";
  }
}

}  // namespace

constexpr int kMaxThreadRanks = 1024;

void run_ranks(int world_size, const std::function<void(Communicator&)>& fn) {
  MLSYS_CHECK(world_size >= 1 && world_size <= kMaxThreadRanks, "pa3::run_ranks",
              "argument 'world' must be in 1..", kMaxThreadRanks, ", got ", world_size);
  MLSYS_CHECK(static_cast<bool>(fn), "pa3::run_ranks", "argument 'fn' is empty");
  auto world = std::make_shared<World>(world_size);
  std::vector<int> everyone(world_size);
  for (int r = 0; r < world_size; ++r) everyone[r] = r;
  std::vector<std::exception_ptr> errors(world_size);
  std::vector<std::thread> threads;
  threads.reserve(world_size);
  for (int r = 0; r < world_size; ++r) {
    threads.emplace_back([&, r] {
      // Tensors this rank allocates are counted under tag r (mlsys/memory_stats.h).
      mlsys::memory::ScopedTag memory_tag(r);
      mlsys::memory::reset_peak(r);
      try {
        Communicator comm(std::make_shared<ThreadBackend>(world, everyone, r, 0, "world"));
        fn(comm);
        std::lock_guard<std::mutex> lock(world->mu);
        world->activity(r).state = State::Finished;
        world->cv.notify_all();
      } catch (...) {
        errors[r] = std::current_exception();
        std::lock_guard<std::mutex> lock(world->mu);
        world->fail(r);
      }
    });
  }
  for (auto& t : threads) t.join();
  int first = world->failed_rank();
  if (first >= 0 && errors[first]) {
    throw RankFailed(first, message_of(errors[first]), errors[first]);
  }
}

}  // namespace pa3
