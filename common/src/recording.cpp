// Recorded outputs of a test case (mlsys/recording.h): the values the official grader compares
// between the submission's run and the reference solution's run.
//
// Record format, one JSON object per record (autograder/src/verdict.cpp reads it):
//   {"k": "<n>:<label>", "t": "tensor", "dtype": "float32", "shape": [...], "n": numel,
//    "sum": s, "asum": a, "i": [flat indices], "v": [values], "rtol": r, "atol": a}
//   {"k": ..., "t": "number", "v": x, "rtol": r, "atol": a}
//   {"k": ..., "t": "exact", "v": "text"}      (long texts and integer data as "fnv:<hash>:<bytes>")
// A tensor of at most kAllElements elements sends every value; a larger one sends kSamples
// elements at positions drawn from the grader's seed (the same in both runs, unknown to the
// code under test in advance), plus the sum and the sum of absolute values of all elements.
#include <cmath>
#include <cstdio>
#include <mutex>

#include "mlsys/recording.h"

namespace mlsys::test {

namespace {

constexpr int64_t kAllElements = 512;
constexpr int64_t kSamples = 256;
constexpr size_t kLongExact = 256;  // longer exact values are sent as a hash

struct State {
  std::mutex mutex;
  bool enabled = false;
  uint64_t seed = 0;
  int count = 0;  // records of the current case
  std::string json;
};

State& state() {
  static State s;
  return s;
}

std::string number(double x, int digits) {
  if (std::isnan(x)) return "\"nan\"";
  if (std::isinf(x)) return x > 0 ? "\"inf\"" : "\"-inf\"";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.*g", digits, x);
  return buf;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// SplitMix64: the sample positions of record number `count` under `seed`.
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const void* data, size_t n, uint64_t h = 1469598103934665603ull) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

std::string exact_value(const std::string& bytes) {
  if (bytes.size() <= kLongExact) return quoted(bytes);
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"fnv:%016llx:%zu\"",
                static_cast<unsigned long long>(fnv1a(bytes.data(), bytes.size())), bytes.size());
  return buf;
}

// Appends one record; `body` is the JSON after the key.
void append(const std::string& label, const std::string& body) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.json.empty()) s.json += ",";
  s.json += "{\"k\":" + quoted(std::to_string(s.count++) + ":" + label) + "," + body + "}";
}

}  // namespace

void record_value(const std::string& label, double value, double rtol, double atol) {
  if (!recording::enabled()) return;
  append(label, "\"t\":\"number\",\"v\":" + number(value, 17) + ",\"rtol\":" + number(rtol, 17) +
                    ",\"atol\":" + number(atol, 17));
}

void record_exact(const std::string& label, const std::vector<int64_t>& values) {
  if (!recording::enabled()) return;
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) text += (i ? "," : "") + std::to_string(values[i]);
  append(label, "\"t\":\"exact\",\"v\":" + exact_value(text));
}

void record_exact(const std::string& label, int64_t value) { record_exact(label, std::to_string(value)); }

void record_exact(const std::string& label, const std::string& value) {
  if (!recording::enabled()) return;
  append(label, "\"t\":\"exact\",\"v\":" + exact_value(value));
}

namespace recording {

void record_floats(const std::string& label, const std::vector<int64_t>& shape_dims,
                   const std::vector<double>& v, double rtol, double atol) {
  if (!enabled()) return;
  std::string shape = "[";
  for (size_t d = 0; d < shape_dims.size(); ++d) shape += (d ? "," : "") + std::to_string(shape_dims[d]);
  shape += "]";
  const int64_t n = static_cast<int64_t>(v.size());
  double sum = 0, asum = 0;
  for (double x : v) {
    sum += x;
    asum += std::fabs(x);
  }
  std::string idx, vals;
  if (n <= kAllElements) {
    for (int64_t i = 0; i < n; ++i) vals += (i ? "," : "") + number(v[i], 9);
  } else {
    uint64_t stream;
    {
      State& s = state();
      std::lock_guard<std::mutex> lock(s.mutex);
      stream = s.seed ^ (static_cast<uint64_t>(s.count) << 40);
    }
    for (int64_t j = 0; j < kSamples; ++j) {
      int64_t i = static_cast<int64_t>(splitmix64(stream) % static_cast<uint64_t>(n));
      idx += (j ? "," : "") + std::to_string(i);
      vals += (j ? "," : "") + number(v[i], 9);
    }
  }
  append(label, "\"t\":\"tensor\",\"dtype\":\"float32\",\"shape\":" + shape + ",\"n\":" + std::to_string(n) +
                    ",\"sum\":" + number(sum, 17) + ",\"asum\":" + number(asum, 17) +
                    (idx.empty() ? "" : ",\"i\":[" + idx + "]") + ",\"v\":[" + vals + "],\"rtol\":" +
                    number(rtol, 17) + ",\"atol\":" + number(atol, 17));
}

void enable(uint64_t seed) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.enabled = true;
  s.seed = seed;
}

bool enabled() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.enabled;
}

void begin_case() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.count = 0;
  s.json.clear();
}

std::string take_json() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  std::string out = "[" + s.json + "]";
  s.json.clear();
  s.count = 0;
  return out;
}

}  // namespace recording
}  // namespace mlsys::test
