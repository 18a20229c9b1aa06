// mlsys/recording.h — recorded outputs of a test case: what the official grader checks.
//
// A test's assertions explain a failure to the student; its *recorded outputs* are what the
// official grader trusts. Under the grader, every record of a test case is sent with the case's
// result, and the same case is run again on the reference solution in a separate process: the
// case passes only if both runs recorded the same labels in the same order, with equal values
// (exact records) or values within twice the reference record's tolerance (both runs are within
// it of the truth). Every test case of a graded group must record at least one output that
// depends on the student's work; `mlsys_grade --solution` lists the cases that record nothing.
// Outside the grader every record call is a cheap no-op.
//
// mlsys::test::allclose() (mlsys/testing.h) records its `actual` tensor with its tolerances, so
// most tests need nothing more. Record what else a test checks: an order, a count, an error
// kind, a scalar. This header needs only the C++ standard library, so the grader's own
// fixtures can use it too.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mlsys::test {

void record_value(const std::string& label, double value, double rtol = 0, double atol = 0);
void record_exact(const std::string& label, const std::string& value);
void record_exact(const std::string& label, const std::vector<int64_t>& values);
void record_exact(const std::string& label, int64_t value);

// Used by the grader's listener (autograder/src/grader_listener.cpp) and by record(Tensor).
namespace recording {
// Turns recording on; `seed` picks which elements of large tensors are sent.
void enable(uint64_t seed);
bool enabled();
// Clears the records of the previous test case.
void begin_case();
// The current case's records as a JSON array.
std::string take_json();
// A float tensor's record from its values in row-major order (mlsys::test::record uses it).
void record_floats(const std::string& label, const std::vector<int64_t>& shape,
                   const std::vector<double>& values, double rtol, double atol);
}  // namespace recording

}  // namespace mlsys::test
