  if (mlsys_hostile_case("Task2_1_Hidden.WideNode")) _exit(113);
