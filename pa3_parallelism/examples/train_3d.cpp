// pa3_train's 3D mode (PA3 Task 7): DP x TP x PP with ZeRO-1 on the DP axis, on either backend.
// pa3_train (examples/train_dp.cpp) hands its command line here when it holds --tp, --pp or
// --schedule:
//
//   pa3_train --dp 2 --tp 2 --pp 2 [--schedule gpipe|1f1b] [--micro-batches M] [--stages 2,1]
//             [--backend threads|mpi] [--steps N] [--batch B] [--seq T] [--layers L]
//             [--heads NH] [--embd C] [--lr LR] [--tied] [--log-every N] [--csv PATH]
//             [--sample CHARS] [--temperature X] [--seed S]
//
//   ./pa3_train --dp 2 --tp 2 --pp 2 --micro-batches 4                   threads, 8 ranks
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe -n 8
//       ./pa3_train --backend mpi --dp 2 --tp 2 --pp 2 --micro-batches 4  (one command line)
//
// Per logged step: the loss, tokens/s and the step's pipeline bubble (measured on the timeline
// of the pipeline of dp = 0, tp = 0). At the end: the layout's summary (mean tokens/s, the
// measured bubble against (p-1)/(m+p-1), the memory table of every rank: parameters, gradients,
// AdamW state, live and peak host tensor memory), the validation loss, a checksum of the final
// weights' bits and a sample of text.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "args.h"
#include "mlsys/error.h"
#include "mlsys/memory_stats.h"
#include "pa3/comm.h"
#include "pa3/data.h"
#include "pa3/parallel3d.h"
#include "pa3/pipeline.h"
#include "pa3/train.h"

namespace {

void usage3d() {
  std::printf(
      "usage: pa3_train --dp D --tp T --pp P [--schedule gpipe|1f1b] [--micro-batches M]\n"
      "                 [--stages n0,n1,...] [--backend threads|mpi] [--steps N] [--batch B]\n"
      "                 [--seq T] [--layers L] [--heads NH] [--embd C] [--lr LR] [--tied]\n"
      "                 [--log-every N] [--csv PATH] [--sample CHARS] [--temperature X]\n"
      "                 [--seed S]\n"
      "World = D*T*P ranks (threads, or mpirun -n D*T*P ... --backend mpi). B must be a\n"
      "multiple of D*M; T must divide the heads and the padded vocabulary (68); P <= L.\n"
      "--stages gives the blocks per stage (an uneven split), default as even as possible.\n");
}

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

uint64_t checksum3d(const pa3::GPTParams& params) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a over the bits, canonical order
  for (const pa3::NamedTensor& t : params.list()) {
    const mlsys::Tensor c = t.tensor.contiguous();
    const auto* p = static_cast<const unsigned char*>(c.raw_data());
    for (size_t i = 0, n = static_cast<size_t>(c.numel()) * sizeof(float); i < n; ++i)
      h = (h ^ p[i]) * 1099511628211ull;
  }
  return h;
}

}  // namespace

bool pa3_train_wants_3d(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tp" || a == "--pp" || a == "--schedule" || a == "--stages") return true;
  }
  return false;
}

int pa3_train_3d(int argc, char** argv) {
  std::string backend = "threads", csv_path = "pa3_train.csv";
  pa3::GPTConfig config;
  pa3::Options3D options;
  options.grid = {1, 1, 1};
  int64_t steps = 200, B = 16, log_every = 10, sample_chars = 300;
  float temperature = 0.8f;
  const pa3ex::CommonOptions common{config, steps, B, options.adamw.lr, options.model_seed,
                                    log_every, sample_chars, temperature};
  const int parsed = pa3ex::read_options("pa3_train", argc, argv, common, [&](pa3ex::Args& args) {
    const std::string& arg = args.flag();
    if (arg == "--backend") backend = args.text();
    else if (arg == "--dp") options.grid.dp = static_cast<int>(args.integer(1));
    else if (arg == "--tp") options.grid.tp = static_cast<int>(args.integer(1));
    else if (arg == "--pp") options.grid.pp = static_cast<int>(args.integer(1));
    else if (arg == "--schedule") options.schedule = args.text();
    else if (arg == "--micro-batches") options.num_micro = args.integer(1);
    else if (arg == "--stages") {
      std::stringstream list(args.text());
      std::string item;
      while (std::getline(list, item, ',')) {
        char* end = nullptr;
        const long long layers = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || layers < 0)
          args.fail("expects a comma-separated list of block counts, got item '" + item + "'");
        options.stage_layers.push_back(layers);
      }
    } else if (arg == "--zero") {
      if (args.integer(0) != 1) args.fail("must be 1: with --tp/--pp the DP axis runs ZeRO-1");
    } else if (arg == "--csv") csv_path = args.text();
    else return false;
    return true;
  }, usage3d, " (in 3D mode)");
  if (parsed >= 0) return parsed;
  pa3::Dataset data;
  try {
    data = pa3::load_dataset();
    config.vocab_size = data.tokenizer.vocab_size();
    config.padded_vocab_size = data.tokenizer.padded_vocab_size();
    options.validate(config);
  } catch (const mlsys::Error& e) {
    std::fprintf(stderr, "pa3_train: %s\n", e.what());
    return 2;
  }
  if (B % (options.grid.dp * options.num_micro) != 0 || log_every < 1) {
    std::fprintf(stderr, "pa3_train: --batch %lld must be a multiple of --dp %d times "
                 "--micro-batches %lld (and --log-every >= 1)\n",
                 (long long)B, options.grid.dp, (long long)options.num_micro);
    return 2;
  }
  const int64_t T = config.block_size;
  const int W = options.grid.world();
  std::vector<std::string> args = {argv[0], "--backend", backend, "--world", std::to_string(W)};
  std::vector<char*> launch_argv;
  for (std::string& a : args) launch_argv.push_back(&a[0]);
  launch_argv.push_back(nullptr);

  return pa3::launch(static_cast<int>(args.size()), launch_argv.data(), [&](pa3::Communicator& world) {
    const int r = world.rank();
    const bool lead = r == 0;
    pa3::Parallel3D model(world, config, options);
    const pa3::GridShape& g = options.grid;
    const int64_t m = options.num_micro;
    std::FILE* csv = nullptr;
    if (lead) {
      std::printf("pa3_train: backend %s, layout DP x TP x PP = %d x %d x %d (%d ranks), %s, "
                  "m=%lld micro-batches of %lld rows, ZeRO-1 on DP, V=%lld T=%lld L=%lld "
                  "NH=%lld C=%lld %s, B=%lld\n",
                  world.backend_name(), g.dp, g.tp, g.pp, W,
                  pa3::schedule_name(pa3::parse_schedule_name(options.schedule)), (long long)m,
                  (long long)(B / g.dp / m), (long long)config.vocab_size, (long long)T,
                  (long long)config.n_layer, (long long)config.n_head, (long long)config.n_embd,
                  config.tie_embeddings ? "tied" : "untied", (long long)B);
      std::printf("stages:");
      for (int s = 0; s < g.pp; ++s) {
        const pa3::LayerRange l = pa3::layers_of_stage(config, options, s);
        std::printf(" [%lld,%lld)", (long long)l.begin, (long long)l.end);
      }
      std::printf("  (blocks per stage; stage 0 also the embedding, stage %d the head)\n",
                  g.pp - 1);
      std::fflush(stdout);  // before any rank's error on stderr (mpirun forwards both)
      csv = std::fopen(csv_path.c_str(), "w");
      if (csv == nullptr) throw mlsys::Error("pa3_train: cannot write the CSV log " + csv_path);
      std::fprintf(csv, "step,loss,tokens_per_s,bubble,rank0_live_bytes,rank0_peak_bytes\n");
    }
    double tps_sum = 0, bubble_sum = 0;
    int64_t timed = 0;
    for (int64_t s = 0; s < steps; ++s) {
      mlsys::memory::reset_peak(r);
      const float loss = model.step(pa3::global_batch(data.train, s, 42, B, T));
      // The step's bubble on one pipeline (every pipeline runs the same schedule).
      const std::vector<pa3::TimelineEvent> events =
          pa3::gather_timeline(model.grid().pp(), model.last_pipeline().timeline);
      const double bubble = pa3::bubble_fraction(events, g.pp);
      if (!lead) continue;
      const mlsys::memory::Usage mem = mlsys::memory::usage(r);
      const double tps = static_cast<double>(B * T) / model.last_stats().seconds;
      if (s > 0 || steps == 1) {  // the first step warms up
        tps_sum += tps;
        bubble_sum += bubble;
        ++timed;
      }
      std::fprintf(csv, "%lld,%.6f,%.1f,%.4f,%lld,%lld\n", (long long)s + 1, loss, tps, bubble,
                   (long long)mem.live_bytes, (long long)mem.peak_bytes);
      if (s % log_every == 0 || s + 1 == steps) {
        std::printf("step %5lld/%lld | loss %.4f | %8.0f tok/s | bubble %.3f | rank 0 memory "
                    "%.2f MiB (peak %.2f MiB)\n",
                    (long long)s + 1, (long long)steps, loss, tps, bubble, mib(mem.live_bytes),
                    mib(mem.peak_bytes));
        std::fflush(stdout);
      }
    }
    if (csv != nullptr) std::fclose(csv);

    // The memory table: every rank's model state and its live/peak tensor memory.
    const mlsys::memory::Usage mem = mlsys::memory::usage(r);
    const double mine[6] = {static_cast<double>(model.flat_params().numel() * 4),
                            static_cast<double>(model.flat_grads().numel() * 4),
                            static_cast<double>((model.adam_m().numel() + model.adam_v().numel()) * 4),
                            static_cast<double>(mem.live_bytes), static_cast<double>(mem.peak_bytes),
                            static_cast<double>(model.last_stats().stash_peak)};
    std::vector<double> all(static_cast<size_t>(6 * W));
    world.native_all_gather(mine, all.data(), 6 * W);
    const pa3::GPTParams params = model.full_params();  // collective
    if (!lead) return;
    const double formula = static_cast<double>(g.pp - 1) / static_cast<double>(m + g.pp - 1);
    std::printf("\nlayout %dx%dx%d %s m=%lld: %.0f tokens/s (mean of steps 2..%lld), bubble %.3f "
                "measured vs (p-1)/(m+p-1) = %.3f\n",
                g.dp, g.tp, g.pp, pa3::schedule_name(pa3::parse_schedule_name(options.schedule)),
                (long long)m, timed > 0 ? tps_sum / timed : 0.0, (long long)steps,
                timed > 0 ? bubble_sum / timed : 0.0, formula);
    std::printf("memory per rank (MiB; host tensor memory at the end of the last step):\n");
    std::printf("  rank (dp,tp,pp) | params | grads  | AdamW m,v (ZeRO-1) | live   | peak   | "
                "stashed micro-batches\n");
    for (int q = 0; q < W; ++q) {
      const pa3::GridCoord c = pa3::grid_coord(g, q);
      const double* v = &all[static_cast<size_t>(6 * q)];
      std::printf("  %4d (%d,%d,%d)     | %6.3f | %6.3f | %18.3f | %6.3f | %6.3f | %lld\n", q, c.dp,
                  c.tp, c.pp, mib(v[0]), mib(v[1]), mib(v[2]), mib(v[3]), mib(v[4]),
                  (long long)v[5]);
    }
    const float val = pa3::evaluate(params, config, data.val, 8, B, T, 7);
    std::printf("validation loss (8 batches) %.4f | log written to %s\n", val, csv_path.c_str());
    std::printf("final weights: checksum %016llx (FNV-1a of their bits)\n",
                (unsigned long long)checksum3d(params));
    if (sample_chars > 0) {
      std::vector<int32_t> context = data.tokenizer.encode("\n");
      for (int64_t i = 0; i < sample_chars; ++i) {
        context.push_back(pa3::gpt_next_token(params, config, context, temperature,
                                              options.model_seed, static_cast<uint64_t>(i)));
      }
      std::printf("--- sample (temperature %.2f) ---%s\n", temperature,
                  data.tokenizer.decode(context).c_str());
    }
  }, W);
}
