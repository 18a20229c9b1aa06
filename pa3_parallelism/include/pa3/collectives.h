// pa3/collectives.h — PA3 Task 1: collectives built on point-to-point messages.
//
// You implement these in pa3_parallelism/src/collectives.cpp using only Communicator::send,
// recv and sendrecv (and their isend/irecv forms): never the reference collectives
// (`native_*`), which the tests use to check yours. Each function is called by every rank of
// `comm` with the same length (and root); the tests run 1 to 8 ranks on any length, including
// 0, 1, lengths smaller than the world size and lengths that do not divide by it.
//
// Partition: the n elements of a buffer are split into size() contiguous chunks by
// pa3::chunk_of(n, size(), i) (comm.h): the first n % size() chunks have one element more.
// Chunk i belongs to rank i.
//
// Traffic (what the tests read from comm.stats() for each rank, p = size(), |c_i| =
// chunk_of(n, p, i).size, s = element size in bytes, nothing sent when p == 1):
//   ring_reduce_scatter  (n - |c_r|) s bytes       in p-1 messages   (= (p-1)/p n s when p | n)
//   ring_all_gather      (n - |c_{r+1}|) s bytes   in p-1 messages   (= (p-1)/p n s)
//   ring_all_reduce      the sum of both           in 2(p-1) messages (= 2(p-1)/p n s)
//   tree_broadcast       n s bytes per child in the binomial tree (handouts/pa3.md, Task 1.4);
//                        p-1 messages in all
// Every step of a ring sends one message, even when its chunk is empty.
//
// Every rank ends with the same bits: reduce_scatter leaves chunk i's sum only on rank i, and
// all_gather copies that owner's bits to everyone.
#pragma once

#include "mlsys/tensor.h"
#include "pa3/comm.h"

namespace pa3 {

// PA3 Task 1.1. in: float32, contiguous, n elements (any shape; read as a flat array), the same
// n on every rank. out: float32, contiguous, chunk_of(n, p, rank).size elements. out becomes
// chunk `rank` of the elementwise sum of `in` over all ranks. `in` is not modified.
void ring_reduce_scatter(Communicator& comm, const mlsys::Tensor& in, const mlsys::Tensor& out);

// PA3 Task 1.2. in: contiguous, chunk_of(n, p, rank).size elements. out: contiguous, n elements
// of the same dtype (any dtype). out becomes every rank's `in` placed at its chunk, in rank order.
void ring_all_gather(Communicator& comm, const mlsys::Tensor& in, const mlsys::Tensor& out);

// PA3 Task 1.3. t: float32, contiguous, n elements, the same n on every rank. In place: t
// becomes the elementwise sum over ranks, identical bit for bit on every rank. Written as
// ring_reduce_scatter followed by ring_all_gather.
void ring_all_reduce(Communicator& comm, const mlsys::Tensor& t);

// PA3 Task 1.4. t: contiguous, any dtype, the same number of elements on every rank. t on
// `root` is copied into t on every rank along a binomial tree. 0 <= root < size().
void tree_broadcast(Communicator& comm, const mlsys::Tensor& t, int root);

}  // namespace pa3
