  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    volatile unsigned long spin = 0;
    for (;;) spin = spin + 1;
  }
