// Reading test reports and comparing recorded outputs. See verdict.h.
#include "verdict.h"

#include <cmath>
#include <sstream>

#include "util.h"

namespace grader {

using nlohmann::json;

std::string utf8_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

namespace {

// Typed look-ups that never throw: a missing field or one of another type is "absent".
const json* field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool get_string(const json& obj, const char* key, std::string* out) {
  const json* f = field(obj, key);
  if (!f || !f->is_string()) return false;
  *out = f->get<std::string>();
  return true;
}

// A recorded number: a JSON number, or "nan" / "inf" / "-inf".
bool get_number(const json& v, double* out) {
  if (v.is_number()) {
    *out = v.get<double>();
    return true;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "nan") *out = std::nan("");
    else if (s == "inf") *out = INFINITY;
    else if (s == "-inf") *out = -INFINITY;
    else return false;
    return true;
  }
  return false;
}

bool get_number(const json& obj, const char* key, double* out) {
  const json* f = field(obj, key);
  return f && get_number(*f, out);
}

// Whether `x` (submission) agrees with `r` (reference) within twice the reference's tolerance.
bool close(double x, double r, double rtol, double atol) {
  if (std::isnan(r) || std::isnan(x)) return std::isnan(r) && std::isnan(x);
  if (std::isinf(r) || std::isinf(x)) return x == r;
  return std::fabs(x - r) <= 2 * (atol + rtol * std::fabs(r));
}

std::string show(double x) {
  std::ostringstream s;
  s.precision(8);
  s << x;
  return s.str();
}

std::string compare_one(const json& a, const json& r, bool detail, const std::string& label) {
  std::string kind_r, kind_a;
  get_string(r, "t", &kind_r);
  if (!get_string(a, "t", &kind_a) || kind_a != kind_r) return "record " + label + " is of another kind";
  if (kind_r == "exact") {
    std::string va, vr;
    if (!get_string(a, "v", &va) || !get_string(r, "v", &vr) || va != vr)
      return "record " + label + " differs" + (detail ? " (got " + clip(va, 80) + ", the reference has " + clip(vr, 80) + ")" : "");
    return "";
  }
  double rtol = 0, atol = 0;
  get_number(r, "rtol", &rtol);
  get_number(r, "atol", &atol);
  if (!(rtol >= 0) || !(atol >= 0)) rtol = atol = 0;
  if (kind_r == "number") {
    double va, vr;
    if (!get_number(a, "v", &va) || !get_number(r, "v", &vr) || !close(va, vr, rtol, atol))
      return "record " + label + " differs" + (detail && get_number(a, "v", &va) && get_number(r, "v", &vr) ? " (got " + show(va) + ", the reference has " + show(vr) + ")" : "");
    return "";
  }
  if (kind_r != "tensor") return "record " + label + " has an unknown kind";
  const json* shape_a = field(a, "shape");
  const json* shape_r = field(r, "shape");
  if (!shape_a || !shape_r || *shape_a != *shape_r)
    return "record " + label + ": shape " + (shape_a ? shape_a->dump() : "?") + (detail ? ", the reference has " + (shape_r ? shape_r->dump() : "?") : " differs from the reference");
  const json* idx_a = field(a, "i");
  const json* idx_r = field(r, "i");
  if ((idx_a == nullptr) != (idx_r == nullptr) || (idx_a && *idx_a != *idx_r)) return "record " + label + ": sampled other elements";
  const json* va = field(a, "v");
  const json* vr = field(r, "v");
  if (!va || !vr || !va->is_array() || !vr->is_array() || va->size() != vr->size())
    return "record " + label + ": a different number of values";
  for (size_t i = 0; i < vr->size(); ++i) {
    double x, y;
    if (!get_number((*va)[i], &x) || !get_number((*vr)[i], &y) || !close(x, y, rtol, atol)) {
      std::string where = idx_r ? "element " + (*idx_r)[i].dump() + " (flat)" : "element " + std::to_string(i) + " (flat)";
      return "record " + label + ": " + where + " differs" + (detail && get_number((*va)[i], &x) && get_number((*vr)[i], &y) ? " (got " + show(x) + ", the reference has " + show(y) + ")" : "");
    }
  }
  // Per-element agreement within e_i = 2(atol + rtol|r_i|) bounds both sums by sum(e_i).
  double n = 0, sum_a, sum_r, asum_a, asum_r;
  get_number(r, "n", &n);
  if (!get_number(a, "sum", &sum_a) || !get_number(r, "sum", &sum_r) || !get_number(a, "asum", &asum_a) ||
      !get_number(r, "asum", &asum_r))
    return "record " + label + ": no sums";
  double bound = 2 * (n * atol + rtol * std::fabs(asum_r)) + 1e-9 * std::fabs(asum_r);
  bool sums_ok = (std::isfinite(sum_r) ? std::fabs(sum_a - sum_r) <= bound : close(sum_a, sum_r, 0, 0)) &&
                 (std::isfinite(asum_r) ? std::fabs(asum_a - asum_r) <= bound : close(asum_a, asum_r, 0, 0));
  if (!sums_ok)
    return "record " + label + ": the sum of all elements differs" +
           (detail ? " (got " + show(sum_a) + ", the reference has " + show(sum_r) + ")" : "");
  return "";
}

}  // namespace

CaseReport parse_report(const std::string& channel, const std::string& secret, const std::string& case_name) {
  CaseReport rep;
  std::vector<json> lines;
  bool garbage = false;
  for (const std::string& line : split(channel, '\n')) {
    if (trim(line).empty()) continue;
    json j = json::parse(utf8_safe(line), nullptr, /*allow_exceptions=*/false);
    const json* tag = field(j, "mlsys_grader");
    if (tag && tag->is_number_integer() && tag->get<long long>() == 1)
      lines.push_back(std::move(j));
    else
      garbage = true;
  }
  if (lines.empty()) {
    rep.problem = std::string("reported no result") + (garbage ? " (the result channel held something else)" : "");
    return rep;
  }
  if (lines.size() > 1 || garbage) {
    rep.problem = "the result channel was written more than once (tampering?)";
    return rep;
  }
  const json& rec = lines[0];
  std::string got_secret;
  if (!get_string(rec, "secret", &got_secret) || got_secret != secret) {
    rep.problem = "the result did not carry this run's secret (tampering?)";
    return rep;
  }
  const json* tests = field(rec, "tests");
  if (!tests || !tests->is_array() || tests->empty()) {
    rep.problem = "the test case did not run";
    return rep;
  }
  std::string name;
  if (tests->size() != 1 || !get_string((*tests)[0], "name", &name) || name != case_name) {
    rep.problem = "the process reported other tests than " + case_name;
    return rep;
  }
  const json& t = (*tests)[0];
  if (!get_string(t, "status", &rep.status) ||
      (rep.status != "passed" && rep.status != "failed" && rep.status != "skipped")) {
    rep.problem = "the result had no valid status (tampering?)";
    return rep;
  }
  get_string(t, "message", &rep.message);
  const json* records = field(t, "records");
  if (records && records->is_array()) rep.records = *records;
  else if (rep.status == "passed") rep.problem = "the result carried no recorded outputs (tampering?)";
  return rep;
}

std::string compare_records(const json& ours, const json& reference, bool detail) {
  if (!ours.is_array() || !reference.is_array()) return "no recorded outputs";
  size_t n = std::min(ours.size(), reference.size());
  for (size_t i = 0; i < n; ++i) {
    std::string ka, kr;
    get_string(reference[i], "k", &kr);
    if (!get_string(ours[i], "k", &ka) || ka != kr)
      return "recorded " + (detail ? "'" + clip(ka, 60) + "' where the reference recorded '" + kr + "'" : "other outputs than the reference");
    std::string d = compare_one(ours[i], reference[i], detail, "'" + kr + "'");
    if (!d.empty()) return d;
  }
  if (ours.size() != reference.size())
    return "recorded " + std::to_string(ours.size()) + " output(s), the reference " + std::to_string(reference.size());
  return "";
}

}  // namespace grader
