// Private to the runtime: what launch.cpp needs from the MPI backend (or its stand-in when
// the build has no MPI), and the scope every backend's native collective opens.
#pragma once

#include <functional>

#include "pa3/backend.h"
#include "pa3/comm.h"

namespace pa3::detail {

// Opens the scope named after a native collective ("native_all_reduce", ...) for the duration
// of a Backend's collective entry point, so that every path into it (Communicator::native_*
// or a call on the Backend itself) is counted under that scope.
class NativeScope {
 public:
  NativeScope(Backend& b, const char* name) : b_(b) { b_.push_scope(name); }
  ~NativeScope() { b_.pop_scope(); }
  NativeScope(const NativeScope&) = delete;
  NativeScope& operator=(const NativeScope&) = delete;

 private:
  Backend& b_;
};

// Runs fn on this process's rank of MPI_COMM_WORLD. Returns 0 on success; on failure prints
// the error and calls MPI_Abort.
int launch_mpi(const LaunchOptions& options, const std::function<void(Communicator&)>& fn);

}  // namespace pa3::detail
