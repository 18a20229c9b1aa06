  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    volatile int* p = nullptr;
    *p = 1;
  }
