// Unit tests of the rubric: schema checks with clear errors, gtest filters, the points table,
// the public rubric of the student release.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "results.h"
#include "rubric.h"
#include "util.h"

using namespace grader;
using nlohmann::json;

namespace {

json valid() {
  return json::parse(R"({
    "schema": "mlsys-rubric/1", "pa": "pa1", "title": "Autodiff",
    "student_files": ["pa1_autodiff/src/a.cpp", "pa1_autodiff/src/b.cpp"],
    "tasks": [
      {"id": "2.1", "title": "Topological sort", "files": ["pa1_autodiff/src/a.cpp"],
       "tests": [{"target": "pa1_task2_1_tests", "filter": "*", "points": 4, "visibility": "visible", "requires_gpu": false},
                 {"target": "pa1_hidden_tests", "filter": "Task2_1*", "points": 2, "visibility": "hidden", "requires_gpu": false}]},
      {"id": "2.2", "title": "Gradients", "files": ["pa1_autodiff/src/b.cpp"],
       "tests": [{"target": "pa1_task2_2_tests", "filter": "*-*Slow*", "points": 3, "visibility": "visible"}]}
    ],
    "performance": [
      {"id": "mlp_step", "task": "2.2", "title": "MLP step vs Eigen", "benchmark": "pa1_bench", "item": "mlp_step_digits",
       "reference": "Eigen", "requires_gpu": false, "tiers": [{"min_ratio": 0.25, "points": 1}, {"min_ratio": 0.5, "points": 3}]}
    ]
  })");
}

// The error message of parse_rubric, or "" when it accepts the document.
std::string problems(const json& doc) {
  try {
    parse_rubric(doc.dump(), "r.json");
    return "";
  } catch (const GradeError& e) {
    return e.what();
  }
}

}  // namespace

TEST(Rubric, AcceptsTheDocumentedSchema) {
  Rubric r = parse_rubric(valid().dump(), "r.json");
  EXPECT_EQ(r.pa, "pa1");
  ASSERT_EQ(r.tasks.size(), 2u);
  EXPECT_TRUE(r.tasks[0].tests[1].hidden);
  EXPECT_DOUBLE_EQ(r.total_points(), 4 + 2 + 3 + 3);
  // Tiers come back sorted, fastest first.
  EXPECT_DOUBLE_EQ(r.performance[0].tiers[0].min_ratio, 0.5);
  EXPECT_DOUBLE_EQ(r.performance[0].max_points(), 3);
  EXPECT_EQ(r.performance[0].runs, 3);
}

TEST(Rubric, NamesEveryProblemWithItsPlace) {
  json d = valid();
  d["schema"] = "mlsys-rubric/2";
  d["tasks"][0]["tests"][0]["points"] = "4";
  d["tasks"][0]["tests"][0]["visibility"] = "public";
  d["tasks"][1]["files"] = {"pa1_autodiff/src/c.cpp"};
  d["performance"][0]["task"] = "9";
  d["tasks"][0]["tets"] = json::array();
  std::string p = problems(d);
  EXPECT_NE(p.find("schema: must be \"mlsys-rubric/1\""), std::string::npos) << p;
  EXPECT_NE(p.find("tasks[0].tests[0].points: expected a number > 0, got \"4\""), std::string::npos) << p;
  EXPECT_NE(p.find("tasks[0].tests[0].visibility: \"public\" is not \"visible\" or \"hidden\""), std::string::npos) << p;
  EXPECT_NE(p.find("tasks[1].files: \"pa1_autodiff/src/c.cpp\" is not one of student_files"), std::string::npos) << p;
  EXPECT_NE(p.find("pa1_autodiff/src/b.cpp belongs to no task"), std::string::npos) << p;
  EXPECT_NE(p.find("performance[0].task: no task has id \"9\""), std::string::npos) << p;
  EXPECT_NE(p.find("unknown field \"tets\""), std::string::npos) << p;
}

TEST(Rubric, RejectsUnsafePathsDuplicatesAndBadTiers) {
  json d = valid();
  d["student_files"].push_back("../etc/passwd");
  d["tasks"][1]["id"] = "2.1";
  d["performance"][0]["tiers"] = {{{"min_ratio", 0.5}, {"points", 1}}, {{"min_ratio", 0.25}, {"points", 3}}};
  std::string p = problems(d);
  EXPECT_NE(p.find("without '..'"), std::string::npos) << p;
  EXPECT_NE(p.find("task 2.1 is listed twice"), std::string::npos) << p;
  EXPECT_NE(p.find("must not earn fewer points"), std::string::npos) << p;
}

TEST(Rubric, HiddenTestsNeedTheirOwnExecutable) {
  json d = valid();
  d["tasks"][1]["tests"][0]["target"] = "pa1_hidden_tests";
  EXPECT_NE(problems(d).find("has both visible and hidden groups"), std::string::npos);
}

TEST(Rubric, NotJsonIsAClearError) {
  try {
    parse_rubric("{\"schema\": ", "broken.json");
    FAIL();
  } catch (const GradeError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: not valid JSON"), std::string::npos);
  }
}

TEST(Rubric, OptionalFieldsAndComments) {
  json d = valid();
  d["$comment"] = "staff notes";
  d["limits"] = {{"timeout_s", 30}, {"memory_mb", 2048}};
  d["tasks"][0]["tests"][0]["timeout_s"] = 60;
  d["performance"][0]["runs"] = 5;
  Rubric r = parse_rubric(d.dump(), "r.json");
  EXPECT_DOUBLE_EQ(r.limits.timeout_s, 30);
  EXPECT_DOUBLE_EQ(r.limits.memory_mb, 2048);
  EXPECT_DOUBLE_EQ(r.tasks[0].tests[0].timeout_s, 60);
  EXPECT_EQ(r.performance[0].runs, 5);
}

// forbidden_symbols[].files: a rule for some student files only (PA3: collectives.cpp may not
// call the native collectives that the other files must use); without it, every file.
TEST(Rubric, ForbiddenSymbolsApplyToTheirFiles) {
  json d = valid();
  d["forbidden_symbols"] = json::array(
      {{{"pattern", "^lib_"}, {"why", "no lib"}},
       {{"pattern", "^native_"}, {"why", "a.cpp: no native"}, {"files", {"pa1_autodiff/src/a.cpp"}}}});
  Rubric r = parse_rubric(d.dump(), "r.json");
  ASSERT_EQ(r.forbidden_symbols.size(), 2u);
  EXPECT_TRUE(r.forbidden_symbols[0].applies_to("pa1_autodiff/src/a.cpp"));
  EXPECT_TRUE(r.forbidden_symbols[0].applies_to("pa1_autodiff/src/b.cpp"));
  EXPECT_TRUE(r.forbidden_symbols[1].applies_to("pa1_autodiff/src/a.cpp"));
  EXPECT_FALSE(r.forbidden_symbols[1].applies_to("pa1_autodiff/src/b.cpp"));

  // A file that is not a student file (a typo would silently exempt every file), an empty
  // list, a non-list: each a clear problem naming the place.
  d["forbidden_symbols"][1]["files"] = {"pa1_autodiff/src/c.cpp"};
  std::string e = problems(d);
  EXPECT_NE(e.find("forbidden_symbols[1].files[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("expected one of student_files"), std::string::npos) << e;
  d["forbidden_symbols"][1]["files"] = json::array();
  EXPECT_NE(problems(d).find("forbidden_symbols[1].files: expected a non-empty list"), std::string::npos)
      << problems(d);
  d["forbidden_symbols"][1]["files"] = "pa1_autodiff/src/a.cpp";
  EXPECT_NE(problems(d).find("forbidden_symbols[1].files: expected a non-empty list"), std::string::npos)
      << problems(d);
}

TEST(GtestFilter, FollowsGoogleTestRules) {
  EXPECT_TRUE(gtest_filter_matches("*", "A.b"));
  EXPECT_TRUE(gtest_filter_matches("Task2_1*", "Task2_1_TopoSort.Chain"));
  EXPECT_FALSE(gtest_filter_matches("Task2_1*", "Task2_2_Gradients.Square"));
  EXPECT_TRUE(gtest_filter_matches("A.*:B.*", "B.x"));
  EXPECT_FALSE(gtest_filter_matches("*-*Slow*", "A.VerySlowOne"));
  EXPECT_TRUE(gtest_filter_matches("*-*Slow*:*Big*", "A.Small"));
  EXPECT_FALSE(gtest_filter_matches("*-*Slow*:*Big*", "A.BigOne"));
  EXPECT_TRUE(gtest_filter_matches("-A.*", "B.c"));
  EXPECT_TRUE(gtest_filter_matches("A.?", "A.b"));
  EXPECT_FALSE(gtest_filter_matches("A.?", "A.bc"));
  EXPECT_TRUE(gtest_filter_matches("Cpu/Suite.Case/*", "Cpu/Suite.Case/0"));
}

TEST(RubricTable, ListsEveryTaskWithHiddenAndPerformancePoints) {
  Rubric r = parse_rubric(valid().dump(), "r.json");
  std::string t = rubric_table(r);
  EXPECT_NE(t.find("| Task | Title | Tests | Hidden tests | Performance | Points | Performance tiers (ratio ≥ → points) |\n"),
            std::string::npos) << t;
  EXPECT_NE(t.find("| 2.1 | Topological sort | 4 | 2 | – | 6 | – |\n"), std::string::npos) << t;
  EXPECT_NE(t.find("| **Total** | | 7 | 2 | 3 | **12** | |\n"), std::string::npos) << t;
}

TEST(RubricTable, PutsEachPerformanceItemWithItsTiersInItsTasksRow) {
  Rubric r = parse_rubric(valid().dump(), "r.json");
  // Tiers highest first, thresholds unrounded; the benchmark item and its reference named.
  std::string t = rubric_table(r);
  EXPECT_NE(t.find("| 2.2 | Gradients | 3 | – | 3 | 6 | `mlp_step_digits` vs Eigen: 0.5 → 3, 0.25 → 1 |\n"),
            std::string::npos) << t;
  // A GPU item marks its task; a second item of the task joins the same cell.
  PerfItem second = r.performance[0];
  second.item = "engine_chain";
  second.reference = "2 us/node budget";
  second.requires_gpu = true;
  second.tiers = {{0.003, 2}};
  r.performance.push_back(second);
  t = rubric_table(r);
  EXPECT_NE(t.find("| 2.2 | Gradients (GPU) | 3 | – | 5 | 8 | `mlp_step_digits` vs Eigen: 0.5 → 3, 0.25 → 1; "
                   "`engine_chain` vs 2 us/node budget: 0.003 → 2 |\n"),
            std::string::npos) << t;
  // Without performance items there are neither performance columns nor tiers.
  r.performance.clear();
  t = rubric_table(r);
  EXPECT_NE(t.find("| Task | Title | Tests | Hidden tests | Points |\n"), std::string::npos) << t;
  EXPECT_EQ(t.find("→"), std::string::npos) << t;
}

TEST(RubricTable, PublicRubricKeepsThePointsOfHiddenGroups) {
  std::string pub = public_rubric_json(valid().dump());
  Rubric full = parse_rubric(valid().dump(), "full.json");
  Rubric r = parse_rubric(pub, "public.json");
  EXPECT_EQ(pub.find("pa1_hidden_tests"), std::string::npos);
  EXPECT_DOUBLE_EQ(r.tasks[0].hidden_points, 2);
  EXPECT_EQ(r.tasks[0].tests.size(), 1u);
  EXPECT_EQ(rubric_table(r), rubric_table(full));  // the handout table is the same
}

TEST(Results, EveryFormatIsValidJsonEvenForAnInternalError) {
  GradeResult r;
  r.pa = "pa1";
  r.internal_error = "boom \xff\xfe (not UTF-8)";
  for (const std::string& text : {to_gradescope(r), to_classroom(r), to_json(r)}) {
    json j = json::parse(text);
    EXPECT_TRUE(j.is_object());
  }
  json gs = json::parse(to_gradescope(r));
  EXPECT_EQ(gs["score"], 0.0);
  EXPECT_EQ(gs["tests"][0]["name"], "Autograder error");
  EXPECT_EQ(json::parse(to_classroom(r))["status"], "error");
}

TEST(Results, HiddenCasesNeverShowTheirOutput) {
  GradeResult r;
  r.pa = "pa1";
  CaseResult c;
  c.task = "2.1";
  c.name = "Task2_1_Hidden.Secret";
  c.hidden = true;
  c.status = "failed";
  c.reason = "failed";
  c.output = "expected 0.123456 got 0.5";
  c.max_points = 1;
  r.cases.push_back(c);
  for (const std::string& text : {to_gradescope(r), to_classroom(r), to_markdown(r), to_table(r)})
    EXPECT_EQ(text.find("0.123456"), std::string::npos) << text;
  json gs = json::parse(to_gradescope(r));
  EXPECT_EQ(gs["tests"][0]["visibility"], "after_published");
}

TEST(Results, ATaskGradedNowhereHereSaysNoGpuNotZero) {
  GradeResult r;
  r.pa = "pa2";
  TaskResult t;
  t.id = "3.1";
  t.title = "GPU SGEMM: naive";
  t.not_graded = "not graded here: no GPU";
  r.tasks.push_back(t);
  std::string table = to_table(r);
  EXPECT_NE(table.find("no GPU"), std::string::npos) << table;
  EXPECT_NE(table.find("not graded"), std::string::npos) << table;
  EXPECT_EQ(table.find("0/0"), std::string::npos) << table;
  std::string md = to_markdown(r);
  EXPECT_NE(md.find("| 3.1 | GPU SGEMM: naive | not graded here: no GPU | – |"), std::string::npos) << md;
  EXPECT_EQ(json::parse(to_json(r))["tasks"][0]["not_graded"], "not graded here: no GPU");
}
