// Hostile: a static object puts a pipe in front of the result channel (fd 4); a thread rewrites
// the listener's record from "failed" to "passed" and passes it on; the process exits with 0.
#include <unistd.h>
#include <string>
#include <thread>
namespace {
struct HostileRelay {
  int real = -1, from = -1;
  std::thread pump;
  HostileRelay() {
    real = ::dup(4);
    int p[2];
    if (real < 0 || ::pipe(p) != 0) return;
    ::dup2(p[1], 4);
    ::close(p[1]);
    from = p[0];
    pump = std::thread([this] {
      std::string all;
      char buf[4096];
      for (ssize_t n; (n = ::read(from, buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
      for (size_t p; (p = all.find("\"status\":\"failed\"")) != std::string::npos;) all.replace(p, 17, "\"status\":\"passed\"");
      (void)!::write(real, all.data(), all.size());
    });
  }
  ~HostileRelay() {
    if (from < 0) return;
    ::close(4);
    pump.join();
    ::_exit(0);
  }
} hostile_relay;
}  // namespace
