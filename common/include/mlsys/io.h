// mlsys/io.h — reading and writing tensors, and the small datasets the assignments ship.
//
//   Tensor x = mlsys::load_npy("x.npy");             // NumPy's .npy format
//   mlsys::save_npy("y.npy", y);                      // np.load("y.npy") reads it back
//   Tensor img = mlsys::load_idx("train-images-idx3-ubyte");          // MNIST's IDX format
//   Tensor lab = mlsys::load_idx("train-labels-idx1-ubyte", DType::Int64);
//   mlsys::Dataset digits = mlsys::load_digits();     // images [1797, 64], labels [1797]
//   auto [train, test] = mlsys::train_test_split(digits, 0.2, /*seed=*/0);
//
// Every problem with a file (missing, truncated, corrupt, unsupported) throws mlsys::Error
// naming the op, the file, what was expected and what was found. Corrupt input never reads
// past a buffer. All I/O is CPU-side: loads return CPU tensors (move them with to(device)).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "mlsys/tensor.h"

namespace mlsys {

// ---- .npy ----------------------------------------------------------------------------------
// The NumPy file format (numpy.lib.format): a magic string, a version, a little Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } and the raw data.
//
// load_npy reads format versions 1.0, 2.0 and 3.0, one array per file, C order only, with
// dtype '<f4' (float32), '<i4' (int32) or '<i8' (int64) and 0 to 8 dims (a 0-dim file gives a
// scalar tensor; zero-size dims are fine). The file must hold exactly the bytes the shape
// needs. Anything else (Fortran order, '<f8', '|b1', big-endian '>f4', object arrays, ...)
// throws; convert on the NumPy side with np.ascontiguousarray(a, dtype=np.float32).
Tensor load_npy(const std::string& path);

// Writes format version 1.0, byte-for-byte what numpy.save writes for the same array: the
// tensor's logical contents in C order, whatever its strides or device.
void save_npy(const std::string& path, const Tensor& t);

// ---- IDX (the MNIST format) -------------------------------------------------------------
// Layout (big-endian throughout): two zero bytes, a type byte (0x08 ubyte, 0x09 sbyte,
// 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), a byte with the number of dims (0..8),
// one int32 per dim, then the data in C order. Plain (uncompressed) files only: gunzip the
// .gz files MNIST is distributed as before loading them.
//
// The values are converted to `dtype` (Float32, Int32 or Int64) without scaling: ubyte pixels
// come back as 0..255. Integer types convert exactly (int32 to float32 rounds above 2^24);
// float types convert to an integer dtype only when every value is a representable integer.
Tensor load_idx(const std::string& path, DType dtype = DType::Float32);

// ---- datasets ------------------------------------------------------------------------------
// A supervised dataset: row i of `images` (dim 0) goes with element i of `labels`.
struct Dataset {
  Tensor images;
  Tensor labels;
};

// The folder that holds the shipped data files: $MLSYS_DATA_DIR when that environment variable
// is set and not empty, otherwise <repo>/common/data of the source tree this library was built
// from (the compile definition MLSYS_SOURCE_DIR).
std::string data_dir();

// data_dir() + "/" + filename; throws, naming the path tried and MLSYS_DATA_DIR, when the file
// does not exist.
std::string data_path(const std::string& filename);

// The 8x8 handwritten digits (UCI "Optical Recognition of Handwritten Digits", the 1,797-image
// test set as packaged by scikit-learn; see common/data/README.md):
//   images  float32 [1797, 64]  row-major 8x8 pixels, the original 0..16 counts divided by 16,
//                               so every value is k/16 in [0, 1]
//   labels  int64   [1797]      the digit, 0..9
// Read from digits-images.idx and digits-labels.idx in data_dir().
Dataset load_digits();

// Shuffles the rows (dim 0) with a seeded Fisher-Yates shuffle and splits them into
// (train, test). The shuffle uses only mlsys::philox_word, so it is the same on every platform,
// compiler and standard library: for i = N-1 down to 1, swap rows i and j = w % (i+1), where w
// is the next word philox_word(seed, k), k = 0, 1, 2, ..., that is below the largest multiple
// of i+1 not above 2^32 (others are skipped, so j is exactly uniform). The test part is the
// first round(test_fraction * N) shuffled rows (halves round up; 0 <= test_fraction <= 1), the
// train part the rest, both in shuffled order. images and labels may have any dtype, trailing
// shape and device (the results stay there) but must agree on N = size(0), N < 2^32.
std::pair<Dataset, Dataset> train_test_split(const Dataset& data, double test_fraction,
                                             uint64_t seed);

}  // namespace mlsys
