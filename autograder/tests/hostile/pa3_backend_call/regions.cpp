//@@ prelude
#include "pa3/backend.h"
//@@ PA3 Task 1.1
  // The runtime's own ring, reached through the backend: no native_* scope is opened, so the
  // traffic counters show a ring over send/recv.
  comm.backend().reduce_scatter_sum(in.data<float>(), out.data<float>(), n, ElemType::Float32);
//@@ PA3 Task 1.2
  comm.backend().all_gather(in.raw_data(), out.raw_data(), n, elem_type_of(out.dtype()));
//@@ PA3 Task 1.3
  comm.backend().all_reduce_sum(t.data<float>(), t.numel(), ElemType::Float32);
