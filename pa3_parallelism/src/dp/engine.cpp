// Given code of PA3 Tasks 3 and 4 (contracts in pa3/data_parallel.h): bucket layout helpers,
// the per-rank communication worker, and the parts of DataParallel that are bookkeeping
// (construction, buffers, dispatch, full copies). The algorithms are in data_parallel.cpp and
// zero.cpp.
#include <algorithm>
#include <cstring>

#include "mlsys/error.h"
#include "mlsys/memory_stats.h"
#include "mlsys/ops.h"
#include "pa3/data_parallel.h"

namespace pa3 {

namespace {

[[noreturn]] void fail(const char* op, const std::string& arg, const std::string& what) {
  throw mlsys::Error(std::string(op) + ": argument '" + arg + "': " + what);
}

Tensor flat_view(const Tensor& flat, int64_t offset, const mlsys::Shape& shape, int64_t n) {
  return flat.slice(0, offset, offset + n).reshape(shape);
}

}  // namespace

// ============================================================================================
// Layout helpers
// ============================================================================================

std::vector<int64_t> param_offsets(const std::vector<Bucket>& buckets,
                                   const std::vector<NamedTensor>& params) {
  const int64_t n = static_cast<int64_t>(params.size());
  std::vector<int64_t> offset(static_cast<size_t>(n), -1);
  for (const Bucket& b : buckets) {
    int64_t at = b.begin;
    for (int i : b.params) {
      if (i < 0 || i >= n) {
        fail("param_offsets", "buckets", "parameter index " + std::to_string(i) +
                                             " out of range [0, " + std::to_string(n) + ")");
      }
      offset[i] = at;
      at += params[i].tensor.numel();
    }
  }
  return offset;
}

int64_t flat_numel(const std::vector<Bucket>& buckets) {
  int64_t n = 0;
  for (const Bucket& b : buckets) n += b.padded;
  return n;
}

int64_t bucket_shard_offset(const std::vector<Bucket>& buckets, int world, size_t b) {
  int64_t at = 0;
  for (size_t i = 0; i < b && i < buckets.size(); ++i) at += buckets[i].padded / world;
  return at;
}

std::vector<Bucket> make_layer_buckets(const GPTConfig& config,
                                       const std::vector<NamedTensor>& params,
                                       const std::vector<bool>& trainable, int world) {
  const char* op = "make_layer_buckets";
  if (world < 1) fail(op, "world", "expected >= 1, got " + std::to_string(world));
  if (trainable.size() != params.size()) fail(op, "trainable", "expected one flag per parameter");
  const int64_t L = config.n_layer, n = static_cast<int64_t>(params.size());
  // unit of parameter i: 0 embedding, 1 + l block l, L + 1 head
  auto unit = [&](int64_t i) { return i < 2 ? 0 : (i < 2 + 12 * L ? 1 + (i - 2) / 12 : L + 1); };
  std::vector<Bucket> out;
  int64_t begin = 0, open_unit = -1;
  for (int64_t i = n - 1; i >= 0; --i) {
    if (!trainable[static_cast<size_t>(i)]) continue;
    if (out.empty() || unit(i) != open_unit) {
      if (!out.empty()) begin += out.back().padded;
      out.push_back(Bucket{{}, begin, 0, 0});
      open_unit = unit(i);
    }
    out.back().params.push_back(static_cast<int>(i));
    out.back().numel += params[i].tensor.numel();
    out.back().padded = ((out.back().numel + world - 1) / world) * world;
  }
  return out;
}

// ============================================================================================
// CommWorker
// ============================================================================================

void AsyncWork::wait() {
  if (!state_) throw mlsys::Error("AsyncWork::wait: argument 'this': expected a submitted work, got an empty handle");
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->done_cv.wait(lock, [&] { return state_->done; });
  if (state_->error) std::rethrow_exception(state_->error);
}

CommWorker::CommWorker() : tag_(mlsys::memory::thread_tag()) {
  thread_ = std::thread([this] { run(); });
}

CommWorker::~CommWorker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

AsyncWork CommWorker::submit(std::function<void()> fn) {
  auto state = std::make_shared<AsyncWork::State>();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.emplace_back(std::move(fn), state);
  }
  cv_.notify_all();
  return AsyncWork(state);
}

void CommWorker::run() {
  mlsys::memory::set_thread_tag(tag_);
  for (;;) {
    std::pair<std::function<void()>, std::shared_ptr<AsyncWork::State>> item;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    std::exception_ptr error;
    try {
      item.first();
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(item.second->mutex);
      item.second->done = true;
      item.second->error = error;
    }
    item.second->done_cv.notify_all();
  }
}

// ============================================================================================
// DataParallel: construction and bookkeeping
// ============================================================================================

DataParallel::DataParallel(const Communicator& comm, const GPTConfig& config,
                           const DPOptions& options)
    : comm_(comm), config_(config), options_(options) {
  const char* op = "DataParallel";
  config.validate();
  if (!comm.valid()) fail(op, "comm", "expected a valid communicator");
  rank_ = comm.rank();
  world_ = comm.size();
  if (options.zero < 0 || options.zero > 3)
    fail(op, "options.zero", "expected 0, 1, 2 or 3, got " + std::to_string(options.zero));
  if (options.bucket_cap_bytes <= 0)
    fail(op, "options.bucket_cap_bytes", "expected > 0, got " + std::to_string(options.bucket_cap_bytes));
  if (options.num_micro <= 0)
    fail(op, "options.num_micro", "expected > 0, got " + std::to_string(options.num_micro));

  // Rank r draws with seed + r: only rank 0's draw survives the broadcast.
  GPTParams init = gpt_init(config, options.model_seed + static_cast<uint64_t>(rank_));
  const std::vector<NamedTensor> list = init.list();
  const int64_t n = static_cast<int64_t>(list.size());
  trainable_.assign(n, true);
  for (const std::string& name : options.frozen) {
    auto it = std::find_if(list.begin(), list.end(), [&](const NamedTensor& t) { return t.name == name; });
    if (it == list.end()) fail(op, "options.frozen", "no parameter named '" + name + "'");
    trainable_[it - list.begin()] = false;
  }
  for (const NamedTensor& t : list) {
    numel_.push_back(t.tensor.numel());
    decay_.push_back(t.decay ? options.adamw.weight_decay : 0.f);
  }
  broadcast_params(comm_, list, 0);  // Task 3.1

  buckets_ = options.zero == 3 ? make_layer_buckets(config, list, trainable_, world_)
                               : make_buckets(list, trainable_, options.bucket_cap_bytes, world_);
  offset_.assign(n, -1);
  for (const Bucket& b : buckets_) {
    int64_t at = b.begin;
    for (int i : b.params) {
      offset_[i] = at;
      at += numel_[i];
    }
  }
  shard_numel_ = flat_numel(buckets_) / world_;
  const int64_t flat_n = flat_numel(buckets_);

  params_ = init;  // frozen parameters keep init's tensors; trained ones are replaced below
  grads_ = gpt_zeros_like(init);  // replaced below for trained parameters (freed right away)
  std::vector<Tensor*> pf = params_.fields(), gf = grads_.fields();
  if (options.zero < 3) {
    flat_params_ = mlsys::zeros({flat_n});
    for (int64_t i = 0; i < n; ++i) {
      if (!trainable_[i]) continue;
      Tensor view = flat_view(flat_params_, offset_[i], list[i].tensor.shape(), numel_[i]);
      view.copy_(list[i].tensor);
      *pf[i] = view;
      *gf[i] = Tensor();
    }
  } else {
    Tensor flat = mlsys::zeros({flat_n});  // temporary: the full weights, to cut the shard from
    for (int64_t i = 0; i < n; ++i) {
      if (!trainable_[i]) continue;
      flat_view(flat, offset_[i], list[i].tensor.shape(), numel_[i]).copy_(list[i].tensor);
      *pf[i] = Tensor();
      *gf[i] = Tensor();
    }
    param_shard_ = mlsys::zeros({shard_numel_});
    for (size_t b = 0; b < buckets_.size(); ++b) {
      const Chunk own = chunk_of(buckets_[b].padded, world_, rank_);
      std::memcpy(param_shard_.data<float>() + bucket_shard_offset(buckets_, world_, b),
                  flat.data<float>() + buckets_[b].begin + own.begin, sizeof(float) * own.size);
    }
  }
  if (params_.tied) {
    params_.lm_head = params_.wte;
    grads_.lm_head = grads_.wte;
  }
  init = GPTParams();

  if (options.zero <= 1) {
    flat_grads_ = mlsys::zeros({flat_n});
    attach_grads();
  }
  if (options.zero >= 2) grad_shard_ = mlsys::zeros({shard_numel_});
  const int64_t state_n = options.zero == 0 ? flat_n : shard_numel_;
  m_ = mlsys::zeros({state_n});
  v_ = mlsys::zeros({state_n});

  if (options.zero < 3) {
    if (options.overlap) worker_ = std::make_unique<CommWorker>();
    std::function<void(size_t)> reduce;
    if (options.zero == 0) {
      reduce = [this](size_t b) {
        comm_.native_all_reduce(flat_grads_.data<float>() + buckets_[b].begin, buckets_[b].padded);
      };
    } else {
      reduce = [this](size_t b) { zero_reduce_bucket(b); };
    }
    reducer_ = std::make_unique<BucketReducer>(buckets_, n, reduce, worker_.get());
  }
}

DataParallel::~DataParallel() = default;

float DataParallel::step(const Batch& global_batch) {
  const char* op = "DataParallel::step";
  const int64_t B = global_batch.inputs.size(0);
  if (B % (world_ * options_.num_micro) != 0) {
    fail(op, "global_batch", "expected a batch whose rows B are a multiple of N * num_micro = " +
                                 std::to_string(world_ * options_.num_micro) + ", got B = " +
                                 std::to_string(B));
  }
  // Every rank must hold the same global batch: with other rows or positions its share of
  // the mean loss (1 / (B T)) would be silently wrong.
  comm_.check_same(B, "global_batch rows", op);
  comm_.check_same(global_batch.inputs.size(1), "global_batch positions", op);
  const Batch local = batch_shard(global_batch, rank_, world_);
  ++step_;
  return options_.zero == 3 ? zero3_step(local) : step_replicated(local);
}

GPTParams DataParallel::full_params() {
  GPTParams out = gpt_init(config_, 0);  // fresh storage of the right shapes, overwritten below
  std::vector<Tensor*> of = out.fields();
  if (options_.zero < 3) {
    std::vector<Tensor*> pf = params_.fields();
    for (size_t i = 0; i < of.size(); ++i) of[i]->copy_(*pf[i]);
    return out;
  }
  std::vector<Tensor*> pf = params_.fields();
  for (size_t i = 0; i < of.size(); ++i) {
    if (!trainable_[i]) of[i]->copy_(*pf[i]);
  }
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const Tensor full = zero3_gather(b);
    for (int i : buckets_[b].params) {
      of[i]->copy_(flat_view(full, offset_[i] - buckets_[b].begin, of[i]->shape(), numel_[i]));
    }
  }
  return out;
}

void DataParallel::adamw_flat_range(size_t b, int64_t lo, int64_t hi, float* p, const float* g,
                                    float* m, float* v) const {
  for (int i : buckets_[b].params) {
    const int64_t s = std::max(lo, offset_[i]), e = std::min(hi, offset_[i] + numel_[i]);
    if (s >= e) continue;
    adamw_update(p + (s - lo), g + (s - lo), m + (s - lo), v + (s - lo), e - s, step_,
                 options_.adamw, decay_[i]);
  }
}

void DataParallel::attach_grads() {
  if (options_.zero == 2) flat_grads_ = mlsys::zeros({flat_numel(buckets_)});
  std::fill(flat_grads_.data<float>(), flat_grads_.data<float>() + flat_grads_.numel(), 0.f);
  std::vector<Tensor*> gf = grads_.fields();
  for (size_t i = 0; i < gf.size(); ++i) {
    if (trainable_[i]) {
      *gf[i] = flat_view(flat_grads_, offset_[i], params_.fields()[i]->shape(), numel_[i]);
    } else {
      gf[i]->fill_(0.f);
    }
  }
  if (grads_.tied) grads_.lm_head = grads_.wte;
}

void DataParallel::release_grads() {
  if (options_.zero != 2) return;
  std::vector<Tensor*> gf = grads_.fields();
  for (size_t i = 0; i < gf.size(); ++i) {
    if (trainable_[i]) *gf[i] = Tensor();
  }
  if (grads_.tied) grads_.lm_head = grads_.wte;
  flat_grads_ = Tensor();
}

void DataParallel::zero3_point(GPTParams& target, size_t b, const Tensor& full) const {
  std::vector<Tensor*> tf = target.fields();
  // Shapes come from the model's configuration (the target's tensors may be undefined).
  const int64_t C = config_.n_embd, Vp = config_.padded_vocab_size, L = config_.n_layer;
  auto shape_of = [&](int i) -> mlsys::Shape {
    if (i == 0) return {Vp, C};
    if (i == 1) return {config_.block_size, C};
    if (i < 2 + 12 * L) {
      switch ((i - 2) % 12) {
        case 2: return {3 * C, C};
        case 3: return {3 * C};
        case 4: return {C, C};
        case 8: return {4 * C, C};
        case 9: return {4 * C};
        case 10: return {C, 4 * C};
        default: return {C};
      }
    }
    if (i == 4 + 12 * L) return {Vp, C};
    return {C};
  };
  for (int i : buckets_[b].params) {
    *tf[i] = full.defined() ? flat_view(full, offset_[i] - buckets_[b].begin, shape_of(i), numel_[i])
                            : Tensor();
  }
  if (target.tied) target.lm_head = target.wte;
}

std::vector<Tensor*> DataParallel::param_fields(GPTParams& p) { return p.fields(); }

Tensor DataParallel::gather_alloc(int64_t n) const {
  mlsys::memory::ScopedTag tag(gather_tag(rank_));
  return mlsys::zeros({n});
}

}  // namespace pa3
