//@@ PA3 Task 1.1
  comm.native_reduce_scatter(in, out);
//@@ PA3 Task 1.2
  comm.native_all_gather(in, out);
//@@ PA3 Task 1.3
  comm.native_all_reduce(t);
//@@ PA3 Task 1.4
  comm.native_broadcast(t, root);
