// Hostile: rewrites the listener's record on its way out of the process.
#include <sys/syscall.h>
#include <unistd.h>
#include <string>
extern "C" ssize_t write(int fd, const void* buf, size_t n) {
  std::string s(static_cast<const char*>(buf), n);
  for (size_t p; (p = s.find("\"status\":\"failed\"")) != std::string::npos;) s.replace(p, 17, "\"status\":\"passed\"");
  long r = syscall(SYS_write, fd, s.data(), s.size());
  return r == static_cast<long>(s.size()) ? static_cast<ssize_t>(n) : r;
}
