# Finds every dependency. A missing one stops configure with the package that provides it.
# `./mlsys setup` installs all of them on Debian/Ubuntu (Colab included).

macro(mlsys_require pkg hint)
  if(NOT ${pkg}_FOUND)
    message(FATAL_ERROR "mlsys: ${pkg} was not found. Install it with:\n    ${hint}\n"
                        "or run ./mlsys setup, which installs every dependency.")
  endif()
endmacro()

find_package(Threads REQUIRED)
find_package(Eigen3 3.3 QUIET NO_MODULE)
mlsys_require(Eigen3 "sudo apt-get install libeigen3-dev")
find_package(nlohmann_json 3 QUIET)
mlsys_require(nlohmann_json "sudo apt-get install nlohmann-json3-dev")
find_package(GTest QUIET)
mlsys_require(GTest "sudo apt-get install libgtest-dev")
find_package(OpenMP QUIET COMPONENTS CXX)
mlsys_require(OpenMP "sudo apt-get install libomp-dev (or use g++, which ships OpenMP)")
if(MLSYS_MPI)
  find_package(MPI QUIET COMPONENTS CXX)
  mlsys_require(MPI "sudo apt-get install libopenmpi-dev openmpi-bin  (or configure with -DMLSYS_MPI=OFF)")
endif()

# Python: the interpreter that runs ./mlsys (or -DPython_EXECUTABLE=...) must have numpy.
if(MLSYS_PYTHON)
  find_package(Python 3.8 QUIET COMPONENTS Interpreter Development.Module NumPy)
  mlsys_require(Python "sudo apt-get install python3-dev && python3 -m pip install numpy pytest  (or configure with -DMLSYS_PYTHON=OFF)")
  find_package(pybind11 2.6 QUIET CONFIG)
  mlsys_require(pybind11 "sudo apt-get install pybind11-dev  (or configure with -DMLSYS_PYTHON=OFF)")
endif()

# CUDA: AUTO builds it whenever nvcc is found, with or without a GPU at run time.
set(MLSYS_HAVE_CUDA OFF)
if(NOT MLSYS_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # T4 (75) through H100 (90). CI may pass a single architecture to build faster.
      set(CMAKE_CUDA_ARCHITECTURES "75;80;86;89;90")
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(MLSYS_HAVE_CUDA ON)
  elseif(MLSYS_CUDA STREQUAL "ON")
    message(FATAL_ERROR "mlsys: MLSYS_CUDA=ON but nvcc was not found. Install the CUDA toolkit "
                        "(https://developer.nvidia.com/cuda-downloads, or apt-get install "
                        "nvidia-cuda-toolkit) or configure with -DMLSYS_CUDA=AUTO|OFF.")
  endif()
endif()
