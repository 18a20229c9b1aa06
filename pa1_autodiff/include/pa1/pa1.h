// pa1/pa1.h — everything of PA1 in one include. See pa1_autodiff/README.md for the tour.
#pragma once

#include "pa1/autodiff.h"
#include "pa1/backward.h"
#include "pa1/executor.h"
#include "pa1/graph.h"
#include "pa1/ops.h"
#include "pa1/optim.h"
#include "pa1/train.h"
