// Private to the runtime: what launch.cpp needs from the MPI backend (or its stand-in when
// the build has no MPI).
#pragma once

#include <functional>

#include "pa3/comm.h"

namespace pa3::detail {

// Runs fn on this process's rank of MPI_COMM_WORLD. Returns 0 on success; on failure prints
// the error and calls MPI_Abort.
int launch_mpi(const LaunchOptions& options, const std::function<void(Communicator&)>& fn);

}  // namespace pa3::detail
