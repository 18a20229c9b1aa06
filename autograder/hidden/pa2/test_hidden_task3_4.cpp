// PA2 GPU hidden tests, Task 3.4 (1-D register-tiled SGEMM): one case per shape family of
// hidden_sgemm.h (degenerate, odd, wide, tall over several launches, large vs cuBLAS).
#include "hidden_sgemm.h"

using pa2::gpu::Sgemm;

PA2_HIDDEN_SGEMM_TESTS(Task3_4_Hidden, Sgemm::RegTile1D, 400)
