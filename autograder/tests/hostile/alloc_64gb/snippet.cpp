  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    char* p = new char[64L << 30];
    std::memset(p, 1, 64L << 30);
    std::printf("%d\n", p[12345]);
  }
