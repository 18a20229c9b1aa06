// PA2 GPU hidden tests, Task 3.2 (coalesced SGEMM): one case per shape family of
// hidden_sgemm.h (degenerate, odd, wide, tall over several launches, large vs cuBLAS).
#include "hidden_sgemm.h"

using pa2::gpu::Sgemm;

PA2_HIDDEN_SGEMM_TESTS(Task3_2_Hidden, Sgemm::Coalesced, 200)
