  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) std::exit(0);
