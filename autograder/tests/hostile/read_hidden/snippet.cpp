  if (mlsys_hostile_case("Task2_1_TopoSort.Chain")) {
    bool leaked = false;
    std::string src = std::string(MLSYS_SOURCE_DIR) + "/autograder/hidden/pa1/test_hidden_task2_1.cpp";
    if (FILE* f = std::fopen(src.c_str(), "r")) {
      char buf[2048];
      size_t n = std::fread(buf, 1, sizeof buf - 1, f);
      buf[n] = 0;
      std::printf("HIDDEN SOURCE:\n%s\n", buf);
      std::fclose(f);
      leaked = true;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
      exe[n] = 0;
      std::string dir(exe);
      dir = dir.substr(0, dir.rfind('/'));
      // Beside this executable, or wherever the grader keeps hidden executables.
      for (const char* glob : {"/pa1_hidden_task2_1_tests", "/../../hidden/*/pa1_hidden_task2_1_tests"}) {
        std::string cmd = "for f in " + dir + glob + "; do \"$f\"; done 2>&1";
        if (FILE* p = popen(cmd.c_str(), "r")) {
          char buf[2048];
          size_t got = std::fread(buf, 1, sizeof buf - 1, p);
          buf[got] = 0;
          if (pclose(p) == 0 && got > 0) {
            std::printf("HIDDEN RUN:\n%s\n", buf);
            leaked = true;
          }
        }
      }
    }
    std::fflush(stdout);
    if (leaked) throw std::runtime_error("hidden tests are readable");
  }
