// GoogleTest helpers: allclose with a readable report, finite differences, device lists.
#include "mlsys/testing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <sstream>

namespace mlsys::test {

// Unravels a flat row-major index into "[i, j, k]".
static std::string index_string(int64_t flat, const Shape& shape) {
  Shape idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return to_string(idx);
}

::testing::AssertionResult allclose(const Tensor& actual, const Tensor& expected, double rtol,
                                    double atol, const std::string& hint) {
  if (!actual.defined() || !expected.defined())
    return ::testing::AssertionFailure() << "allclose: a tensor is undefined";
  record("allclose", actual, rtol, atol);
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure()
           << "shape mismatch: actual " << to_string(actual.shape()) << " vs expected "
           << to_string(expected.shape()) << (hint.empty() ? "" : "\n  hint: ") << hint;
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  int64_t bad = 0;
  double max_abs = 0, max_rel = 0;
  std::ostringstream first;
  for (size_t i = 0; i < a.size(); ++i) {
    double diff = std::fabs(a[i] - e[i]);
    bool ok = diff <= atol + rtol * std::fabs(e[i]) || (a[i] == e[i]);  // equal infinities ok
    if (std::isnan(a[i]) || std::isnan(e[i])) ok = false;
    if (std::isfinite(diff)) {
      max_abs = std::max(max_abs, diff);
      if (e[i] != 0) max_rel = std::max(max_rel, diff / std::fabs(e[i]));
    }
    if (!ok) {
      if (bad < 5)
        first << "\n    at " << index_string(static_cast<int64_t>(i), actual.shape())
              << ": actual " << std::setprecision(8) << a[i] << ", expected " << e[i]
              << " (diff " << diff << ")";
      ++bad;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << a.size() << " elements differ (rtol " << rtol << ", atol " << atol
         << ", shape " << to_string(actual.shape()) << ")\n  max abs error " << max_abs
         << ", max rel error " << max_rel << "\n  first mismatches:" << first.str()
         << "\n  hint: "
         << (hint.empty() ? "check the indexing of the first bad element; if every element "
                            "is slightly off, check accumulation order and precision"
                          : hint);
}

void record(const std::string& label, const Tensor& value, double rtol, double atol) {
  if (!recording::enabled()) return;
  if (!value.defined()) return record_exact(label, std::string("<undefined tensor>"));
  if (value.dtype() != DType::Float32) {  // integer data is compared exactly
    std::string text = std::string(to_string(value.dtype())) + to_string(value.shape()) + ":";
    for (int64_t x : value.to_vector<int64_t>()) text += std::to_string(x) + ",";
    return record_exact(label, text);
  }
  recording::record_floats(label, value.shape(), value.to_vector<double>(), rtol, atol);
}

Tensor numeric_gradient(const std::function<double(const Tensor&)>& f, const Tensor& x,
                        double eps) {
  Tensor base = x.cpu().astype(DType::Float32).clone();
  Tensor grad = zeros(base.shape());
  float* p = base.data<float>();
  float* g = grad.data<float>();
  for (int64_t i = 0; i < base.numel(); ++i) {
    const float orig = p[i];
    p[i] = static_cast<float>(orig + eps);
    // The step actually taken in float32 may differ from eps; divide by it.
    const double up = p[i];
    const double fp = f(base);
    p[i] = static_cast<float>(orig - eps);
    const double down = p[i];
    const double fm = f(base);
    p[i] = orig;
    g[i] = static_cast<float>((fp - fm) / (up - down));
  }
  return grad;
}

::testing::AssertionResult gradcheck(const std::function<double(const Tensor&)>& f,
                                     const Tensor& x, const Tensor& analytic_grad, double eps,
                                     double rtol, double atol) {
  return allclose(analytic_grad, numeric_gradient(f, x, eps), rtol, atol,
                  "the analytic gradient disagrees with central finite differences; check the "
                  "chain rule for this op and that broadcast dims are summed back");
}

// MLSYS_RECORD_AUDIT=1: print, for every test that passes, how many outputs it recorded
// ("mlsys-record-audit: Suite.Name 3"), so staff can find graded tests that record nothing
// (tools/record_audit.py). Never active under the grader, which has its own listener.
}  // namespace mlsys::test

// Referenced by the link option --undefined=mlsys_record_audit_anchor (common/CMakeLists.txt),
// so this object is linked into every test executable, even one that calls nothing here.
extern "C" {
int mlsys_record_audit_anchor = 0;
}

namespace mlsys::test {
namespace {
class RecordAudit : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override { recording::begin_case(); }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    std::string records = recording::take_json();
    int count = 0;
    for (size_t i = 0; i + 4 < records.size(); ++i) count += records.compare(i, 5, "{\"k\":") == 0;
    if (info.result()->Passed() && !info.result()->Skipped())
      std::fprintf(stderr, "mlsys-record-audit: %s.%s %d\n", info.test_suite_name(), info.name(), count);
  }
};
const bool g_record_audit = [] {
  const char* audit = std::getenv("MLSYS_RECORD_AUDIT");
  if (!audit || std::string(audit) != "1" || std::getenv("MLSYS_GRADER_CHANNEL")) return false;
  recording::enable(1);
  ::testing::UnitTest::GetInstance()->listeners().Append(new RecordAudit);
  return true;
}();
}  // namespace

std::vector<Device> test_devices() {
  if (cuda_built()) return {Device::CPU, Device::CUDA};
  return {Device::CPU};
}

std::string device_name(const ::testing::TestParamInfo<Device>& info) {
  return info.param == Device::CPU ? "CPU" : "CUDA";
}

}  // namespace mlsys::test
