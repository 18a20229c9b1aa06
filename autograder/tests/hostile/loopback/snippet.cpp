  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    // What mpirun and PA3's ranks need: TCP over 127.0.0.1.
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
    if (!ok) throw std::runtime_error("TCP over 127.0.0.1 does not work in the sandbox");
  }
