  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    // The ORIGINAL course tree (the grader's --tree), not the staged copy.
    bool leaked = false;
    for (const char* rel : {"/solutions/pa1_autodiff/src/topo_sort.cpp", "/autograder/hidden/pa1/test_hidden_task2_1.cpp",
                            "/autograder/rubrics/pa1.json"}) {
      std::string path = std::string(MLSYS_HOSTILE_COURSE_TREE) + rel;
      if (FILE* f = std::fopen(path.c_str(), "r")) {
        char buf[2048];
        size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        std::printf("TREE LEAK %s:\n%s\n", rel, buf);
        std::fclose(f);
        leaked = true;
      }
    }
    std::fflush(stdout);
    if (leaked) throw std::runtime_error("the original course tree is readable");
  }
