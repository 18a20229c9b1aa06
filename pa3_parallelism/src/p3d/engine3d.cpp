// Given code of PA3 Task 7 (contracts in pa3/parallel3d.h): the options, the stage split, this
// rank's parameters and flat buffers, the pipeline stage that runs the (tensor-parallel)
// blocks, the timed step and the assembly of the full model. The composition itself is in
// src/parallel3d.cpp.
#include <algorithm>
#include <chrono>
#include <cstring>

#include "mlsys/error.h"
#include "mlsys/ops.h"
#include "pa3/parallel3d.h"
#include "pa3/tensor_parallel.h"

namespace pa3 {

namespace {

[[noreturn]] void fail(const char* op, const std::string& arg, const std::string& what) {
  throw mlsys::Error(std::string(op) + ": argument '" + arg + "': " + what);
}

std::string str(int64_t v) { return std::to_string(v); }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// ============================================================================================
// Options and the stage split
// ============================================================================================

void Options3D::validate(const GPTConfig& config) const {
  const char* op = "Options3D";
  config.validate();
  if (grid.dp < 1 || grid.tp < 1 || grid.pp < 1) {
    fail(op, "grid", "expected sizes >= 1, got dp x tp x pp = " + str(grid.dp) + " x " +
                         str(grid.tp) + " x " + str(grid.pp));
  }
  parse_schedule_name(schedule);  // throws on an unknown name
  if (num_micro < 1) fail(op, "num_micro", "expected >= 1, got " + str(num_micro));
  if (stage_layers.empty()) {
    if (config.n_layer < grid.pp) {
      fail(op, "grid.pp", "expected at most n_layer = " + str(config.n_layer) +
                              " stages (each needs a block), got " + str(grid.pp));
    }
  } else {
    if (static_cast<int64_t>(stage_layers.size()) != grid.pp) {
      fail(op, "stage_layers", "expected " + str(grid.pp) + " entries (one per stage), got " +
                                   str(static_cast<int64_t>(stage_layers.size())));
    }
    int64_t total = 0;
    for (int64_t n : stage_layers) {
      if (n < 1) fail(op, "stage_layers", "expected every stage >= 1 block, got " + str(n));
      total += n;
    }
    if (total != config.n_layer) {
      fail(op, "stage_layers", "expected blocks summing to n_layer = " + str(config.n_layer) +
                                   ", got " + str(total));
    }
  }
  tp_check_config(op, config, grid.tp);
}

LayerRange layers_of_stage(const GPTConfig& config, const Options3D& options, int stage) {
  if (stage < 0 || stage >= options.grid.pp) {
    fail("layers_of_stage", "stage", "expected a stage in [0, " + str(options.grid.pp) +
                                         "), got " + str(stage));
  }
  if (options.stage_layers.empty()) return stage_layers(config.n_layer, options.grid.pp, stage);
  LayerRange r;
  for (int s = 0; s < stage; ++s) r.begin += options.stage_layers[s];
  r.end = r.begin + options.stage_layers[stage];
  return r;
}

// ============================================================================================
// The pipeline stage of one rank: its blocks, TP inside
// ============================================================================================
//
// Holds GPTParams-shaped views of this rank's tensors (only its stage's are defined), so the
// model functions of gpt.h (TP = 1) and tensor_parallel.h (TP > 1) run on them unchanged.
class Stage3D : public PipelineStage {
 public:
  Stage3D(const GPTConfig& config, const Communicator& tp, int stage, int num_stages,
          LayerRange layers, GPTParams params, GPTParams grads)
      : config_(config), tp_(tp), stage_(stage), num_stages_(num_stages), layers_(layers),
        params_(std::move(params)), grads_(std::move(grads)) {}

  void set_batch(const Batch& local, int64_t num_micro, int64_t global_rows) {
    const int64_t rows = local.inputs.size(0);
    T_ = local.inputs.size(1);
    if (rows % num_micro != 0) {
      fail("Parallel3D::step", "global_batch", "expected each DP rank's " + str(rows) +
                                                   " rows to split into num_micro = " +
                                                   str(num_micro) + " micro-batches");
    }
    micro_.clear();
    for (int64_t i = 0; i < num_micro; ++i) micro_.push_back(batch_shard(local, i, num_micro));
    b_ = rows / num_micro;
    acts_.assign(static_cast<size_t>(num_micro), MicroActs());
    loss_sum_ = 0.0;
    dloss_ = 1.0f / static_cast<float>(global_rows * T_);
  }

  mlsys::Shape input_shape() const override { return {b_, T_, config_.n_embd}; }
  mlsys::Shape output_shape() const override { return {b_, T_, config_.n_embd}; }

  void forward(int micro, const Tensor& input, const Tensor& output) override {
    MicroActs& a = acts_.at(static_cast<size_t>(micro));
    const Batch& mb = micro_.at(static_cast<size_t>(micro));
    const bool tp = tp_.size() > 1;
    Tensor x;
    if (stage_ == 0) {
      a.input = mlsys::empty({b_, T_, config_.n_embd});
      if (tp) {
        vocab_parallel_embedding_forward(tp_, a.input, mb.inputs, params_.wte, params_.wpe);
      } else {
        embedding_forward(a.input, mb.inputs, params_.wte, params_.wpe);
      }
    } else {
      a.input = input.contiguous().clone();  // the executor does not keep it
    }
    x = a.input;
    a.blocks.clear();
    for (int64_t l = layers_.begin; l < layers_.end; ++l) {
      a.blocks.push_back(tp ? tp_block_acts_alloc(config_, tp_.size(), b_, T_)
                            : block_acts_alloc(config_, b_, T_));
      if (tp) {
        tp_block_forward(a.blocks.back(), params_.h[l], x, config_.n_head, tp_);
      } else {
        block_forward(a.blocks.back(), params_.h[l], x, config_.n_head);
      }
      x = a.blocks.back().out;
    }
    if (stage_ == num_stages_ - 1) {
      a.head = tp ? tp_head_acts_alloc(config_, tp_.size(), b_, T_)
                  : head_acts_alloc(config_, b_, T_);
      loss_sum_ += tp ? tp_head_forward(a.head, params_, config_, x, mb.targets, tp_)
                      : head_forward(a.head, params_, config_, x, mb.targets);
    } else {
      Tensor out = output;
      out.copy_(x);
    }
    a.live = true;
    ++held_;
    peak_held_ = std::max(peak_held_, held_);
  }

  void backward(int micro, const Tensor& grad_output, const Tensor& grad_input) override {
    MicroActs& a = acts_.at(static_cast<size_t>(micro));
    const Batch& mb = micro_.at(static_cast<size_t>(micro));
    const bool tp = tp_.size() > 1;
    const int64_t n = layers_.size();
    auto block_input = [&](int64_t j) { return j == 0 ? a.input : a.blocks[j - 1].out; };
    Tensor dx;
    if (stage_ == num_stages_ - 1) {
      const Tensor top = block_input(n);
      dx = mlsys::zeros(top.shape());
      if (tp) {
        tp_head_backward(dx, grads_, a.head, params_, config_, top, mb.targets, dloss_, tp_);
      } else {
        head_backward(dx, grads_, a.head, params_, config_, top, mb.targets, dloss_);
      }
    } else {
      dx = grad_output.contiguous();
    }
    for (int64_t j = n - 1; j >= 0; --j) {
      const int64_t l = layers_.begin + j;
      Tensor dinp = mlsys::zeros(block_input(j).shape());
      if (tp) {
        tp_block_backward(dinp, grads_.h[l], dx, a.blocks[j], params_.h[l], block_input(j),
                          config_.n_head, tp_);
      } else {
        block_backward(dinp, grads_.h[l], dx, a.blocks[j], params_.h[l], block_input(j),
                       config_.n_head);
      }
      dx = dinp;
    }
    if (stage_ == 0) {
      if (tp) {
        vocab_parallel_embedding_backward(tp_, grads_.wte, grads_.wpe, dx, mb.inputs);
      } else {
        embedding_backward(grads_.wte, grads_.wpe, dx, mb.inputs);
      }
    } else {
      float* gi = grad_input.data<float>();  // zeroed by the executor: it becomes dx
      const float* d = dx.data<float>();
      for (int64_t e = 0; e < grad_input.numel(); ++e) gi[e] = gi[e] + d[e];
    }
    a = MicroActs();
    --held_;
  }

  double loss_sum() const { return stage_ == num_stages_ - 1 ? loss_sum_ : 0.0; }
  int64_t peak_held() const { return peak_held_; }
  void reset_peak() { peak_held_ = held_; }

 private:
  struct MicroActs {
    bool live = false;
    Tensor input;  // the first block's input: the embedding output (stage 0) or the received x
    std::vector<BlockActs> blocks;
    HeadActs head;
  };
  GPTConfig config_;
  Communicator tp_;
  int stage_, num_stages_;
  LayerRange layers_;
  GPTParams params_, grads_;
  std::vector<Batch> micro_;
  std::vector<MicroActs> acts_;
  int64_t b_ = 0, T_ = 0;
  double loss_sum_ = 0.0;
  float dloss_ = 0.f;
  int64_t held_ = 0, peak_held_ = 0;
};

struct Parallel3D::Impl {
  std::unique_ptr<Stage3D> stage;
};

// ============================================================================================
// Construction: this rank's tensors, buckets and flat buffers
// ============================================================================================

namespace {
const Options3D& validated(const GPTConfig& config, const Options3D& options,
                           const Communicator& world) {
  options.validate(config);
  if (!world.valid()) fail("Parallel3D", "world", "expected a valid communicator");
  if (world.size() != options.grid.world()) {
    fail("Parallel3D", "options.grid", "expected dp x tp x pp = " + str(options.grid.world()) +
                                           " to equal the world's " + str(world.size()) +
                                           " ranks");
  }
  return options;
}
}  // namespace

Parallel3D::Parallel3D(Communicator& world, const GPTConfig& config, const Options3D& options)
    : config_(config),
      options_(validated(config, options, world)),
      grid_(world, options.grid) {
  const GridShape& g = options_.grid;
  const GridCoord& c = grid_.coord();
  const int64_t L = config.n_layer;
  const bool first = c.pp == 0, last = c.pp == g.pp - 1;
  const bool tied_copies = config.tie_embeddings && g.pp > 1;
  layers_ = layers_of_stage(config, options_, c.pp);

  // The embed group: a split of the world (collective), so every rank takes part.
  if (tied_copies) {
    const bool member = first || last;
    const int color = member ? c.tp + g.tp * c.dp : g.tp * g.dp + world.rank();
    embed_ = world.split(color, first ? 0 : 1);
    if (!member) embed_ = Communicator();
  }

  // Every rank draws the full model (the same seed everywhere), then keeps its TP shard.
  GPTParams full = gpt_init(config, options_.model_seed);
  GPTParams shard = g.tp > 1 ? tp_shard_params(full, config, g.tp, c.tp) : full;
  full = GPTParams();
  const std::vector<NamedTensor> named = shard.list();
  std::vector<Tensor*> fields = shard.fields();

  // The tensors of this stage, canonical indices (tied copy on the last stage: index 0).
  struct Pick {
    int index;
    std::string name;
    bool copy;
  };
  std::vector<Pick> picks;
  if (tied_copies && last) picks.push_back({0, "lm_head.weight (tied)", true});
  for (int i = 0; i < static_cast<int>(named.size()); ++i) {
    bool mine;
    if (i < 2) {
      mine = first;
    } else if (i < 2 + 12 * L) {
      const int64_t block = (i - 2) / 12;
      mine = block >= layers_.begin && block < layers_.end;
    } else {
      mine = last;  // ln_f and (untied) lm_head
    }
    if (mine) picks.push_back({i, named[i].name, false});
  }
  // Buckets: the tied copy alone in bucket 0 (stage 0: wte, index 0, is first anyway), the rest
  // in the last bucket.
  const int D = g.dp;
  auto round_up = [D](int64_t n) { return (n + D - 1) / D * D; };
  int64_t begin = 0;
  const bool tied_bucket = tied_copies && !picks.empty() && picks.front().index == 0;
  for (size_t k = 0; k < picks.size(); ++k) {
    if (buckets_.empty() || (k == 1 && tied_bucket)) {
      if (!buckets_.empty()) begin += buckets_.back().padded;
      buckets_.push_back(Bucket3D{begin, 0, 0});
    }
    LocalParam lp;
    lp.index = picks[k].index;
    lp.name = picks[k].name;
    lp.decay = named[picks[k].index].decay ? options_.adamw.weight_decay : 0.f;
    lp.bucket = static_cast<int64_t>(buckets_.size()) - 1;
    lp.offset = buckets_.back().begin + buckets_.back().numel;
    lp.param = *fields[picks[k].index];  // the shard's tensor, copied into the flat buffer below
    buckets_.back().numel += lp.param.numel();
    buckets_.back().padded = round_up(buckets_.back().numel);
    local_.push_back(lp);
  }
  int64_t flat_n = 0, shard_n = 0;
  for (const Bucket3D& b : buckets_) {
    flat_n += b.padded;
    shard_n += b.padded / D;
  }
  flat_params_ = mlsys::zeros({flat_n});
  flat_grads_ = mlsys::zeros({flat_n});
  m_ = mlsys::zeros({shard_n});
  v_ = mlsys::zeros({shard_n});

  // Views: GPTParams-shaped structs whose defined tensors are this rank's, in the flat buffers.
  GPTParams pview = gpt_zeros_like(shard), gview = gpt_zeros_like(shard);
  std::vector<Tensor*> pf = pview.fields(), gf = gview.fields();
  for (Tensor* t : pf) *t = Tensor();
  for (Tensor* t : gf) *t = Tensor();
  for (LocalParam& lp : local_) {
    const mlsys::Shape shape = lp.param.shape();
    const int64_t n = lp.param.numel();
    Tensor pv = flat_params_.slice(0, lp.offset, lp.offset + n).reshape(shape);
    Tensor gv = flat_grads_.slice(0, lp.offset, lp.offset + n).reshape(shape);
    pv.copy_(lp.param);
    lp.param = pv;
    lp.grad = gv;
    if (lp.name == "lm_head.weight (tied)") {
      pview.lm_head = pv;
      gview.lm_head = gv;
    } else {
      *pf[lp.index] = pv;
      *gf[lp.index] = gv;
    }
  }
  if (config.tie_embeddings && !tied_copies) {  // PP == 1: the head reads wte itself
    pview.lm_head = pview.wte;
    gview.lm_head = gview.wte;
  }
  impl_ = std::make_unique<Impl>();
  impl_->stage = std::make_unique<Stage3D>(config, grid_.tp(), c.pp, g.pp, layers_, pview, gview);
  schedule_ = make_schedule(parse_schedule_name(options_.schedule), g.pp, c.pp,
                            static_cast<int>(options_.num_micro));
}

Parallel3D::~Parallel3D() = default;

int64_t Parallel3D::shard_offset(size_t b) const {
  int64_t at = 0;
  for (size_t i = 0; i < b && i < buckets_.size(); ++i) at += buckets_[i].padded / options_.grid.dp;
  return at;
}

// ============================================================================================
// The step
// ============================================================================================

float Parallel3D::step(const Batch& global_batch) {
  const int64_t B = global_batch.inputs.size(0);
  const int64_t split = options_.grid.dp * options_.num_micro;
  if (B % split != 0) {
    fail("Parallel3D::step", "global_batch", "expected rows B divisible by dp * num_micro = " +
                                                 str(split) + ", got B = " + str(B));
  }
  // Every rank must hold the same global batch (see DataParallel::step).
  grid_.world().check_same(B, "global_batch rows", "Parallel3D::step");
  grid_.world().check_same(global_batch.inputs.size(1), "global_batch positions",
                           "Parallel3D::step");
  const auto t0 = std::chrono::steady_clock::now();
  ++step_;
  global_rows_ = B;
  impl_->stage->reset_peak();
  const float loss = step_3d(global_batch);
  stats_.seconds = seconds_since(t0);
  stats_.busy_seconds = 0;
  stats_.pipeline_seconds = 0;
  if (!pipeline_.timeline.empty()) {
    double lo = pipeline_.timeline.front().start_us, hi = pipeline_.timeline.front().end_us;
    for (const TimelineEvent& e : pipeline_.timeline) {
      stats_.busy_seconds += (e.end_us - e.start_us) * 1e-6;
      lo = std::min(lo, e.start_us);
      hi = std::max(hi, e.end_us);
    }
    stats_.pipeline_seconds = (hi - lo) * 1e-6;
  }
  stats_.stash_peak = impl_->stage->peak_held();
  return loss;
}

void Parallel3D::begin_step(const Batch& local) {
  std::fill(flat_grads_.data<float>(), flat_grads_.data<float>() + flat_grads_.numel(), 0.f);
  impl_->stage->set_batch(local, options_.num_micro, global_rows_);
}

PipelineStage& Parallel3D::stage() { return *impl_->stage; }

double Parallel3D::stage_loss_sum() const { return impl_->stage->loss_sum(); }

void Parallel3D::adamw_range(size_t b, int64_t lo, int64_t hi, float* p, const float* g,
                             float* m, float* v) const {
  for (const LocalParam& lp : local_) {
    if (lp.bucket != static_cast<int64_t>(b)) continue;
    const int64_t from = std::max(lo, lp.offset);
    const int64_t to = std::min(hi, lp.offset + lp.param.numel());
    if (from >= to) continue;
    const int64_t at = from - lo;
    adamw_update(p + at, g + at, m + at, v + at, to - from, step_, options_.adamw, lp.decay);
  }
}

// ============================================================================================
// The full model on every rank
// ============================================================================================

GPTParams Parallel3D::full_params() {
  const GridShape& g = options_.grid;
  // This rank's TP shard of every tensor: the stage's own, the others broadcast over grid.pp()
  // from the stage that holds them.
  GPTParams shard = gpt_init(config_, 0);
  if (g.tp > 1) shard = tp_shard_params(shard, config_, g.tp, grid_.coord().tp);
  std::vector<Tensor*> fields = shard.fields();
  for (const LocalParam& lp : local_) {
    if (lp.name != "lm_head.weight (tied)") fields[lp.index]->copy_(lp.param);
  }
  const int64_t L = config_.n_layer;
  for (int i = 0; i < static_cast<int>(fields.size()); ++i) {
    int owner = g.pp - 1;  // ln_f, lm_head
    if (i < 2) {
      owner = 0;
    } else if (i < 2 + 12 * L) {
      const int64_t block = (i - 2) / 12;
      for (int s = 0; s < g.pp; ++s) {
        const LayerRange r = layers_of_stage(config_, options_, s);
        if (block >= r.begin && block < r.end) owner = s;
      }
    }
    grid_.pp().native_broadcast(*fields[i], owner);
  }
  if (shard.tied) shard.lm_head = shard.wte;
  if (g.tp == 1) return shard;
  return tp_gather_params(grid_.tp(), shard, config_);
}

}  // namespace pa3
