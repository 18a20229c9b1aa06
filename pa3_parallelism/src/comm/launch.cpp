// pa3::launch: one main() for both backends (see pa3/comm.h for the command lines).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "comm_internal.h"

namespace pa3 {
namespace {
int parse_world(const std::string& text) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < 1 || v > 1024)
    throw mlsys::Error("pa3::launch: --world must be a number of ranks in 1..1024, got '" +
                       text + "'");
  return static_cast<int>(v);
}

std::string parse_backend(const std::string& text) {
  if (text != "threads" && text != "mpi")
    throw mlsys::Error("pa3::launch: --backend must be 'threads' or 'mpi', got '" + text + "'");
  return text;
}
}  // namespace

LaunchOptions parse_launch_args(int& argc, char** argv) {
  LaunchOptions options;
  if (const char* env = std::getenv("MLSYS_PA3_BACKEND"); env != nullptr && *env != '\0')
    options.backend = parse_backend(env);
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::string {
      std::string prefix = std::string(flag) + "=";
      if (arg.rfind(prefix, 0) == 0) return arg.substr(prefix.size());
      if (i + 1 >= argc) throw mlsys::Error(std::string("pa3::launch: ") + flag + " needs a value");
      return argv[++i];
    };
    if (arg == "--backend" || arg.rfind("--backend=", 0) == 0) {
      options.backend = parse_backend(value("--backend"));
    } else if (arg == "--world" || arg.rfind("--world=", 0) == 0) {
      options.world = parse_world(value("--world"));
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[out] = nullptr;
  return options;
}

int launch(int argc, char** argv, const std::function<void(Communicator&)>& fn,
           int default_world) {
  LaunchOptions options;
  try {
    options = parse_launch_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  if (options.backend == "mpi") return detail::launch_mpi(options, fn);
  try {
    run_ranks(options.world > 0 ? options.world : default_world, fn);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace pa3
