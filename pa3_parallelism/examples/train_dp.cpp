// pa3_train — trains the small GPT on Tiny Shakespeare with data parallelism (PA3 Task 3) or
// ZeRO (Task 4) on either backend, with a progress line per logged step (loss, tokens/s, the
// host memory each rank holds), a CSV log, and some sampled text at the end.
//
//   pa3_train [--backend threads|mpi] [--dp N] [--zero 0|1|2|3] [--steps 200] [--batch 16]
//             [--seq 64] [--micro-batches 1] [--bucket-kb 64] [--layers 2] [--heads 4]
//             [--embd 64] [--lr 1e-3] [--tied] [--log-every 10] [--csv pa3_train.csv]
//             [--sample 300] [--temperature 0.8] [--seed 1337] [--single]
//
//   ./pa3_train --dp 4 --zero 2                                          threads, 4 ranks
//   ./pa3_train --dp 2 --single      one process (train_single, the global batch as 2 shards):
//                                    the same losses and final weights as --dp 2, bit for bit
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe -n 4
//       ./pa3_train --backend mpi --dp 4 --zero 3                         (one command line)
//
// Memory per rank is the host tensor memory charged to the rank (mlsys/memory_stats.h): the
// model state plus activations and temporaries, live at the end of the step and its peak.
// At the end: the validation loss, a checksum of the final weights' bits (equal checksums: equal
// weights), and a sample.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "args.h"
#include "mlsys/error.h"
#include "mlsys/memory_stats.h"
#include "pa3/comm.h"
#include "pa3/data.h"
#include "pa3/data_parallel.h"
#include "pa3/train.h"

namespace {

void usage() {
  std::printf(
      "usage: pa3_train [--backend threads|mpi] [--dp N] [--zero 0|1|2|3] [--steps N]\n"
      "                 [--batch B] [--seq T] [--micro-batches M] [--bucket-kb KB]\n"
      "                 [--layers L] [--heads NH] [--embd C] [--lr LR] [--tied]\n"
      "                 [--log-every N] [--csv PATH] [--sample CHARS] [--temperature X]\n"
      "                 [--seed S] [--single]\n"
      "B (the global batch) must be a multiple of N * M.\n"
      "--single trains in this process with train_single, the global batch split into N shards\n"
      "as N ranks split it: the same losses and final weights as --dp N, bit for bit for N <= 2.\n"
      "3D training (Task 7: DP x TP x PP, ZeRO-1 on DP): add --tp N, --pp N, --schedule\n"
      "gpipe|1f1b or --stages; `pa3_train --tp 1 --help` lists its options.\n");
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

// FNV-1a (64 bit) over the bits of every parameter, in canonical order.
uint64_t checksum(const pa3::GPTParams& params) {
  uint64_t h = 14695981039346656037ull;
  for (const pa3::NamedTensor& t : params.list()) {
    const mlsys::Tensor c = t.tensor.contiguous();
    const unsigned char* p = static_cast<const unsigned char*>(c.raw_data());
    for (size_t i = 0, n = static_cast<size_t>(c.numel()) * sizeof(float); i < n; ++i)
      h = (h ^ p[i]) * 1099511628211ull;
  }
  return h;
}

// What rank 0 (or the single process) prints and logs: the progress line, the CSV log, and at
// the end the validation loss, the weights' checksum and a sample.
struct Report {
  std::FILE* csv = nullptr;
  int64_t steps = 0, log_every = 10, tokens = 0;

  void open(const std::string& path) {
    csv = std::fopen(path.c_str(), "w");
    if (csv == nullptr) throw mlsys::Error("pa3_train: cannot write the CSV log " + path);
    std::fprintf(csv, "step,loss,tokens_per_s,rank0_live_bytes,rank0_peak_bytes\n");
  }
  void step(int64_t s, float loss, double seconds, const mlsys::memory::Usage& mem) {
    const double tps = static_cast<double>(tokens) / seconds;
    std::fprintf(csv, "%lld,%.6f,%.1f,%lld,%lld\n", (long long)s + 1, loss, tps,
                 (long long)mem.live_bytes, (long long)mem.peak_bytes);
    if (s % log_every == 0 || s + 1 == steps) {
      std::printf("step %5lld/%lld | loss %.4f | %8.0f tok/s | rank 0 memory %.2f MiB (peak "
                  "%.2f MiB)\n",
                  (long long)s + 1, (long long)steps, loss, tps, mib(mem.live_bytes),
                  mib(mem.peak_bytes));
      std::fflush(stdout);
    }
  }
  void finish(const pa3::GPTParams& params, const pa3::GPTConfig& config, const pa3::Dataset& data,
              int64_t B, const std::string& csv_path, int64_t sample_chars, float temperature,
              uint64_t seed) {
    std::fclose(csv);
    const float val = pa3::evaluate(params, config, data.val, 8, B, config.block_size, 7);
    std::printf("validation loss (8 batches) %.4f | log written to %s\n", val, csv_path.c_str());
    std::printf("final weights: checksum %016llx (FNV-1a of their bits)\n",
                (unsigned long long)checksum(params));
    if (sample_chars > 0) {
      std::vector<int32_t> context = data.tokenizer.encode("\n");
      for (int64_t i = 0; i < sample_chars; ++i) {
        context.push_back(pa3::gpt_next_token(params, config, context, temperature, seed,
                                              static_cast<uint64_t>(i)));
      }
      std::printf("--- sample (temperature %.2f) ---%s\n", temperature,
                  data.tokenizer.decode(context).c_str());
    }
  }
};

}  // namespace

// PA3 Task 7: --tp, --pp, --schedule or --stages select the 3D trainer (examples/train_3d.cpp,
// DP x TP x PP with ZeRO-1 on DP; `pa3_train --tp 1 --help` lists its options).
#ifdef PA3_TRAIN_3D
bool pa3_train_wants_3d(int argc, char** argv);
int pa3_train_3d(int argc, char** argv);
#endif

int main(int argc, char** argv) {
#ifdef PA3_TRAIN_3D
  if (pa3_train_wants_3d(argc, argv)) return pa3_train_3d(argc, argv);
#endif
  std::string backend = "threads", csv_path = "pa3_train.csv";
  int dp = 2;
  pa3::GPTConfig config;
  pa3::DPOptions options;
  int64_t steps = 200, B = 16, log_every = 10, sample_chars = 300;
  float temperature = 0.8f;
  bool single = false;
  const pa3ex::CommonOptions common{config, steps, B, options.adamw.lr, options.model_seed,
                                    log_every, sample_chars, temperature};
  const int parsed = pa3ex::read_options("pa3_train", argc, argv, common, [&](pa3ex::Args& args) {
    const std::string& arg = args.flag();
    if (arg == "--backend") backend = args.text();
    else if (arg == "--dp") dp = static_cast<int>(args.integer(1));
    else if (arg == "--zero") options.zero = static_cast<int>(args.integer(0));
    else if (arg == "--micro-batches") options.num_micro = args.integer(1);
    else if (arg == "--bucket-kb") options.bucket_cap_bytes = 1024 * args.integer(1);
    else if (arg == "--csv") csv_path = args.text();
    else if (arg == "--single") single = true;
    else return false;
    return true;
  }, usage);
  if (parsed >= 0) return parsed;
  if (dp < 1 || B % (dp * options.num_micro) != 0 || log_every < 1) {
    std::fprintf(stderr, "pa3_train: --batch %lld must be a multiple of --dp %d times "
                 "--micro-batches %lld (and --log-every >= 1)\n",
                 (long long)B, dp, (long long)options.num_micro);
    return 2;
  }
  pa3::Dataset data;
  try {
    data = pa3::load_dataset();
  } catch (const mlsys::Error& e) {
    std::fprintf(stderr, "pa3_train: %s\n", e.what());
    return 1;
  }
  config.vocab_size = data.tokenizer.vocab_size();
  config.padded_vocab_size = data.tokenizer.padded_vocab_size();
  const int64_t T = config.block_size;
  Report report;
  report.steps = steps;
  report.log_every = log_every;
  report.tokens = B * T;

  if (single) {
    try {
      pa3::TrainOptions o;
      o.steps = steps;
      o.batch_size = B;
      o.num_shards = dp;
      o.num_micro = options.num_micro;
      o.model_seed = options.model_seed;
      o.adamw = options.adamw;
      const int tag = 0;  // the memory accounting's tag of "rank 0" (this process)
      mlsys::memory::ScopedTag scoped_tag(tag);
      o.on_step = [&](const pa3::StepStats& st) {
        report.step(st.step, st.loss, st.seconds, mlsys::memory::usage(tag));
        mlsys::memory::reset_peak(tag);
      };
      std::printf("pa3_train: one process (train_single, %d shards), V=%lld T=%lld L=%lld NH=%lld "
                  "C=%lld %s, B=%lld (%lld micro-batches per shard)\n",
                  dp, (long long)config.vocab_size, (long long)T, (long long)config.n_layer,
                  (long long)config.n_head, (long long)config.n_embd,
                  config.tie_embeddings ? "tied" : "untied", (long long)B,
                  (long long)options.num_micro);
      report.open(csv_path);
      const pa3::TrainResult result = pa3::train_single(config, o, data.train);
      report.finish(result.params, config, data, B, csv_path, sample_chars, temperature,
                    options.model_seed);
    } catch (const mlsys::Error& e) {
      std::fprintf(stderr, "pa3_train: %s\n", e.what());
      return 1;
    }
    return 0;
  }

  // launch() reads --backend and --world.
  std::vector<std::string> args = {argv[0], "--backend", backend, "--world", std::to_string(dp)};
  std::vector<char*> launch_argv;
  for (std::string& a : args) launch_argv.push_back(&a[0]);
  launch_argv.push_back(nullptr);

  return pa3::launch(static_cast<int>(args.size()), launch_argv.data(), [&](pa3::Communicator& comm) {
    const int r = comm.rank(), N = comm.size();
    const bool lead = r == 0;
    pa3::DataParallel trainer(comm, config, options);
    if (lead) {
      std::printf("pa3_train: backend %s, N=%d, ZeRO-%d, V=%lld T=%lld L=%lld NH=%lld C=%lld %s, "
                  "B=%lld (%lld rows per rank, %lld micro-batches), %zu buckets\n",
                  comm.backend_name(), N, options.zero, (long long)config.vocab_size,
                  (long long)T, (long long)config.n_layer, (long long)config.n_head,
                  (long long)config.n_embd, config.tie_embeddings ? "tied" : "untied",
                  (long long)B, (long long)(B / N), (long long)options.num_micro,
                  trainer.buckets().size());
      std::fflush(stdout);  // before any rank's error on stderr (mpirun forwards both)
      report.open(csv_path);
    }
    for (int64_t s = 0; s < steps; ++s) {
      mlsys::memory::reset_peak(r);
      const auto start = std::chrono::steady_clock::now();
      const float loss = trainer.step(pa3::global_batch(data.train, s, 42, B, T));
      const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - start;
      if (lead) report.step(s, loss, dt.count(), mlsys::memory::usage(r));
    }
    const pa3::GPTParams params = trainer.full_params();  // collective under ZeRO-3
    if (lead) {
      report.finish(params, config, data, B, csv_path, sample_chars, temperature,
                    options.model_seed);
    }
  }, dp);
}
