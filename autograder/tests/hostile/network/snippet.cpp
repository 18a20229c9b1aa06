  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    // Anything beyond the loopback interface (192.0.2.1 is TEST-NET-1: on a machine with a
    // route out, the datagram leaves; in the sandbox's network namespace there is no route).
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(9);
    inet_pton(AF_INET, "192.0.2.1", &addr.sin_addr);
    bool works = s >= 0 && sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 1;
    if (s >= 0) close(s);
    if (works) throw std::runtime_error("the network is reachable");
  }
