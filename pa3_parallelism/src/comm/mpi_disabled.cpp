// Stand-in for the MPI backend in builds without MPI (MLSYS_MPI=OFF or OpenMPI not installed).
#include "comm_internal.h"

namespace pa3 {
namespace {
[[noreturn]] void no_mpi(const char* op) {
  throw mlsys::Error(std::string("pa3::") + op +
                     ": this build has no MPI backend; install OpenMPI (sudo apt-get install "
                     "libopenmpi-dev openmpi-bin) and configure with -DMLSYS_MPI=ON, or use "
                     "--backend threads");
}
}  // namespace

bool mpi_built() { return false; }
Communicator mpi_world() { no_mpi("mpi_world"); }
void mpi_finalize() {}

namespace detail {
int launch_mpi(const LaunchOptions&, const std::function<void(Communicator&)>&) {
  no_mpi("launch");
}
}  // namespace detail

}  // namespace pa3
