// pa3_pipeline_trace — one pipeline-parallel step (PA3 Task 6) with its timeline: the ASCII
// picture, the measured bubble next to (p-1)/(m+p-1), the peak stash per stage, and a Chrome
// trace JSON file (open it in https://ui.perfetto.dev or chrome://tracing).
//
//   pa3_pipeline_trace [--backend threads|mpi] [--world P] [--micro M] [--schedule GPipe|1F1B]
//                      [--stage-ms F,B] [--trace PATH] [--columns 72]
//                      [--layers L] [--batch B] [--seq T] [--embd C]
//
//   ./pa3_pipeline_trace --world 4 --micro 8 --schedule 1F1B --trace 1f1b.json
//       the GPT (L layers split over the P stages) on a batch of Tiny Shakespeare-like tokens
//   ./pa3_pipeline_trace --world 4 --micro 8 --stage-ms 10,20
//       synthetic stages that sleep F ms per forward and B ms per backward: the timeline of the
//       papers' figures, and a bubble close to (p-1)/(m+p-1)
//   OMPI_MCA_mpi_yield_when_idle=1 mpirun --allow-run-as-root --oversubscribe -n 4
//       ./pa3_pipeline_trace --backend mpi --micro 8      one process per stage
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "mlsys/error.h"
#include "pa3/comm.h"
#include "pa3/data.h"
#include "pa3/gpt.h"
#include "pa3/pipeline.h"

namespace {

void usage() {
  std::printf(
      "usage: pa3_pipeline_trace [--backend threads|mpi] [--world P] [--micro M]\n"
      "                          [--schedule GPipe|1F1B] [--stage-ms F,B] [--trace PATH]\n"
      "                          [--columns N] [--layers L] [--batch B] [--seq T] [--embd C]\n"
      "Without --stage-ms the stages run the GPT (L >= P layers, B a multiple of M).\n");
}

struct Options {
  int micro = 8;
  pa3::PipeSchedule schedule = pa3::PipeSchedule::OneFOneB;
  int fwd_ms = 0, bwd_ms = 0;  // synthetic stages when > 0
  std::string trace;
  int columns = 72;
  int64_t layers = 4, batch = 16, seq = 32, embd = 64;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw mlsys::Error("pa3_pipeline_trace: " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--backend" || a == "--world") {  // read by pa3::launch
      ++i;
      continue;
    }
    if (a.rfind("--backend=", 0) == 0 || a.rfind("--world=", 0) == 0) continue;
    if (a == "--micro") o.micro = std::stoi(value());
    else if (a == "--schedule") o.schedule = pa3::parse_schedule_name(value());
    else if (a == "--stage-ms") {
      const std::string v = value();
      const size_t comma = v.find(',');
      if (comma == std::string::npos) throw mlsys::Error("pa3_pipeline_trace: --stage-ms F,B");
      o.fwd_ms = std::stoi(v.substr(0, comma));
      o.bwd_ms = std::stoi(v.substr(comma + 1));
    } else if (a == "--trace") o.trace = value();
    else if (a == "--columns") o.columns = std::stoi(value());
    else if (a == "--layers") o.layers = std::stoll(value());
    else if (a == "--batch") o.batch = std::stoll(value());
    else if (a == "--seq") o.seq = std::stoll(value());
    else if (a == "--embd") o.embd = std::stoll(value());
    else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else {
      usage();
      throw mlsys::Error("pa3_pipeline_trace: unknown argument '" + a + "'");
    }
  }
  return o;
}

void report(const pa3::Communicator& pp, const Options& o, const pa3::PipelineResult& r) {
  const int p = pp.size(), m = o.micro;
  const std::vector<pa3::TimelineEvent> events = pa3::gather_timeline(pp, r.timeline);
  std::vector<double> peaks(static_cast<size_t>(p));
  const double mine = static_cast<double>(r.peak_stashed);
  pp.native_all_gather(&mine, peaks.data(), p);
  if (pp.rank() != 0) return;
  std::printf("%s, p = %d stages, m = %d micro-batches%s\n", pa3::schedule_name(o.schedule), p, m,
              o.fwd_ms > 0 ? " (synthetic stages)" : " (GPT)");
  std::printf("%s", pa3::ascii_timeline(events, p, o.columns).c_str());
  std::printf("forward i: digit i %% 10, backward i: letter 'a' + i %% 26, idle: '.'\n");
  std::printf("bubble: measured %.3f, (p-1)/(m+p-1) = %.3f\n", pa3::bubble_fraction(events, p),
              double(p - 1) / double(m + p - 1));
  std::printf("peak stashed micro-batches per stage:");
  for (double v : peaks) std::printf(" %d", static_cast<int>(v));
  std::printf("\n");
  if (!o.trace.empty()) {
    pa3::write_chrome_trace(o.trace, events);
    std::printf("wrote %s (open it in https://ui.perfetto.dev or chrome://tracing)\n",
                o.trace.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    return pa3::launch(argc, argv, [&](pa3::Communicator& pp) {
      const int s = pp.rank(), p = pp.size();
      const std::vector<pa3::PipeStep> schedule = pa3::make_schedule(o.schedule, p, s, o.micro);
      if (o.fwd_ms > 0 || o.bwd_ms > 0) {
        pa3::FunctionStage stage(
            {1}, {1},
            [&](int, const mlsys::Tensor&, const mlsys::Tensor&) {
              std::this_thread::sleep_for(std::chrono::milliseconds(o.fwd_ms));
            },
            [&](int, const mlsys::Tensor&, const mlsys::Tensor&) {
              std::this_thread::sleep_for(std::chrono::milliseconds(o.bwd_ms));
            });
        report(pp, o, pa3::run_pipeline(pp, stage, schedule, o.micro));
        return;
      }
      pa3::GPTConfig c;
      c.n_layer = o.layers;
      c.n_embd = o.embd;
      c.block_size = o.seq;
      const pa3::GPTParams params = pa3::gpt_init(c, 1337);
      const pa3::GPTParams grads = pa3::gpt_zeros_like(params);
      // A token stream of the vocabulary's size (no data files needed).
      std::vector<int32_t> tokens(20000);
      uint64_t x = 7;
      for (int32_t& t : tokens) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        t = static_cast<int32_t>((x >> 33) % static_cast<uint64_t>(c.vocab_size));
      }
      pa3::GPTStage stage(c, params, grads, s, p, pa3::stage_layers(c.n_layer, p, s));
      stage.set_batch(pa3::global_batch(tokens, 0, 42, o.batch, o.seq), o.micro);
      const pa3::PipelineResult r = pa3::run_pipeline(pp, stage, schedule, o.micro);
      if (s == p - 1) std::printf("loss %.4f\n", stage.loss());
      report(pp, o, r);
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
