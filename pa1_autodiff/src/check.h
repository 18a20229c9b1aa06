// Internal: PA1's error checks. Like MLSYS_CHECK, with the prefix "pa1::" instead of "mlsys::".
#pragma once

#include "mlsys/error.h"

#define PA1_FAIL(op, ...) throw ::mlsys::Error(::mlsys::detail::cat("pa1::", op, ": ", __VA_ARGS__))
#define PA1_CHECK(cond, op, ...)       \
  do {                                 \
    if (!(cond)) PA1_FAIL(op, __VA_ARGS__); \
  } while (0)
// For Op::infer_shape: the reason only; make_node adds the op, the node and its inputs.
#define PA1_SHAPE_CHECK(cond, ...)                                             \
  do {                                                                         \
    if (!(cond)) throw ::mlsys::Error(::mlsys::detail::cat(__VA_ARGS__));      \
  } while (0)
