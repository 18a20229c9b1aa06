  if (mlsys_hostile_case("Task2_1_TopoSort.Chain"))
    for (;;) (void)fork();
