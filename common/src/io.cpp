// io.cpp — .npy and IDX files, the shipped datasets, and a reproducible train/test split.
//
// Both file readers follow the same plan: learn the file size, check every length field in the
// header against it before reading anything it describes, and read the data straight into a
// freshly allocated tensor. Nothing is read past a buffer whatever the file contains.
#include "mlsys/io.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <numeric>
#include <sstream>
#include <type_traits>
#include <vector>

#include "mlsys/random.h"

#ifndef MLSYS_SOURCE_DIR
#error "MLSYS_SOURCE_DIR (the repository root) must be defined; CMake sets it on the mlsys target"
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "mlsys I/O assumes a little-endian host (as .npy '<' dtypes are stored)"
#endif

namespace mlsys {
namespace {

namespace fs = std::filesystem;

// =============================================================================================
// Files
// =============================================================================================

// Opens `path` for binary reading and returns it with its size in bytes.
std::ifstream open_input(const std::string& path, const char* op, uint64_t& size) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) MLSYS_FAIL(op, "cannot open '", path, "': file not found");
  if (fs::is_directory(status))
    MLSYS_FAIL(op, "cannot open '", path, "': it is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) MLSYS_FAIL(op, "cannot open '", path, "' for reading (", std::strerror(errno), ")");
  const uintmax_t n = fs::file_size(path, ec);
  if (ec) MLSYS_FAIL(op, "cannot get the size of '", path, "' (", ec.message(), ")");
  size = static_cast<uint64_t>(n);
  return in;
}

// Reads exactly n bytes. Callers have already checked that the file holds them, so a short
// read means the file changed underneath us or the disk failed.
void read_exact(std::ifstream& in, void* dst, uint64_t n, const std::string& path,
                const char* op, const char* what) {
  if (n == 0) return;
  in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
  if (!in || static_cast<uint64_t>(in.gcount()) != n)
    MLSYS_FAIL(op, "'", path, "': read error in the ", what, ": expected ", n, " bytes, got ",
               in.gcount());
}

// "93 4e 55" — for messages about bytes that are not what they should be.
std::string hex_bytes(const unsigned char* p, size_t n) {
  std::ostringstream os;
  os << std::hex << std::setfill('0');
  for (size_t i = 0; i < n; ++i) os << (i ? " " : "") << std::setw(2) << static_cast<int>(p[i]);
  return os.str();
}

// The number of elements and of bytes a shape needs. False when the product of its non-zero
// dims (times the element size) overflows int64, even if another dim is 0: like NumPy, we
// refuse such shapes, whose strides could not be computed either.
bool checked_sizes(const Shape& shape, size_t elem_size, int64_t& numel_out,
                   int64_t& nbytes_out) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t es = static_cast<int64_t>(elem_size);
  int64_t n = 1;
  bool empty = false;
  for (int64_t d : shape) {  // every d >= 0, checked by the callers
    if (d == 0) {
      empty = true;
      continue;
    }
    if (n > max / d) return false;
    n *= d;
  }
  if (n > max / es) return false;
  numel_out = empty ? 0 : n;
  nbytes_out = numel_out * es;
  return true;
}

// =============================================================================================
// .npy: the header, a Python dict literal
// =============================================================================================
//
// The header is what Python's repr() prints for {'descr': ..., 'fortran_order': ..., 'shape':
// ...}. We parse the small literal subset that can appear there (strings, integers, True,
// False, None, tuples, lists, dicts) with a recursive-descent parser whose every access is
// bounds-checked and whose nesting depth is capped, then validate the three keys.

constexpr const char* kNpyOp = "load_npy";
constexpr const char* kSupportedNpy = "'<f4' (float32), '<i4' (int32), '<i8' (int64)";
constexpr size_t kNpyMaxHeader = size_t(1) << 20;  // real headers are ~100 bytes
constexpr int kMaxNesting = 32;

struct PyValue {
  enum class Kind { Str, Int, Bool, None, Tuple, List, Dict };
  Kind kind = Kind::None;
  std::string text;             // Str: the string; Int: the digits as written
  bool boolean = false;         // Bool
  bool int_ok = false;          // Int: fits in int64
  int64_t integer = 0;          // Int
  std::vector<std::string> keys;  // Dict
  std::vector<PyValue> items;     // Tuple, List, Dict (the values)
};

const char* kind_name(PyValue::Kind kind) {
  switch (kind) {
    case PyValue::Kind::Str: return "a string";
    case PyValue::Kind::Int: return "an integer";
    case PyValue::Kind::Bool: return "a bool";
    case PyValue::Kind::None: return "None";
    case PyValue::Kind::Tuple: return "a tuple";
    case PyValue::Kind::List: return "a list";
    case PyValue::Kind::Dict: return "a dict";
  }
  return "?";
}

// The header as printable text for messages (non-printable bytes as '?', long ones cut).
std::string printable(const std::string& s) {
  std::string out;
  const size_t limit = 160;
  for (size_t i = 0; i < s.size() && i < limit; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : (c == '\n' ? ' ' : '?');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (s.size() > limit) out += "...";
  return out;
}

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  // The whole header: one dict, then only whitespace.
  PyValue parse() {
    skip_space();
    if (peek() != '{') fail("'{' (a dict literal)");
    PyValue dict = value(0);
    skip_space();
    if (pos_ != s_.size()) fail("the end of the header after the dict");
    return dict;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const {
    std::string found = pos_ < s_.size() ? "'" + printable(s_.substr(pos_, 12)) + "'"
                                         : std::string("the end of the header");
    MLSYS_FAIL(kNpyOp, "'", path_, "': header does not parse: expected ", expected,
               " at character ", pos_, ", found ", found, " (header: ", printable(s_), ")");
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= s_.size(); }
  void skip_space() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                         s_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c || at_end()) fail(std::string("'") + c + "'");
    ++pos_;
  }

  PyValue value(int depth) {
    if (depth > kMaxNesting) fail("at most " + std::to_string(kMaxNesting) + " nested brackets");
    skip_space();
    const char c = peek();
    if (at_end()) fail("a value");
    if (c == '\'' || c == '"') return string_value();
    if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return int_value();
    if (c == '(') return sequence(PyValue::Kind::Tuple, ')', depth);
    if (c == '[') return sequence(PyValue::Kind::List, ']', depth);
    if (c == '{') return dict_value(depth);
    if (std::isalpha(static_cast<unsigned char>(c))) return name_value();
    fail("a value (string, integer, True, False, None, tuple, list or dict)");
  }

  PyValue string_value() {
    const char quote = s_[pos_++];
    PyValue v;
    v.kind = PyValue::Kind::Str;
    while (true) {
      if (at_end()) fail(std::string("the closing quote ") + quote);
      const char c = s_[pos_++];
      if (c == quote) break;
      if (c == '\\') {  // keep the escaped character as is; numpy headers never need more
        if (at_end()) fail("a character after '\\'");
        v.text += s_[pos_++];
      } else {
        v.text += c;
      }
    }
    return v;
  }

  PyValue int_value() {
    PyValue v;
    v.kind = PyValue::Kind::Int;
    const size_t start = pos_;
    bool negative = false;
    if (peek() == '-' || peek() == '+') negative = s_[pos_++] == '-';
    if (at_end() || !(peek() >= '0' && peek() <= '9')) fail("a digit");
    // Accumulate as a negative number so that INT64_MIN fits; flag overflow instead of UB.
    int64_t acc = 0;
    bool ok = true;
    const int64_t min = std::numeric_limits<int64_t>::min();
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      const int digit = s_[pos_++] - '0';
      if (acc < (min + digit) / 10) ok = false;
      else acc = acc * 10 - digit;
    }
    if (!at_end() && peek() == 'L') ++pos_;  // Python 2 longs: (3L, 4L)
    if (ok && !negative) {
      if (acc == min) ok = false;
      else acc = -acc;
    }
    v.text = s_.substr(start, pos_ - start);
    v.int_ok = ok;
    v.integer = ok ? acc : 0;
    return v;
  }

  PyValue name_value() {
    const size_t start = pos_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')) ++pos_;
    const std::string name = s_.substr(start, pos_ - start);
    PyValue v;
    if (name == "True" || name == "False") {
      v.kind = PyValue::Kind::Bool;
      v.boolean = name == "True";
    } else if (name == "None") {
      v.kind = PyValue::Kind::None;
    } else {
      pos_ = start;
      fail("a value (string, integer, True, False, None, tuple, list or dict)");
    }
    return v;
  }

  // (a, b, ...) or [a, b, ...], a trailing comma allowed; "(a)" without a comma is just a.
  PyValue sequence(PyValue::Kind kind, char close, int depth) {
    ++pos_;
    PyValue v;
    v.kind = kind;
    bool saw_comma = false;
    while (true) {
      skip_space();
      if (peek() == close && !at_end()) break;
      v.items.push_back(value(depth + 1));
      skip_space();
      if (peek() == ',' && !at_end()) {
        ++pos_;
        saw_comma = true;
        continue;
      }
      if (peek() != close || at_end()) fail(std::string("',' or '") + close + "'");
    }
    ++pos_;
    if (kind == PyValue::Kind::Tuple && v.items.size() == 1 && !saw_comma) {
      PyValue inner = std::move(v.items[0]);
      return inner;
    }
    return v;
  }

  PyValue dict_value(int depth) {
    ++pos_;
    PyValue v;
    v.kind = PyValue::Kind::Dict;
    while (true) {
      skip_space();
      if (peek() == '}' && !at_end()) break;
      if (peek() != '\'' && peek() != '"') fail("a string key or '}'");
      v.keys.push_back(string_value().text);
      expect(':');
      v.items.push_back(value(depth + 1));
      skip_space();
      if (peek() == ',' && !at_end()) {
        ++pos_;
        continue;
      }
      if (peek() != '}' || at_end()) fail("',' or '}'");
    }
    ++pos_;
    return v;
  }

  const std::string& s_;
  const std::string& path_;
  size_t pos_ = 0;
};

struct NpyHeader {
  DType dtype = DType::Float32;
  std::string descr;
  Shape shape;
};

// Validates the parsed dict: exactly the keys descr, fortran_order, shape, with a supported
// dtype, C order and a shape of at most kMaxDims non-negative dims.
NpyHeader interpret_header(const PyValue& dict, const std::string& path) {
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (size_t i = 0; i < dict.keys.size(); ++i) {
    const std::string& key = dict.keys[i];
    const PyValue** slot = key == "descr" ? &descr
                           : key == "fortran_order" ? &fortran
                           : key == "shape" ? &shape
                                            : nullptr;
    if (slot == nullptr)
      MLSYS_FAIL(kNpyOp, "'", path, "': header has an unexpected key '", printable(key),
                 "' (expected exactly 'descr', 'fortran_order' and 'shape')");
    if (*slot != nullptr)
      MLSYS_FAIL(kNpyOp, "'", path, "': header has the key '", key, "' twice");
    *slot = &dict.items[i];
  }
  const std::pair<const char*, const PyValue*> required[] = {
      {"descr", descr}, {"fortran_order", fortran}, {"shape", shape}};
  for (const auto& [name, found] : required)
    if (found == nullptr)
      MLSYS_FAIL(kNpyOp, "'", path, "': header is missing the key '", name,
                 "' (expected 'descr', 'fortran_order' and 'shape')");

  NpyHeader h;
  if (descr->kind == PyValue::Kind::List)
    MLSYS_FAIL(kNpyOp, "'", path, "': unsupported dtype: a structured dtype (descr is a list); "
               "supported dtypes are ", kSupportedNpy);
  if (descr->kind != PyValue::Kind::Str)
    MLSYS_FAIL(kNpyOp, "'", path, "': header key 'descr' must be a string, found ",
               kind_name(descr->kind));
  h.descr = descr->text;
  if (h.descr == "<f4") h.dtype = DType::Float32;
  else if (h.descr == "<i4") h.dtype = DType::Int32;
  else if (h.descr == "<i8") h.dtype = DType::Int64;
  else
    MLSYS_FAIL(kNpyOp, "'", path, "': unsupported dtype '", printable(h.descr),
               "'; supported dtypes are ", kSupportedNpy,
               h.descr.rfind('>', 0) == 0
                   ? " (this one is big-endian: save a.astype(a.dtype.newbyteorder('<')))"
                   : " (convert with a.astype(np.float32) or similar before saving)");

  if (fortran->kind != PyValue::Kind::Bool)
    MLSYS_FAIL(kNpyOp, "'", path, "': header key 'fortran_order' must be True or False, found ",
               kind_name(fortran->kind));
  if (fortran->boolean)
    MLSYS_FAIL(kNpyOp, "'", path, "': fortran_order is True, expected False: only C-order "
               "arrays are supported (save np.ascontiguousarray(a) instead)");

  if (shape->kind != PyValue::Kind::Tuple)
    MLSYS_FAIL(kNpyOp, "'", path, "': header key 'shape' must be a tuple of integers, found ",
               kind_name(shape->kind));
  if (shape->items.size() > static_cast<size_t>(kMaxDims))
    MLSYS_FAIL(kNpyOp, "'", path, "': shape has ", shape->items.size(), " dims, at most ",
               kMaxDims, " are supported");
  for (size_t i = 0; i < shape->items.size(); ++i) {
    const PyValue& d = shape->items[i];
    if (d.kind != PyValue::Kind::Int)
      MLSYS_FAIL(kNpyOp, "'", path, "': header key 'shape' must be a tuple of integers, but "
                 "dim ", i, " is ", kind_name(d.kind));
    if (!d.int_ok)
      MLSYS_FAIL(kNpyOp, "'", path, "': shape dim ", i, " (", printable(d.text),
                 ") is too large: it overflows int64");
    if (d.integer < 0)
      MLSYS_FAIL(kNpyOp, "'", path, "': shape dim ", i, " is negative (", d.integer,
                 "), expected a size >= 0");
    h.shape.push_back(d.integer);
  }
  return h;
}

// =============================================================================================
// .npy: reading and writing
// =============================================================================================

constexpr unsigned char kNpyMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

const char* npy_descr(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "<f4";
    case DType::Int32: return "<i4";
    case DType::Int64: return "<i8";
  }
  MLSYS_FAIL("save_npy", "unknown dtype");
}

// Python's repr of a shape tuple: (), (3,), (2, 3).
std::string python_shape_repr(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) s += ",";
  return s + ")";
}

}  // namespace

Tensor load_npy(const std::string& path) {
  uint64_t file_size = 0;
  std::ifstream in = open_input(path, kNpyOp, file_size);

  // Magic string, version, header length.
  unsigned char pre[12] = {};
  const uint64_t magic_len = std::min<uint64_t>(file_size, sizeof(kNpyMagic));
  read_exact(in, pre, magic_len, path, kNpyOp, "magic string");
  if (magic_len < sizeof(kNpyMagic) || std::memcmp(pre, kNpyMagic, sizeof(kNpyMagic)) != 0)
    MLSYS_FAIL(kNpyOp, "'", path, "' is not a .npy file: expected the magic string "
               "\\x93NUMPY (93 4e 55 4d 50 59) at the start, found ",
               magic_len ? hex_bytes(pre, magic_len) : std::string("an empty file"));
  if (file_size < 8)
    MLSYS_FAIL(kNpyOp, "'", path, "': truncated header: expected a 2-byte format version after "
               "the magic string, found ", file_size - 6, " bytes");
  read_exact(in, pre + 6, 2, path, kNpyOp, "format version");
  const int major = pre[6], minor = pre[7];
  if (major < 1 || major > 3 || minor != 0)
    MLSYS_FAIL(kNpyOp, "'", path, "': unsupported .npy format version ", major, ".", minor,
               " (supported: 1.0, 2.0, 3.0)");
  const uint64_t len_bytes = major == 1 ? 2 : 4;
  if (file_size < 8 + len_bytes)
    MLSYS_FAIL(kNpyOp, "'", path, "': truncated header: expected a ", len_bytes,
               "-byte header length after the version, found ", file_size - 8, " bytes");
  read_exact(in, pre + 8, len_bytes, path, kNpyOp, "header length");
  uint64_t header_len = static_cast<uint64_t>(pre[8]) | static_cast<uint64_t>(pre[9]) << 8;
  if (major > 1)
    header_len |= static_cast<uint64_t>(pre[10]) << 16 | static_cast<uint64_t>(pre[11]) << 24;
  const uint64_t data_start = 8 + len_bytes + header_len;
  if (header_len > kNpyMaxHeader)
    MLSYS_FAIL(kNpyOp, "'", path, "': header length ", header_len, " is implausibly large "
               "(expected at most ", kNpyMaxHeader, " bytes); the file is probably corrupt");
  if (data_start > file_size)
    MLSYS_FAIL(kNpyOp, "'", path, "': truncated header: expected ", header_len,
               " header bytes, found only ", file_size - 8 - len_bytes);

  std::string text(static_cast<size_t>(header_len), '\0');
  read_exact(in, text.data(), header_len, path, kNpyOp, "header");
  const NpyHeader h = interpret_header(HeaderParser(text, path).parse(), path);

  int64_t count = 0, nbytes = 0;
  if (!checked_sizes(h.shape, dtype_size(h.dtype), count, nbytes))
    MLSYS_FAIL(kNpyOp, "'", path, "': shape ", to_string(h.shape), " of ", h.descr,
               " overflows: the product of its non-zero dims (in bytes) does not fit in int64");
  const uint64_t data_len = file_size - data_start;
  if (data_len < static_cast<uint64_t>(nbytes))
    MLSYS_FAIL(kNpyOp, "'", path, "': data is truncated: shape ", to_string(h.shape), " of ",
               h.descr, " needs ", nbytes, " bytes after the header, found ", data_len);
  if (data_len > static_cast<uint64_t>(nbytes))
    MLSYS_FAIL(kNpyOp, "'", path, "': ", data_len - nbytes, " unexpected trailing bytes: shape ",
               to_string(h.shape), " of ", h.descr, " needs ", nbytes,
               " bytes after the header, found ", data_len, " (one array per file)");

  Tensor t(h.shape, h.dtype);
  read_exact(in, t.raw_data(), static_cast<uint64_t>(nbytes), path, kNpyOp, "data");
  return t;
}

void save_npy(const std::string& path, const Tensor& t) {
  MLSYS_CHECK(t.defined(), "save_npy", "cannot save an undefined tensor to '", path, "'");
  const Tensor c = t.cpu().contiguous();

  // Exactly numpy.lib.format's layout: the dict, spaces for the shape[0] to grow to 21 digits
  // in place, then spaces and '\n' so that the data starts at a multiple of 64 bytes.
  std::string header = std::string("{'descr': '") + npy_descr(c.dtype()) +
                       "', 'fortran_order': False, 'shape': " + python_shape_repr(c.shape()) +
                       ", }";
  if (c.dim() > 0) {
    const size_t digits = std::to_string(c.shape()[0]).size();
    header.append(digits < 21 ? 21 - digits : 0, ' ');
  }
  const size_t preamble = sizeof(kNpyMagic) + 2 + 2;
  header.append(64 - (preamble + header.size() + 1) % 64, ' ');
  header += '\n';

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    MLSYS_FAIL("save_npy", "cannot open '", path, "' for writing (", std::strerror(errno), ")");
  const unsigned char version_and_len[4] = {1, 0, static_cast<unsigned char>(header.size()),
                                            static_cast<unsigned char>(header.size() >> 8)};
  out.write(reinterpret_cast<const char*>(kNpyMagic), sizeof(kNpyMagic));
  out.write(reinterpret_cast<const char*>(version_and_len), sizeof(version_and_len));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  const size_t nbytes = static_cast<size_t>(c.numel()) * dtype_size(c.dtype());
  if (nbytes > 0)
    out.write(static_cast<const char*>(c.raw_data()), static_cast<std::streamsize>(nbytes));
  out.close();
  if (!out)
    MLSYS_FAIL("save_npy", "writing '", path, "' failed (", std::strerror(errno),
               "); the file may be incomplete");
}

// =============================================================================================
// IDX
// =============================================================================================

namespace {

constexpr const char* kIdxOp = "load_idx";

struct IdxType {
  unsigned char code;
  size_t size;
  const char* name;
};
constexpr IdxType kIdxTypes[] = {{0x08, 1, "ubyte"}, {0x09, 1, "sbyte"},   {0x0B, 2, "int16"},
                                 {0x0C, 4, "int32"}, {0x0D, 4, "float32"}, {0x0E, 8, "float64"}};

uint32_t be32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}
uint64_t be64(const unsigned char* p) {
  return static_cast<uint64_t>(be32(p)) << 32 | be32(p + 4);
}
// Reinterprets the bits of an unsigned integer as a same-sized type (signed int, float).
template <typename To, typename From>
To bit_cast_to(From bits) {
  static_assert(sizeof(To) == sizeof(From), "sizes must match");
  To out;
  std::memcpy(&out, &bits, sizeof(To));
  return out;
}

// A float64 value as T: float32 rounds to nearest (overflow to +-inf, as IEEE does); integer
// dtypes accept only integral values in range, since anything else has no faithful result.
template <typename T>
T from_floating(double v, int64_t index, const std::string& path) {
  if constexpr (std::is_same_v<T, float>) {
    if (std::isnan(v)) return std::numeric_limits<float>::quiet_NaN();
    const double max = std::numeric_limits<float>::max();
    const double rounds_to_inf = 0x1.ffffffp127;  // FLT_MAX + half an ulp
    const float inf = std::numeric_limits<float>::infinity();
    if (std::fabs(v) >= rounds_to_inf) return v > 0 ? inf : -inf;
    if (v > max) return std::numeric_limits<float>::max();
    if (v < -max) return -std::numeric_limits<float>::max();
    return static_cast<float>(v);
  } else {
    const double lo = static_cast<double>(std::numeric_limits<T>::min());  // -2^31 or -2^63
    if (!(std::isfinite(v) && std::trunc(v) == v && v >= lo && v < -lo))
      MLSYS_FAIL(kIdxOp, "'", path, "': element ", index, " is ", std::setprecision(17), v,
                 ", which is not an integer "
                 "representable in ", to_string(dtype_of<T>()), "; load it as Float32 instead");
    return static_cast<T>(v);
  }
}

// Converts n big-endian elements of `type` at src to T.
template <typename T>
void idx_convert(const unsigned char* src, const IdxType& type, int64_t n, T* dst,
                 const std::string& path) {
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* p = src + static_cast<size_t>(i) * type.size;
    switch (type.code) {
      case 0x08: dst[i] = static_cast<T>(p[0]); break;
      case 0x09: dst[i] = static_cast<T>(bit_cast_to<int8_t>(p[0])); break;
      case 0x0B:
        dst[i] = static_cast<T>(bit_cast_to<int16_t>(static_cast<uint16_t>(p[0] << 8 | p[1])));
        break;
      case 0x0C: dst[i] = static_cast<T>(bit_cast_to<int32_t>(be32(p))); break;
      case 0x0D: dst[i] = from_floating<T>(bit_cast_to<float>(be32(p)), i, path); break;
      case 0x0E: dst[i] = from_floating<T>(bit_cast_to<double>(be64(p)), i, path); break;
    }
  }
}

}  // namespace

Tensor load_idx(const std::string& path, DType dtype) {
  uint64_t file_size = 0;
  std::ifstream in = open_input(path, kIdxOp, file_size);
  MLSYS_CHECK(dtype == DType::Float32 || dtype == DType::Int32 || dtype == DType::Int64, kIdxOp,
              "unknown dtype requested for '", path, "'");

  unsigned char magic[4] = {};
  if (file_size < 4) {
    read_exact(in, magic, file_size, path, kIdxOp, "magic number");
    MLSYS_FAIL(kIdxOp, "'", path, "': truncated header: expected a 4-byte magic number, found ",
               file_size, " bytes", file_size ? " (" + hex_bytes(magic, file_size) + ")" : "");
  }
  read_exact(in, magic, 4, path, kIdxOp, "magic number");
  if (magic[0] != 0 || magic[1] != 0)
    MLSYS_FAIL(kIdxOp, "'", path, "' is not an IDX file: expected a magic number starting with "
               "two zero bytes (00 00 <type> <ndim>, e.g. 00 00 08 03), found ",
               hex_bytes(magic, 4), " (gzip files start with 1f 8b: gunzip them first)");
  const IdxType* type = nullptr;
  for (const IdxType& t : kIdxTypes)
    if (t.code == magic[2]) type = &t;
  if (type == nullptr)
    MLSYS_FAIL(kIdxOp, "'", path, "': unknown data type byte 0x", hex_bytes(magic + 2, 1),
               "; expected 0x08 (ubyte), 0x09 (sbyte), 0x0b (int16), 0x0c (int32), "
               "0x0d (float32) or 0x0e (float64)");
  const int ndim = magic[3];
  if (ndim > kMaxDims)
    MLSYS_FAIL(kIdxOp, "'", path, "': the header says ", ndim, " dims, at most ", kMaxDims,
               " are supported");
  const uint64_t header_len = 4 + 4 * static_cast<uint64_t>(ndim);
  if (file_size < header_len)
    MLSYS_FAIL(kIdxOp, "'", path, "': truncated header: expected ", ndim, " 4-byte dims after "
               "the magic number, found ", file_size - 4, " bytes");
  unsigned char dims[4 * kMaxDims] = {};
  read_exact(in, dims, 4 * static_cast<uint64_t>(ndim), path, kIdxOp, "dims");
  Shape shape;
  for (int i = 0; i < ndim; ++i) {
    const int32_t d = bit_cast_to<int32_t>(be32(dims + 4 * i));
    if (d < 0)
      MLSYS_FAIL(kIdxOp, "'", path, "': dim ", i, " is negative (", d, "), expected a size >= 0");
    shape.push_back(d);
  }

  int64_t count = 0, nbytes = 0;
  if (!checked_sizes(shape, type->size, count, nbytes))
    MLSYS_FAIL(kIdxOp, "'", path, "': shape ", to_string(shape), " of ", type->name,
               " overflows: the product of its non-zero dims (in bytes) does not fit in int64");
  const uint64_t data_len = file_size - header_len;
  if (data_len < static_cast<uint64_t>(nbytes))
    MLSYS_FAIL(kIdxOp, "'", path, "': data is truncated: shape ", to_string(shape), " of ",
               type->name, " needs ", nbytes, " bytes after the header, found ", data_len);
  if (data_len > static_cast<uint64_t>(nbytes))
    MLSYS_FAIL(kIdxOp, "'", path, "': ", data_len - nbytes, " unexpected trailing bytes: shape ",
               to_string(shape), " of ", type->name, " needs ", nbytes,
               " bytes after the header, found ", data_len);

  std::vector<unsigned char> raw(static_cast<size_t>(nbytes));
  read_exact(in, raw.data(), static_cast<uint64_t>(nbytes), path, kIdxOp, "data");
  Tensor t(shape, dtype);
  switch (dtype) {
    case DType::Float32: idx_convert(raw.data(), *type, count, t.data<float>(), path); break;
    case DType::Int32: idx_convert(raw.data(), *type, count, t.data<int32_t>(), path); break;
    case DType::Int64: idx_convert(raw.data(), *type, count, t.data<int64_t>(), path); break;
  }
  return t;
}

// =============================================================================================
// Datasets
// =============================================================================================

namespace {

constexpr const char* kDataEnv = "MLSYS_DATA_DIR";

std::string find_data_file(const std::string& filename, const char* op) {
  const std::string path = data_dir() + "/" + filename;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return path;
  const char* env = std::getenv(kDataEnv);
  const std::string where =
      env != nullptr && env[0] != '\0'
          ? std::string("the data directory comes from the environment variable ") + kDataEnv +
                "='" + env + "'; check it or unset it to use the source tree's common/data"
          : std::string("the data directory is common/data of the source tree this library was "
                        "built from; set the environment variable ") +
                kDataEnv + " to the folder that holds " + filename;
  MLSYS_FAIL(op, "data file not found: tried '", path, "' (", where, ")");
}

// Rows `rows` of t (along dim 0), in that order, as a new contiguous tensor on t's device.
Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& rows) {
  const Tensor src = t.cpu().contiguous();
  Shape shape = src.shape();
  int64_t row_elems = 1;
  for (size_t i = 1; i < shape.size(); ++i) row_elems *= shape[i];
  shape[0] = static_cast<int64_t>(rows.size());
  Tensor out(shape, src.dtype());
  const size_t row_bytes = static_cast<size_t>(row_elems) * dtype_size(src.dtype());
  const char* from = static_cast<const char*>(src.raw_data());
  char* to = static_cast<char*>(out.raw_data());
  if (row_bytes > 0)
    for (size_t i = 0; i < rows.size(); ++i)
      std::memcpy(to + i * row_bytes, from + static_cast<size_t>(rows[i]) * row_bytes, row_bytes);
  return out.to(t.device());
}

// A uniformly random permutation of 0..n-1 (Fisher-Yates). Step i swaps element i with a j
// drawn uniformly from [0, i] out of the Philox word stream of `seed`; words at or above the
// largest multiple of i+1 below 2^32 are redrawn, so j has no modulo bias.
std::vector<int64_t> shuffled_indices(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  const uint64_t two32 = uint64_t{1} << 32;
  uint64_t counter = 0;
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t range = static_cast<uint64_t>(i) + 1;
    const uint64_t limit = two32 - two32 % range;
    uint64_t w = philox_word(seed, counter++);
    while (w >= limit) w = philox_word(seed, counter++);
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(w % range)]);
  }
  return order;
}

}  // namespace

std::string data_dir() {
  const char* env = std::getenv(kDataEnv);
  if (env != nullptr && env[0] != '\0') return env;
  return std::string(MLSYS_SOURCE_DIR) + "/common/data";
}

std::string data_path(const std::string& filename) {
  return find_data_file(filename, "data_path");
}

Dataset load_digits() {
  const char* op = "load_digits";
  const std::string images_path = find_data_file("digits-images.idx", op);
  const std::string labels_path = find_data_file("digits-labels.idx", op);
  Tensor images = load_idx(images_path, DType::Float32);
  Tensor labels = load_idx(labels_path, DType::Int64);
  MLSYS_CHECK(images.dim() == 3 && images.size(1) == 8 && images.size(2) == 8, op, "'",
              images_path, "': expected images of shape [N, 8, 8], found ",
              to_string(images.shape()));
  const int64_t n = images.size(0);
  MLSYS_CHECK(labels.dim() == 1 && labels.size(0) == n, op, "'", labels_path,
              "': expected labels of shape [", n, "] to match the images, found ",
              to_string(labels.shape()));

  float* px = images.data<float>();
  for (int64_t i = 0; i < images.numel(); ++i) {
    MLSYS_CHECK(px[i] >= 0.f && px[i] <= 16.f, op, "'", images_path, "': pixel ", i, " is ",
                px[i], ", expected a count in 0..16; the file is corrupt");
    px[i] /= 16.f;  // exact: a power of two
  }
  const int64_t* lab = labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    MLSYS_CHECK(lab[i] >= 0 && lab[i] <= 9, op, "'", labels_path, "': label ", i, " is ",
                lab[i], ", expected a digit 0..9; the file is corrupt");
  return {images.reshape({n, 64}), labels};
}

std::pair<Dataset, Dataset> train_test_split(const Dataset& data, double test_fraction,
                                             uint64_t seed) {
  const char* op = "train_test_split";
  MLSYS_CHECK(data.images.defined() && data.labels.defined(), op,
              "expected a dataset with images and labels, got an undefined tensor");
  MLSYS_CHECK(data.images.dim() >= 1 && data.labels.dim() >= 1, op,
              "expected images and labels with a sample dim 0, got images ",
              data.images.describe(), " and labels ", data.labels.describe());
  const int64_t n = data.images.size(0);
  MLSYS_CHECK(data.labels.size(0) == n, op, "images ", data.images.describe(), " and labels ",
              data.labels.describe(), " must have the same size(0)");
  MLSYS_CHECK(test_fraction >= 0.0 && test_fraction <= 1.0, op,
              "test_fraction must be in [0, 1], got ", test_fraction);
  MLSYS_CHECK(n <= static_cast<int64_t>(uint32_t{0xFFFFFFFF}), op, "at most 2^32-1 samples are "
              "supported, got ", n);

  const std::vector<int64_t> order = shuffled_indices(n, seed);
  const auto n_test =
      static_cast<std::ptrdiff_t>(std::llround(test_fraction * static_cast<double>(n)));
  const std::vector<int64_t> test_rows(order.begin(), order.begin() + n_test);
  const std::vector<int64_t> train_rows(order.begin() + n_test, order.end());
  Dataset train{gather_rows(data.images, train_rows), gather_rows(data.labels, train_rows)};
  Dataset test{gather_rows(data.images, test_rows), gather_rows(data.labels, test_rows)};
  return {std::move(train), std::move(test)};
}

}  // namespace mlsys
