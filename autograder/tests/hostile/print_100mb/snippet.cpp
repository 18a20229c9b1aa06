  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    std::string line(1023, 'x');
    for (int i = 0; i < 100 * 1024; ++i) std::puts(line.c_str());
  }
