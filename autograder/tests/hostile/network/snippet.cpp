  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    bool works = s >= 0 && bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                 getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
                 sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 1;
    if (s >= 0) close(s);
    if (works) throw std::runtime_error("the network is reachable");
  }
