// autograder/src/verdict.h — reading what a test process reported, and checking its recorded
// outputs against the reference solution's run of the same case.
//
// Every byte on the result channel comes from a process that runs student code, so it is
// parsed as hostile input: any shape other than the one the listener writes is a failure of
// that case with a reason, never an exception.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace grader {

// What one run of one test case reported on its result channel.
struct CaseReport {
  std::string problem;  // non-empty: the report is unusable; this says why (one line)
  std::string status;   // "passed", "failed", "skipped"
  std::string message;  // the failure messages (empty when passed)
  nlohmann::json records = nlohmann::json::array();  // the case's recorded outputs
};

// Parses the channel of a run that asked for the single case `case_name` with `secret`.
CaseReport parse_report(const std::string& channel, const std::string& secret, const std::string& case_name);

// Checks the submission's records against the reference run's. Returns "" when they agree:
// same labels in the same order, exact records equal, numbers and tensor elements within twice
// the reference record's tolerance (each run is within it of the truth), tensor sums within the
// bound that per-element agreement implies. Otherwise one line saying what differs first; with
// `detail` false it names the record but shows no value (hidden cases).
std::string compare_records(const nlohmann::json& ours, const nlohmann::json& reference, bool detail);

// nlohmann::json rejects invalid UTF-8; bad bytes become '?'.
std::string utf8_safe(const std::string& s);

}  // namespace grader
