// Not an attack: what multi-process tests (mpirun, the PA3 communicator's ranks) need from the
// sandbox. In Task1_Add.Small, a TCP server and a client on 127.0.0.1 exchange a message; if
// that fails, the answer is wrong. The sandbox's network namespace has its loopback up (and
// nothing else), so this gets full marks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fake/fake.h"
static bool loopback_works() {
  int server = socket(AF_INET, SOCK_STREAM, 0), client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = server >= 0 && client >= 0 && bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            listen(server, 1) == 0 && getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
            connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  int peer = ok ? accept(server, nullptr, nullptr) : -1;
  char got[5] = {0};
  ok = ok && peer >= 0 && write(client, "ping", 4) == 4 && read(peer, got, 4) == 4 && got[0] == 'p';
  for (int fd : {server, client, peer})
    if (fd >= 0) close(fd);
  return ok;
}
long fake::add(long a, long b) {
  if (a == 2 && b == 3 && !loopback_works()) return 0;
  return a + b;
}
