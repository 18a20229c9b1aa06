// pa3_train_single — trains the small GPT on Tiny Shakespeare in one process (the reference
// every parallel run is compared with), prints a progress line per step and some sampled text.
//
//   pa3_train_single [--steps 200] [--batch 16] [--seq 64] [--layers 2] [--heads 4] [--embd 64]
//                    [--micro 1] [--lr 1e-3] [--tied] [--log-every 10] [--sample 300]
//                    [--temperature 0.8] [--seed 1337]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "args.h"
#include "mlsys/error.h"
#include "pa3/data.h"
#include "pa3/train.h"

namespace {

void usage() {
  std::printf(
      "usage: pa3_train_single [--steps N] [--batch B] [--seq T] [--layers L] [--heads NH]\n"
      "                        [--embd C] [--micro K] [--lr LR] [--tied] [--log-every N]\n"
      "                        [--sample CHARS] [--temperature X] [--seed S]\n");
}

}  // namespace

int main(int argc, char** argv) {
  pa3::GPTConfig config;
  pa3::TrainOptions options;
  options.steps = 200;
  int64_t log_every = 10, sample_chars = 300;
  float temperature = 0.8f;
  const pa3ex::CommonOptions common{config, options.steps, options.batch_size, options.adamw.lr,
                                    options.model_seed, log_every, sample_chars, temperature};
  const int parsed =
      pa3ex::read_options("pa3_train_single", argc, argv, common, [&](pa3ex::Args& args) {
        if (args.flag() != "--micro") return false;
        options.num_micro = args.integer(1);
        return true;
      }, usage);
  if (parsed >= 0) return parsed;
  try {
    const pa3::Dataset data = pa3::load_dataset();
    config.vocab_size = data.tokenizer.vocab_size();
    config.padded_vocab_size = data.tokenizer.padded_vocab_size();
    const int64_t T = config.block_size, B = options.batch_size;
    std::printf("pa3_train_single: V=%lld (padded %lld) T=%lld L=%lld NH=%lld C=%lld %s, B=%lld "
                "micro=%lld, %lld train / %lld val tokens\n",
                (long long)config.vocab_size, (long long)config.padded_vocab_size, (long long)T,
                (long long)config.n_layer, (long long)config.n_head, (long long)config.n_embd,
                config.tie_embeddings ? "tied" : "untied", (long long)B,
                (long long)options.num_micro, (long long)data.train.size(),
                (long long)data.val.size());
    double total_seconds = 0.0;
    int64_t total_tokens = 0;
    options.on_step = [&](const pa3::StepStats& s) {
      total_seconds += s.seconds;
      total_tokens += s.tokens;
      if (s.step % log_every == 0 || s.step + 1 == options.steps) {
        std::printf("step %5lld/%lld | loss %.4f | %.0f tok/s\n", (long long)s.step + 1,
                    (long long)options.steps, s.loss, s.tokens / s.seconds);
        std::fflush(stdout);
      }
    };
    const pa3::TrainResult result = pa3::train_single(config, options, data.train);
    std::printf("params %lld | mean %.0f tok/s over %lld steps\n",
                (long long)result.params.num_params(),
                total_seconds > 0 ? total_tokens / total_seconds : 0.0, (long long)options.steps);
    const float val = pa3::evaluate(result.params, config, data.val, 8, B, T, 7);
    std::printf("validation loss (8 batches) %.4f\n", val);
    if (sample_chars > 0) {
      std::vector<int32_t> context = data.tokenizer.encode("\n");
      for (int64_t i = 0; i < sample_chars; ++i) {
        context.push_back(pa3::gpt_next_token(result.params, config, context, temperature,
                                              options.model_seed, static_cast<uint64_t>(i)));
      }
      std::printf("--- sample (temperature %.2f) ---%s\n", temperature,
                  data.tokenizer.decode(context).c_str());
    }
  } catch (const mlsys::Error& e) {
    std::fprintf(stderr, "pa3_train_single: %s\n", e.what());
    return 1;
  }
  return 0;
}
