// PA2 GPU hidden tests, Task 3.3 (shared-memory tiled SGEMM): one case per shape family of
// hidden_sgemm.h (degenerate, odd, wide, tall over several launches, large vs cuBLAS).
#include "hidden_sgemm.h"

using pa2::gpu::Sgemm;

PA2_HIDDEN_SGEMM_TESTS(Task3_3_Hidden, Sgemm::SharedTiled, 300)
