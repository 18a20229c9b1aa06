// Unit tests of verdict.cpp: hostile result records never throw, and recorded outputs are
// compared with the reference run's tolerance, not the submission's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "verdict.h"

using namespace grader;
using nlohmann::json;

namespace {

std::string line(const json& tests, const std::string& secret = "s3cret") {
  return json{{"mlsys_grader", 1}, {"secret", secret}, {"passed", true}, {"tests", tests}}.dump() + "\n";
}

json tensor_record(const std::string& k, std::vector<double> v, double rtol = 1e-5, double atol = 1e-6) {
  double sum = 0, asum = 0;
  for (double x : v) sum += x, asum += std::fabs(x);
  return {{"k", k}, {"t", "tensor"}, {"dtype", "float32"}, {"shape", {v.size()}}, {"n", v.size()},
          {"sum", sum}, {"asum", asum}, {"v", v}, {"rtol", rtol}, {"atol", atol}};
}

TEST(Verdict, ParsesTheListenersRecord) {
  json recs = json::array({tensor_record("0:allclose", {1, 2})});
  CaseReport r = parse_report(line({{{"name", "A.b"}, {"status", "passed"}, {"message", ""}, {"records", recs}}}), "s3cret", "A.b");
  EXPECT_EQ(r.problem, "");
  EXPECT_EQ(r.status, "passed");
  EXPECT_EQ(r.records, recs);
}

TEST(Verdict, MalformedRecordsFailWithoutThrowing) {
  // Each of these once crashed the grader or would: numbers where objects belong, wrong types,
  // truncated JSON, several lines, no secret.
  const std::vector<std::string> hostile = {
      "{\"mlsys_grader\":1,\"secret\":\"s3cret\",\"tests\":[5]}\n",
      "{\"mlsys_grader\":1,\"secret\":\"s3cret\",\"tests\":[{\"name\":7,\"status\":\"passed\"}]}\n",
      "{\"mlsys_grader\":1,\"secret\":\"s3cret\",\"tests\":[{\"name\":\"A.b\",\"status\":1}]}\n",
      "{\"mlsys_grader\":1,\"secret\":\"s3cret\",\"tests\":{\"name\":\"A.b\"}}\n",
      "{\"mlsys_grader\":\"1\",\"secret\":\"s3cret\"}\n",
      "{\"mlsys_grader\":1,\"secret\":5,\"tests\":[]}\n",
      "[1,2,3]\n", "42\n", "null\n", "\"text\"\n", "{\"mlsys_grader\":1,\"secret\":\"s3cret\",\"tests\":[{\"na",
      "\xff\xfe{\x01}\n",
      line({{{"name", "A.b"}, {"status", "passed"}}}) + line({{{"name", "A.b"}, {"status", "passed"}}}),
      line({{{"name", "A.b"}, {"status", "passed"}, {"records", 3}}}),
      line({{{"name", "A.b"}, {"status", "weird"}}}),
      line({{{"name", "A.b"}, {"status", "passed"}}}, "wrong"),
  };
  for (const std::string& h : hostile) {
    CaseReport r;
    ASSERT_NO_THROW(r = parse_report(h, "s3cret", "A.b")) << h;
    EXPECT_NE(r.problem, "") << h;
  }
}

TEST(Verdict, RecordsAgreeWithinTwiceTheReferenceTolerance) {
  json ref = json::array({tensor_record("0:allclose", {1.0, -2.0}, 1e-3, 0)});
  EXPECT_EQ(compare_records(json::array({tensor_record("0:allclose", {1.0015, -2.003}, 1e-3, 0)}), ref, true), "");
  std::string d = compare_records(json::array({tensor_record("0:allclose", {1.0025, -2.0}, 1e-3, 0)}), ref, true);
  EXPECT_NE(d.find("element 0"), std::string::npos) << d;
  EXPECT_NE(d.find("1.0025"), std::string::npos) << d;
}

TEST(Verdict, TheSubmissionsOwnToleranceIsIgnored) {
  json ref = json::array({tensor_record("0:allclose", {1.0}, 1e-5, 1e-6)});
  EXPECT_NE(compare_records(json::array({tensor_record("0:allclose", {5.0}, 1e9, 1e9)}), ref, true), "");
}

TEST(Verdict, SumsCatchWrongElementsThatWereNotSampled) {
  json ref = tensor_record("0:allclose", {1, 2, 3, 4});
  json ours = ref;
  ref["i"] = ours["i"] = json::array({0, 1});
  ref["v"] = ours["v"] = json::array({1, 2});
  EXPECT_EQ(compare_records(json::array({ours}), json::array({ref}), true), "");
  ours["sum"] = 10.5;  // element 3 is wrong; the sampled ones are right
  EXPECT_NE(compare_records(json::array({ours}), json::array({ref}), true).find("sum"), std::string::npos);
}

TEST(Verdict, ExactRecordsLabelsAndCounts) {
  json ref = json::array({{{"k", "0:order"}, {"t", "exact"}, {"v", "1,2,3"}}});
  EXPECT_EQ(compare_records(json::array({{{"k", "0:order"}, {"t", "exact"}, {"v", "1,2,3"}}}), ref, true), "");
  EXPECT_NE(compare_records(json::array({{{"k", "0:order"}, {"t", "exact"}, {"v", "1,3,2"}}}), ref, true), "");
  EXPECT_NE(compare_records(json::array({{{"k", "0:other"}, {"t", "exact"}, {"v", "1,2,3"}}}), ref, true), "");
  EXPECT_NE(compare_records(json::array(), ref, true), "");
  EXPECT_NE(compare_records(json::array({ref[0], ref[0]}), ref, true), "");
  // Hidden cases: which record differs, never the values.
  std::string hidden = compare_records(json::array({{{"k", "0:order"}, {"t", "exact"}, {"v", "9"}}}), ref, false);
  EXPECT_EQ(hidden.find("1,2,3"), std::string::npos) << hidden;
}

TEST(Verdict, NanMatchesOnlyNan) {
  json ref = json::array({{{"k", "0:x"}, {"t", "number"}, {"v", "nan"}, {"rtol", 0}, {"atol", 0}}});
  EXPECT_EQ(compare_records(json::array({{{"k", "0:x"}, {"t", "number"}, {"v", "nan"}}}), ref, true), "");
  EXPECT_NE(compare_records(json::array({{{"k", "0:x"}, {"t", "number"}, {"v", 0.0}}}), ref, true), "");
}

}  // namespace
