#include "tp_test_util.h"
