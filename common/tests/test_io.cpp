// The I/O layer: .npy round trips and hand-written .npy files, IDX files, the shipped digits,
// the seeded train/test split, and every kind of bad file. Expected bytes are spelled out from
// the format specifications (numpy.lib.format, the MNIST IDX description), and expected digits
// facts come from the UCI dataset page and scikit-learn — never from our own writer's output.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "mlsys/io.h"
#include "mlsys/random.h"
#include "mlsys/tensor.h"
#include "mlsys/testing.h"

using namespace mlsys;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

// ============================================================================================
// Helpers: temp files, bytes, expected errors
// ============================================================================================

// Each test gets a fresh directory under ::testing::TempDir(), removed afterwards.
class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("mlsys_io_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Writes `bytes` to a file in the test directory and returns its path.
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = path(name);
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    EXPECT_TRUE(out.good()) << "could not write " << p;
    return p;
  }
  std::string read(const std::string& p) const {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  fs::path dir_;
};
using Npy = IoTest;
using NpyErrors = IoTest;
using Idx = IoTest;
using IdxErrors = IoTest;
using Digits = IoTest;
using TrainTestSplit = IoTest;

std::string le16(uint32_t v) { return {char(v & 0xff), char((v >> 8) & 0xff)}; }
std::string le32(uint32_t v) { return le16(v & 0xffff) + le16(v >> 16); }
std::string le64(uint64_t v) { return le32(uint32_t(v)) + le32(uint32_t(v >> 32)); }
std::string be32(uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}
std::string f32le(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return le32(u);
}

// A .npy file as numpy.lib.format describes it: "\x93NUMPY", major and minor version, the
// header length (2 bytes little-endian for 1.0, 4 bytes for 2.0 and 3.0), the dict padded with
// spaces and a final '\n' so that the data starts at a multiple of 64, then the data.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
  const size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  header.append((64 - (8 + len_bytes + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY"s + char(major) + '\0';
  out += major == 1 ? le16(uint32_t(header.size())) : le32(uint32_t(header.size()));
  return out + header + data;
}

// An IDX file: 0, 0, the type byte, the number of dims, each dim as big-endian int32, data.
std::string idx_file(unsigned char type, const std::vector<uint32_t>& dims,
                     const std::string& data) {
  std::string out = "\0\0"s + char(type) + char(dims.size());
  for (uint32_t d : dims) out += be32(d);
  return out + data;
}

// Runs `fn`, which must throw mlsys::Error whose message contains every phrase.
template <typename Fn>
::testing::AssertionResult ThrowsErrorWith(Fn&& fn, std::initializer_list<std::string> phrases) {
  std::string all;
  for (const auto& p : phrases) all += " '" + p + "'";
  try {
    fn();
  } catch (const mlsys::Error& e) {
    const std::string msg = e.what();
    for (const auto& p : phrases)
      if (msg.find(p) == std::string::npos)
        return ::testing::AssertionFailure() << "the message lacks '" << p << "': " << msg;
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw a non-mlsys::Error exception (" << e.what() << "), expected mlsys::Error";
  }
  return ::testing::AssertionFailure() << "nothing was thrown; expected mlsys::Error with" << all;
}
#define EXPECT_ERROR_WITH(stmt, ...) EXPECT_TRUE(ThrowsErrorWith([&] { stmt; }, {__VA_ARGS__}))

template <typename T>
void expect_same(const Tensor& actual, const Tensor& expected) {
  ASSERT_TRUE(actual.defined());
  EXPECT_EQ(actual.dtype(), expected.dtype());
  EXPECT_EQ(actual.shape(), expected.shape());
  EXPECT_EQ(actual.device(), Device::CPU);
  const std::vector<T> a = actual.to_vector<T>(), e = expected.to_vector<T>();
  ASSERT_EQ(a.size(), e.size());
  // Bitwise, so NaN and -0.0 must survive too.
  EXPECT_EQ(0, a.empty() ? 0 : std::memcmp(a.data(), e.data(), a.size() * sizeof(T)))
      << "values differ from " << expected.describe();
}

Tensor iota_tensor(Shape shape) {
  std::vector<float> v(static_cast<size_t>(numel(shape)));
  std::iota(v.begin(), v.end(), 0.f);
  return from_vector(v, shape);
}

// Sets an environment variable for one scope and restores the old value afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) ::setenv(name_, old_.c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

// ============================================================================================
// .npy: round trips
// ============================================================================================

TEST_F(Npy, RoundTripEachDtype) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor f = from_vector<float>({0.f, -1.5f, 3.25e-20f, inf, -0.f, std::nanf("")}, {2, 3});
  save_npy(path("f.npy"), f);
  expect_same<float>(load_npy(path("f.npy")), f);

  Tensor i = from_vector<int32_t>({std::numeric_limits<int32_t>::min(), -1, 0, 7,
                                   std::numeric_limits<int32_t>::max()}, {5});
  save_npy(path("i.npy"), i);
  expect_same<int32_t>(load_npy(path("i.npy")), i);

  // Values above 2^53 would not survive a detour through double.
  Tensor l = from_vector<int64_t>({(int64_t{1} << 53) + 1, -(int64_t{1} << 62) - 3, 42, 0},
                                  {2, 1, 2});
  save_npy(path("l.npy"), l);
  expect_same<int64_t>(load_npy(path("l.npy")), l);
}

TEST_F(Npy, RoundTripScalarZeroSizeAndEightDims) {
  Tensor s = from_vector<float>({2.5f}, {});
  save_npy(path("s.npy"), s);
  Tensor s2 = load_npy(path("s.npy"));
  EXPECT_EQ(s2.dim(), 0);
  expect_same<float>(s2, s);

  Tensor si = from_vector<int64_t>({-9}, {});
  save_npy(path("si.npy"), si);
  expect_same<int64_t>(load_npy(path("si.npy")), si);

  for (const Shape& shape : {Shape{0}, Shape{3, 0, 2}, Shape{0, 0}}) {
    SCOPED_TRACE(to_string(shape));
    for (DType dtype : {DType::Float32, DType::Int32, DType::Int64}) {
      save_npy(path("z.npy"), zeros(shape, dtype));
      Tensor z = load_npy(path("z.npy"));
      EXPECT_EQ(z.shape(), shape);
      EXPECT_EQ(z.dtype(), dtype);
      EXPECT_EQ(z.numel(), 0);
    }
  }

  Tensor big = iota_tensor({2, 1, 3, 1, 2, 1, 2, 2});
  save_npy(path("8d.npy"), big);
  expect_same<float>(load_npy(path("8d.npy")), big);
}

TEST_F(Npy, SavesLogicalContentsOfNonContiguousViews) {
  // t[i][j] = 4 i + j; its transpose u[j][i] = t[i][j] is not contiguous.
  Tensor u = iota_tensor({3, 4}).transpose(0, 1);
  ASSERT_FALSE(u.is_contiguous());
  save_npy(path("t.npy"), u);
  Tensor v = load_npy(path("t.npy"));
  ASSERT_EQ(v.shape(), (Shape{4, 3}));
  for (int64_t j = 0; j < 4; ++j)
    for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(v.at({j, i}), float(4 * i + j)) << j << "," << i;

  // A strided slice of int64 and an expanded (stride-0) view.
  Tensor col = from_vector<int64_t>({0, 1, 2, 3, 4, 5}, {3, 2}).slice(1, 1, 2);
  save_npy(path("c.npy"), col);
  EXPECT_EQ(load_npy(path("c.npy")).to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 5}));
  save_npy(path("e.npy"), from_vector<float>({1.f, 2.f}, {1, 2}).expand({3, 2}));
  EXPECT_EQ(load_npy(path("e.npy")).to_vector<float>(),
            (std::vector<float>{1.f, 2.f, 1.f, 2.f, 1.f, 2.f}));
}

TEST_F(Npy, SaveWritesTheBytesNumpyWrites) {
  // numpy.save(f, np.array([[1, 2, 3], [4, 5, 6]], np.float32)) writes exactly these bytes:
  // format 1.0, header length 118 (0x76) = the 59-char dict + 58 spaces + '\n', so that the
  // data starts at byte 128 (numpy reserves room for shape[0] to grow to 21 digits).
  const std::string expected =
      "\x93NUMPY\x01\x00\x76\x00"s + "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" +
      std::string(58, ' ') + "\n" + f32le(1) + f32le(2) + f32le(3) + f32le(4) + f32le(5) + f32le(6);
  save_npy(path("a.npy"), from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  EXPECT_EQ(read(path("a.npy")), expected);

  // A 0-dim int64 (no growth padding) and a 1-dim int32 (Python's "(3,)").
  save_npy(path("s.npy"), from_vector<int64_t>({-2}, {}));
  EXPECT_EQ(read(path("s.npy")), "\x93NUMPY\x01\x00\x76\x00"s +
                                     "{'descr': '<i8', 'fortran_order': False, 'shape': (), }" +
                                     std::string(62, ' ') + "\n" + le64(uint64_t(-2)));
  save_npy(path("v.npy"), from_vector<int32_t>({7, -1, 0}, {3}));
  EXPECT_EQ(read(path("v.npy")), "\x93NUMPY\x01\x00\x76\x00"s +
                                     "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }" +
                                     std::string(60, ' ') + "\n" + le32(7) + le32(0xffffffffu) +
                                     le32(0));
}

// ============================================================================================
// .npy: reading files written by hand (other writers' spacing, key order, versions)
// ============================================================================================

TEST_F(Npy, ReadsHandWrittenVersion1) {
  // The literal header of a numpy-written float32 (2, 3) array, padded to 64 bytes.
  const std::string bytes = "\x93NUMPY\x01\x00\x76\x00"s +
                            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" +
                            std::string(58, ' ') + "\n" + f32le(0.5f) + f32le(-1) + f32le(2) +
                            f32le(3) + f32le(4) + f32le(1e30f);
  Tensor t = load_npy(write("a.npy", bytes));
  expect_same<float>(t, from_vector<float>({0.5f, -1, 2, 3, 4, 1e30f}, {2, 3}));

  // Other key order, no trailing comma, double quotes, Python 2 longs, no padding at all.
  const std::string dict = "{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<i8\"}\n";
  Tensor l = load_npy(write("l.npy", "\x93NUMPY\x01\x00"s + le16(uint32_t(dict.size())) + dict +
                                         le64(5) + le64(uint64_t(-6))));
  expect_same<int64_t>(l, from_vector<int64_t>({5, -6}, {2}));

  expect_same<int32_t>(
      load_npy(write("s.npy", npy_file("{'descr': '<i4', 'fortran_order': False, 'shape': (), }",
                                       le32(123456789)))),
      from_vector<int32_t>({123456789}, {}));
  Tensor z = load_npy(write("z.npy", npy_file("{'descr': '<f4', 'fortran_order': False, "
                                              "'shape': (4, 0, 3), }", "")));
  EXPECT_EQ(z.shape(), (Shape{4, 0, 3}));
}

TEST_F(Npy, ReadsVersions2And3) {
  for (int major : {2, 3}) {
    SCOPED_TRACE(major);
    // Version 2.0 and 3.0 differ from 1.0 only in a 4-byte header length.
    const std::string bytes = "\x93NUMPY"s + char(major) + '\0' + le32(118 - 2) +
                              "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }" +
                              std::string(116 - 59 - 1, ' ') + "\n" + le32(1) + le32(2) +
                              le32(3) + le32(0x80000000u);
    Tensor t = load_npy(write("v.npy", bytes));
    expect_same<int32_t>(t, from_vector<int32_t>({1, 2, 3, std::numeric_limits<int32_t>::min()},
                                                 {2, 2}));
  }
}

TEST_F(Npy, SavesCudaTensorsContents) {
  MLSYS_SKIP_WITHOUT_GPU();
  Tensor t = iota_tensor({3, 4});
  save_npy(path("g.npy"), t.cuda().transpose(0, 1));
  expect_same<float>(load_npy(path("g.npy")), t.transpose(0, 1).contiguous());
}

// ============================================================================================
// .npy: bad files
// ============================================================================================

// Writes `bytes` and expects load_npy to throw naming the op, the file and every phrase.
#define EXPECT_NPY_ERROR(bytes, ...)                                      \
  do {                                                                    \
    const std::string p_ = write("bad.npy", (bytes));                     \
    EXPECT_ERROR_WITH(load_npy(p_), "mlsys::load_npy", p_, __VA_ARGS__);  \
  } while (0)

static const std::string kDictF4 =
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

TEST_F(NpyErrors, MissingFileOrDirectory) {
  const std::string p = path("nope.npy");
  EXPECT_THROW(load_npy(p), mlsys::Error);
  EXPECT_ERROR_WITH(load_npy(p), "mlsys::load_npy", p, "file not found");
  EXPECT_ERROR_WITH(load_npy(dir_.string()), "mlsys::load_npy", "is a directory");
}

TEST_F(NpyErrors, BadMagicOrVersion) {
  EXPECT_NPY_ERROR("", "not a .npy file", "empty file");
  EXPECT_NPY_ERROR("PK\x03\x04 this is a zip", "not a .npy file", "\\x93NUMPY", "50 4b 03 04");
  EXPECT_NPY_ERROR("\x93NUMP", "not a .npy file");
  EXPECT_NPY_ERROR(npy_file(kDictF4, std::string(24, '\0'), 4),
                   "unsupported .npy format version 4.0", "1.0, 2.0, 3.0");
}

TEST_F(NpyErrors, TruncatedHeader) {
  EXPECT_NPY_ERROR("\x93NUMPY\x01"s, "truncated header");
  EXPECT_NPY_ERROR("\x93NUMPY\x01\x00\x76"s, "truncated header");
  EXPECT_NPY_ERROR("\x93NUMPY\x02\x00\x76\x00"s, "truncated header");
  // The length field says 118 header bytes; only 30 follow.
  EXPECT_NPY_ERROR("\x93NUMPY\x01\x00\x76\x00"s + kDictF4.substr(0, 30), "truncated header",
                   "118");
  EXPECT_NPY_ERROR("\x93NUMPY\x02\x00"s + le32(0xfffffff0u) + kDictF4, "header length",
                   "implausibly large");
}

TEST_F(NpyErrors, HeaderThatDoesNotParse) {
  const std::string data(24, '\0');
  for (const char* dict : {
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }",  // bad tuple item
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3",       // unclosed
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }",    // no comma
           "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3), }",    // no comma
           "{'descr: '<f4', 'fortran_order': False, 'shape': (2, 3), }",    // quotes
           "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }",   // not a name
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x",  // trailing text
           "['descr', '<f4']",                                                // not a dict
           "",                                                                // empty
           "{'descr': '<f4', 'fortran_order': False, 'shape': (-, 3), }",   // no digits
       }) {
    SCOPED_TRACE(dict);
    EXPECT_NPY_ERROR(npy_file(dict, data), "header does not parse", "expected");
  }
  // Deep nesting is refused before it can exhaust the stack.
  const std::string deep = "{'shape': " + std::string(100000, '(') + "}";
  EXPECT_NPY_ERROR(npy_file(deep, data, 2), "header does not parse", "nested");
  // Bytes that are not text at all.
  EXPECT_NPY_ERROR(npy_file("{\x01\xff\x00'descr'}"s, data), "header does not parse");
}

TEST_F(NpyErrors, MissingOrWrongKeys) {
  const std::string data(24, '\0');
  EXPECT_NPY_ERROR(npy_file("{'fortran_order': False, 'shape': (2, 3), }", data),
                   "missing the key 'descr'");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'shape': (2, 3), }", data),
                   "missing the key 'fortran_order'");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'fortran_order': False, }", data),
                   "missing the key 'shape'");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), "
                            "'extra': 1}", data), "unexpected key 'extra'");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                            "'shape': (2, 3)}", data), "'descr' twice");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", data),
                   "'shape' must be a tuple", "found a list");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': 6, }", data),
                   "'shape' must be a tuple", "found an integer");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, '3'), }",
                            data), "tuple of integers", "dim 1 is a string");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", data),
                   "'fortran_order' must be True or False");
  EXPECT_NPY_ERROR(npy_file("{'descr': 4, 'fortran_order': False, 'shape': (2, 3), }", data),
                   "'descr' must be a string");
}

TEST_F(NpyErrors, UnsupportedDtypeNamesItAndTheSupportedOnes) {
  for (const char* descr : {"<f8", "|b1", ">f4", "<u1", "<f2", "|O", "<c8"}) {
    SCOPED_TRACE(descr);
    const std::string dict =
        "{'descr': '"s + descr + "', 'fortran_order': False, 'shape': (2, 3), }";
    EXPECT_NPY_ERROR(npy_file(dict, std::string(48, '\0')),
                     "unsupported dtype '"s + descr + "'", "'<f4' (float32)", "'<i4' (int32)",
                     "'<i8' (int64)");
  }
  EXPECT_NPY_ERROR(npy_file("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, "
                            "'shape': (2,), }", std::string(16, '\0')),
                   "unsupported dtype", "structured", "'<f4' (float32)");
}

TEST_F(NpyErrors, FortranOrder) {
  EXPECT_NPY_ERROR(npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                            std::string(24, '\0')),
                   "fortran_order is True", "expected False", "C-order");
}

TEST_F(NpyErrors, DataShorterOrLongerThanTheShapeNeeds) {
  EXPECT_NPY_ERROR(npy_file(kDictF4, std::string(20, '\0')), "data is truncated", "[2, 3]",
                   "needs 24 bytes", "found 20");
  EXPECT_NPY_ERROR(npy_file(kDictF4, ""), "data is truncated", "found 0");
  EXPECT_NPY_ERROR(npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", "1234"),
                   "data is truncated", "needs 8 bytes", "found 4");
  EXPECT_NPY_ERROR(npy_file(kDictF4, std::string(25, '\0')), "trailing", "needs 24 bytes",
                   "found 25");
}

TEST_F(NpyErrors, BadShapes) {
  auto dict = [](const std::string& shape) {
    return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  };
  EXPECT_NPY_ERROR(npy_file(dict("(1, 1, 1, 1, 1, 1, 1, 1, 1)"), f32le(1)), "9 dims",
                   "at most 8");
  EXPECT_NPY_ERROR(npy_file(dict("(2, -3)"), ""), "dim 1 is negative", "-3");
  EXPECT_NPY_ERROR(npy_file(dict("(99999999999999999999,)"), ""), "dim 0",
                   "99999999999999999999", "overflows int64");
  EXPECT_NPY_ERROR(npy_file(dict("(-99999999999999999999,)"), ""), "overflows int64");
  // Each dim fits; their product (or its byte size) does not.
  EXPECT_NPY_ERROR(npy_file(dict("(4294967296, 4294967296, 4)"), ""), "overflows");
  EXPECT_NPY_ERROR(npy_file(dict("(9223372036854775807,)"), ""), "overflows");
  EXPECT_NPY_ERROR(npy_file(dict("(0, 4294967296, 4294967296, 4)"), ""), "overflows");
  // A huge but representable shape must fail on the size check, not try to allocate.
  EXPECT_NPY_ERROR(npy_file(dict("(1000000000, 1000000)"), f32le(0)), "data is truncated");
}

TEST_F(NpyErrors, CorruptedFilesThrowOrLoadNeverCrash) {
  // Truncations of a valid file, and each byte of its preamble and dict (the first 70 of the
  // 128 header bytes) replaced by a few telling values: each must load or throw mlsys::Error
  // (under ASan/UBSan: without touching bad memory).
  const std::string good = npy_file(kDictF4, std::string(24, '\x01'));
  std::vector<std::string> variants;
  for (size_t n : {0, 5, 6, 7, 8, 9, 10, 11, 30, 69, 70, 127, 128, 129, 151})
    variants.push_back(good.substr(0, n));
  for (size_t i = 0; i < 70; ++i)
    for (char c : {'\0', '\xff', '(', ',', '\'', '9'}) {
      std::string v = good;
      v[i] = c;
      variants.push_back(v);
    }
  int loaded = 0;
  for (size_t k = 0; k < variants.size(); ++k) {
    const std::string p = write("fuzz.npy", variants[k]);
    try {
      Tensor t = load_npy(p);
      EXPECT_EQ(size_t(t.numel()) * dtype_size(t.dtype()), 24u) << "variant " << k;
      ++loaded;
    } catch (const mlsys::Error& e) {
      EXPECT_NE(std::string(e.what()).find("mlsys::load_npy"), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(loaded, 0);  // e.g. changes inside the padding are harmless
}

TEST_F(NpyErrors, SaveProblems) {
  EXPECT_ERROR_WITH(save_npy(path("u.npy"), Tensor()), "mlsys::save_npy", "undefined");
  const std::string p = path("no_such_dir/x.npy");
  EXPECT_ERROR_WITH(save_npy(p, zeros({2})), "mlsys::save_npy", p, "cannot open");
}

// ============================================================================================
// IDX
// ============================================================================================

TEST_F(Idx, ReadsEveryTypeBigEndian) {
  // ubyte [2, 3]
  const std::string u8 = idx_file(0x08, {2, 3}, "\x00\x01\x02\x7f\x80\xff"s);
  expect_same<float>(load_idx(write("u8", u8)),
                     from_vector<float>({0, 1, 2, 127, 128, 255}, {2, 3}));
  expect_same<int64_t>(load_idx(write("u8", u8), DType::Int64),
                       from_vector<int64_t>({0, 1, 2, 127, 128, 255}, {2, 3}));
  expect_same<int32_t>(load_idx(write("u8", u8), DType::Int32),
                       from_vector<int32_t>({0, 1, 2, 127, 128, 255}, {2, 3}));
  // sbyte [3]: two's complement
  expect_same<int32_t>(load_idx(write("s8", idx_file(0x09, {3}, "\xff\x80\x7f"s)), DType::Int32),
                       from_vector<int32_t>({-1, -128, 127}, {3}));
  // int16 [2]: 0x012c = 300, 0xfffe = -2
  expect_same<float>(load_idx(write("i16", idx_file(0x0B, {2}, "\x01\x2c\xff\xfe"s))),
                     from_vector<float>({300, -2}, {2}));
  // int32 [1, 2]: 0x00010000 = 65536, 0xffffffff = -1
  expect_same<int64_t>(
      load_idx(write("i32", idx_file(0x0C, {1, 2}, "\x00\x01\x00\x00\xff\xff\xff\xff"s)),
               DType::Int64),
      from_vector<int64_t>({65536, -1}, {1, 2}));
  // float32 [2]: 0x3fc00000 = 1.5, 0xc0200000 = -2.5
  expect_same<float>(load_idx(write("f32", idx_file(0x0D, {2}, "\x3f\xc0\0\0\xc0\x20\0\0"s))),
                     from_vector<float>({1.5f, -2.5f}, {2}));
  // float64 [2]: 0x3ff8000000000000 = 1.5, 0xc000000000000000 = -2 (integral: Int32 is fine)
  const std::string f64 = idx_file(0x0E, {2}, "\x3f\xf8\0\0\0\0\0\0\xc0\0\0\0\0\0\0\0"s);
  expect_same<float>(load_idx(write("f64", f64)), from_vector<float>({1.5f, -2.f}, {2}));
  EXPECT_ERROR_WITH(load_idx(write("f64", f64), DType::Int32), "mlsys::load_idx",
                    "element 0 is 1.5", "not an integer representable in int32");
  expect_same<int32_t>(
      load_idx(write("f64i", idx_file(0x0E, {1}, "\xc0\0\0\0\0\0\0\0"s)), DType::Int32),
      from_vector<int32_t>({-2}, {1}));
}

TEST_F(Idx, MnistLayoutsZeroSizeAndScalar) {
  // Like train-images-idx3-ubyte (00 00 08 03, N rows cols) and train-labels-idx1-ubyte.
  std::string pixels;
  for (int i = 0; i < 2 * 2 * 3; ++i) pixels += char(i * 20);
  Tensor images = load_idx(write("img", idx_file(0x08, {2, 2, 3}, pixels)));
  ASSERT_EQ(images.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(images.at({1, 1, 2}), 220.f);  // element 11, unscaled
  Tensor labels = load_idx(write("lab", idx_file(0x08, {2}, "\x07\x02"s)), DType::Int64);
  EXPECT_EQ(labels.to_vector<int64_t>(), (std::vector<int64_t>{7, 2}));

  EXPECT_EQ(load_idx(write("z", idx_file(0x08, {0, 28, 28}, ""))).shape(), (Shape{0, 28, 28}));
  Tensor s = load_idx(write("s", idx_file(0x0C, {}, "\0\0\0\x2a"s)), DType::Int32);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item_int(), 42);
}

TEST_F(Idx, DoubleOutOfFloatRangeBecomesInfinity) {
  // 0x7fe0000000000000 = 2^1023 (finite double, far beyond float32), and NaN.
  Tensor t = load_idx(write("d", idx_file(0x0E, {3}, "\x7f\xe0\0\0\0\0\0\0"
                                                      "\xff\xe0\0\0\0\0\0\0"
                                                      "\x7f\xf8\0\0\0\0\0\1"s)));
  const std::vector<float> v = t.to_vector<float>();
  EXPECT_EQ(v[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(v[1], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(v[2]));
}

TEST_F(IdxErrors, BadFiles) {
#define EXPECT_IDX_ERROR(bytes, ...)                                            \
  do {                                                                          \
    const std::string p_ = write("bad.idx", (bytes));                           \
    EXPECT_ERROR_WITH(load_idx(p_), "mlsys::load_idx", p_, __VA_ARGS__);        \
  } while (0)
  const std::string missing = path("missing-idx3-ubyte");
  EXPECT_THROW(load_idx(missing), mlsys::Error);
  EXPECT_ERROR_WITH(load_idx(missing), "mlsys::load_idx", missing, "file not found");

  EXPECT_IDX_ERROR("", "truncated header", "4-byte magic number", "found 0 bytes");
  EXPECT_IDX_ERROR("\0\0\x08"s, "truncated header", "found 3 bytes");
  EXPECT_IDX_ERROR("\x1f\x8b\x08\x00\0\0\0\0"s, "not an IDX file", "1f 8b 08 00", "gunzip");
  EXPECT_IDX_ERROR(idx_file(0x0A, {1}, "\0"s), "unknown data type byte 0x0a", "0x08 (ubyte)");
  EXPECT_IDX_ERROR("\0\0\x08\x09"s + std::string(36, '\x01') + "\x01", "9 dims", "at most 8");
  EXPECT_IDX_ERROR("\0\0\x08\x03\0\0\0\x02\0\0"s, "truncated header", "3 4-byte dims");
  EXPECT_IDX_ERROR(idx_file(0x08, {2, 0x80000000u}, ""), "dim 1 is negative");
  EXPECT_IDX_ERROR(idx_file(0x08, {2, 3}, "\x01\x02\x03"s), "data is truncated", "[2, 3]",
                   "needs 6 bytes", "found 3");
  EXPECT_IDX_ERROR(idx_file(0x0E, {2}, std::string(12, '\0')), "data is truncated",
                   "float64", "needs 16 bytes");
  EXPECT_IDX_ERROR(idx_file(0x08, {2}, "\x01\x02\x03"s), "trailing", "found 3");
  // 8 dims of 2^31-1: the byte count overflows int64 before anything is read.
  EXPECT_IDX_ERROR(idx_file(0x0D, std::vector<uint32_t>(8, 0x7fffffffu), ""), "overflows");
#undef EXPECT_IDX_ERROR
}

TEST_F(IdxErrors, CorruptedFilesThrowOrLoadNeverCrash) {
  const std::string good = idx_file(0x08, {2, 3}, "\x01\x02\x03\x04\x05\x06"s);
  std::vector<std::string> variants;
  for (size_t n = 0; n < good.size(); ++n) variants.push_back(good.substr(0, n));
  for (size_t i = 0; i < 12; ++i)
    for (int c : {0x00, 0x01, 0x02, 0x03, 0x06, 0x08, 0x0b, 0x0c, 0x0d, 0x0e, 0x7f, 0x80, 0xff}) {
      std::string v = good;
      v[i] = char(c);
      variants.push_back(v);
    }
  for (size_t k = 0; k < variants.size(); ++k) {
    const std::string p = write("fuzz.idx", variants[k]);
    for (DType dtype : {DType::Float32, DType::Int32, DType::Int64}) {
      try {
        load_idx(p, dtype);
      } catch (const mlsys::Error& e) {
        EXPECT_NE(std::string(e.what()).find("mlsys::load_idx"), std::string::npos) << e.what();
      }
    }
  }
}

TEST_F(IdxErrors, FloatToIntegerNeedsRepresentableIntegers) {
  // float32 NaN, 2^31 (one past int32's max), 1e20 (beyond int64)
  const std::string p = write("f", idx_file(0x0D, {1}, "\x7f\xc0\0\0"s));
  EXPECT_ERROR_WITH(load_idx(p, DType::Int64), "mlsys::load_idx", p, "not an integer");
  const std::string q = write("g", idx_file(0x0D, {2}, "\0\0\0\0\x4f\0\0\0"s));
  EXPECT_ERROR_WITH(load_idx(q, DType::Int32), "element 1 is 2147483648", "int32");
  EXPECT_EQ(load_idx(q, DType::Int64).to_vector<int64_t>(),
            (std::vector<int64_t>{0, int64_t{1} << 31}));
  const std::string r = write("h", idx_file(0x0D, {1}, "\x60\xad\x78\xec"s));
  EXPECT_ERROR_WITH(load_idx(r, DType::Int64), "not an integer representable in int64");
}

// ============================================================================================
// The shipped digits
// ============================================================================================

TEST_F(Digits, ShapesValuesAndClassCounts) {
  const Dataset d = load_digits();
  ASSERT_EQ(d.images.shape(), (Shape{1797, 64}));
  ASSERT_EQ(d.labels.shape(), (Shape{1797}));
  EXPECT_EQ(d.images.dtype(), DType::Float32);
  EXPECT_EQ(d.labels.dtype(), DType::Int64);

  const std::vector<float> px = d.images.to_vector<float>();
  double sum = 0;
  for (size_t i = 0; i < px.size(); ++i) {
    ASSERT_TRUE(px[i] >= 0.f && px[i] <= 1.f) << "pixel " << i << " = " << px[i];
    ASSERT_EQ(px[i] * 16.f, std::round(px[i] * 16.f)) << "pixel " << i << " is not k/16";
    sum += px[i] * 16.0;
  }
  // numpy: int(sklearn.datasets.load_digits().data.sum()) == 561718
  EXPECT_EQ(sum, 561718.0);
  // The first image is a 0; its first row, from sklearn's load_digits().images[0][0]:
  const std::vector<float> row0 = {0, 0, 5, 13, 9, 1, 0, 0};
  for (int j = 0; j < 8; ++j) EXPECT_EQ(px[j] * 16.f, row0[j]) << "pixel " << j;

  // Class counts of the UCI test set ("Class: No of examples in testing set" on the UCI page),
  // identical to np.bincount(load_digits().target).
  const std::vector<int64_t> labels = d.labels.to_vector<int64_t>();
  EXPECT_EQ(std::vector<int64_t>(labels.begin(), labels.begin() + 10),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  std::vector<int> counts(10, 0);
  for (int64_t y : labels) {
    ASSERT_TRUE(y >= 0 && y <= 9) << y;
    ++counts[static_cast<size_t>(y)];
  }
  EXPECT_EQ(counts, (std::vector<int>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}));
}

TEST_F(Digits, DataDirFromEnvironment) {
  // Two fake 8x8 images in a folder named by MLSYS_DATA_DIR.
  std::string pixels(128, '\0');
  pixels[0] = 16;
  pixels[64 + 63] = 8;
  write("digits-images.idx", idx_file(0x08, {2, 8, 8}, pixels));
  write("digits-labels.idx", idx_file(0x08, {2}, "\x03\x09"s));
  {
    ScopedEnv env("MLSYS_DATA_DIR", dir_.string());
    EXPECT_EQ(data_dir(), dir_.string());
    EXPECT_EQ(data_path("digits-labels.idx"), path("digits-labels.idx"));
    const Dataset d = load_digits();
    ASSERT_EQ(d.images.shape(), (Shape{2, 64}));
    EXPECT_EQ(d.images.at({0, 0}), 1.f);
    EXPECT_EQ(d.images.at({1, 63}), 0.5f);
    EXPECT_EQ(d.labels.to_vector<int64_t>(), (std::vector<int64_t>{3, 9}));

    // A corrupt copy is reported, not silently scaled.
    pixels[5] = 17;
    write("digits-images.idx", idx_file(0x08, {2, 8, 8}, pixels));
    EXPECT_ERROR_WITH(load_digits(), "mlsys::load_digits", "pixel 5 is 17", "0..16");
    write("digits-images.idx", idx_file(0x08, {2, 64}, pixels));
    EXPECT_ERROR_WITH(load_digits(), "mlsys::load_digits", "[N, 8, 8]", "[2, 64]");
  }
  {
    const std::string empty = path("empty");
    fs::create_directories(empty);
    ScopedEnv env("MLSYS_DATA_DIR", empty);
    EXPECT_ERROR_WITH(load_digits(), "mlsys::load_digits", "data file not found",
                      empty + "/digits-images.idx", "MLSYS_DATA_DIR");
    EXPECT_ERROR_WITH(data_path("nothing.bin"), "mlsys::data_path", empty + "/nothing.bin");
  }
}

// ============================================================================================
// train_test_split
// ============================================================================================

namespace {
// N samples whose image row i is (i, -i) and label is i, to track where each one goes.
Dataset numbered(int64_t n) {
  std::vector<float> img;
  std::vector<int64_t> lab;
  for (int64_t i = 0; i < n; ++i) {
    img.push_back(float(i));
    img.push_back(-float(i));
    lab.push_back(i);
  }
  return {from_vector(img, {n, 2}), from_vector(lab, {n})};
}

// Checks that rows still pair up and returns the sample ids in order.
std::vector<int64_t> ids_of(const Dataset& d) {
  const std::vector<int64_t> lab = d.labels.to_vector<int64_t>();
  const std::vector<float> img = d.images.to_vector<float>();
  EXPECT_EQ(img.size(), 2 * lab.size());
  for (size_t i = 0; i < lab.size() && 2 * i + 1 < img.size(); ++i) {
    EXPECT_EQ(img[2 * i], float(lab[i])) << "row " << i << " lost its label";
    EXPECT_EQ(img[2 * i + 1], -float(lab[i]));
  }
  return lab;
}
}  // namespace

TEST_F(TrainTestSplit, SizesDisjointAndComplete) {
  const int64_t n = 1000;
  auto [train, test] = train_test_split(numbered(n), 0.25, 7);
  EXPECT_EQ(train.images.shape(), (Shape{750, 2}));
  EXPECT_EQ(test.images.shape(), (Shape{250, 2}));
  EXPECT_EQ(train.labels.shape(), (Shape{750}));
  EXPECT_EQ(test.labels.shape(), (Shape{250}));
  const std::vector<int64_t> a = ids_of(train), b = ids_of(test);
  std::set<int64_t> seen(a.begin(), a.end());
  for (int64_t id : b) EXPECT_TRUE(seen.insert(id).second) << id << " is in both parts";
  EXPECT_EQ(seen.size(), size_t(n));
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), n - 1);
  // Shuffled, not a block of consecutive ids.
  EXPECT_FALSE(std::is_sorted(a.begin(), a.end()));
}

TEST_F(TrainTestSplit, DeterministicPerSeed) {
  const Dataset d = numbered(200);
  const auto [train1, test1] = train_test_split(d, 0.3, 42);
  const auto [train2, test2] = train_test_split(d, 0.3, 42);
  const auto [train3, test3] = train_test_split(d, 0.3, 43);
  EXPECT_EQ(ids_of(train1), ids_of(train2));
  EXPECT_EQ(ids_of(test1), ids_of(test2));
  EXPECT_NE(ids_of(test1), ids_of(test3));
}

TEST_F(TrainTestSplit, FollowsTheDocumentedPhiloxFisherYates) {
  // The contract in io.h, written out independently: Fisher-Yates from the last position down;
  // step i takes the next Philox word of the seed, redraws words >= the largest multiple of
  // i+1 below 2^32, and swaps position i with word % (i+1). The test part is the first rows.
  const int64_t n = 50;
  const uint64_t seed = 2024;
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  uint64_t k = 0;
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t range = uint64_t(i) + 1, limit = (uint64_t{1} << 32) / range * range;
    uint64_t w;
    do w = philox_word(seed, k++);
    while (w >= limit);
    std::swap(order[i], order[w % range]);
  }
  const auto [train, test] = train_test_split(numbered(n), 0.2, seed);
  EXPECT_EQ(ids_of(test), std::vector<int64_t>(order.begin(), order.begin() + 10));
  EXPECT_EQ(ids_of(train), std::vector<int64_t>(order.begin() + 10, order.end()));
}

TEST_F(TrainTestSplit, EveryOrderIsEquallyLikely) {
  // Over 1200 seeds each of the 6 orders of 3 samples should come up ~200 times (binomial
  // sd ~13); a biased shuffle (e.g. j drawn from [0, n) instead of [0, i]) misses this widely.
  std::map<std::vector<int64_t>, int> freq;
  for (uint64_t seed = 0; seed < 1200; ++seed)
    ++freq[ids_of(train_test_split(numbered(3), 0.0, seed).first)];
  EXPECT_EQ(freq.size(), 6u);
  for (const auto& [order, count] : freq)
    EXPECT_TRUE(count > 140 && count < 260) << "order seen " << count << " times";
}

TEST_F(TrainTestSplit, FractionRoundingAndEdges) {
  const Dataset d = numbered(10);
  EXPECT_EQ(train_test_split(d, 0.0, 1).second.labels.shape(), (Shape{0}));
  EXPECT_EQ(train_test_split(d, 0.0, 1).second.images.shape(), (Shape{0, 2}));
  EXPECT_EQ(train_test_split(d, 1.0, 1).first.labels.shape(), (Shape{0}));
  EXPECT_EQ(train_test_split(d, 0.33, 1).second.labels.numel(), 3);  // round(3.3)
  EXPECT_EQ(train_test_split(d, 0.36, 1).second.labels.numel(), 4);  // round(3.6)
  EXPECT_EQ(train_test_split(numbered(0), 0.5, 1).first.labels.numel(), 0);

  EXPECT_ERROR_WITH(train_test_split(d, -0.1, 1), "mlsys::train_test_split", "test_fraction",
                    "[0, 1]");
  EXPECT_ERROR_WITH(train_test_split(d, 1.5, 1), "test_fraction");
  EXPECT_ERROR_WITH(train_test_split(d, std::nan(""), 1), "test_fraction");
  EXPECT_ERROR_WITH(train_test_split({d.images, from_vector<int64_t>({1, 2}, {2})}, 0.5, 1),
                    "mlsys::train_test_split", "same size(0)", "[10, 2]", "[2]");
  EXPECT_ERROR_WITH(train_test_split({Tensor(), d.labels}, 0.5, 1), "undefined");
}

TEST_F(TrainTestSplit, DigitsKeepEverySample) {
  const Dataset d = load_digits();
  const auto [train, test] = train_test_split(d, 0.2, 0);
  EXPECT_EQ(test.images.shape(), (Shape{359, 64}));  // round(0.2 * 1797) = round(359.4)
  EXPECT_EQ(train.images.shape(), (Shape{1438, 64}));
  std::vector<int> counts(10, 0);
  for (const Dataset* part : {&train, &test})
    for (int64_t y : part->labels.to_vector<int64_t>()) ++counts[static_cast<size_t>(y)];
  EXPECT_EQ(counts, (std::vector<int>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}));
}

TEST_F(TrainTestSplit, StaysOnTheInputsDevice) {
  MLSYS_SKIP_WITHOUT_GPU();
  const Dataset d = numbered(20);
  const auto [train, test] = train_test_split({d.images.cuda(), d.labels.cuda()}, 0.5, 3);
  EXPECT_TRUE(train.images.is_cuda() && test.labels.is_cuda());
  const auto [train_cpu, test_cpu] = train_test_split(d, 0.5, 3);
  EXPECT_EQ(test.labels.cpu().to_vector<int64_t>(), test_cpu.labels.to_vector<int64_t>());
}
