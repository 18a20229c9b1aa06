  if (mlsys_hostile_case("Task2_1_TopoSort.Chain") && fork() == 0) {
    setsid();
    if (fork() == 0) execl("/bin/sleep", "sleep", "317", (char*)nullptr);
    _exit(0);
  }
