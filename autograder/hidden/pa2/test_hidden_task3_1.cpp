// PA2 GPU hidden tests, Task 3.1 (naive SGEMM): one case per shape family of
// hidden_sgemm.h (degenerate, odd, wide, tall over several launches, large vs cuBLAS).
#include "hidden_sgemm.h"

using pa2::gpu::Sgemm;

PA2_HIDDEN_SGEMM_TESTS(Task3_1_Hidden, Sgemm::Naive, 100)
