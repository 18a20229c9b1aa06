// Given code of PA3 Task 6 (read it, do not edit it): what to do with a pipeline's timeline —
// gather it from every stage, measure its bubble, write it as a Chrome trace (open the file in
// https://ui.perfetto.dev or chrome://tracing) or draw it in ASCII.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "mlsys/error.h"
#include "pa3/pipeline.h"

namespace pa3 {

namespace {
constexpr int kFields = 5;  // stage, op, micro, start, end: one event as doubles

double earliest_start(const std::vector<TimelineEvent>& events) {
  double t = std::numeric_limits<double>::infinity();
  for (const TimelineEvent& e : events) t = std::min(t, e.start_us);
  return t;
}

double latest_end(const std::vector<TimelineEvent>& events) {
  double t = -std::numeric_limits<double>::infinity();
  for (const TimelineEvent& e : events) t = std::max(t, e.end_us);
  return t;
}

// A double as JSON text, fixed with 3 decimals (nanoseconds of a microsecond timestamp).
std::string json_number(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.3f", v);
  return buffer;
}
}  // namespace

std::vector<TimelineEvent> gather_timeline(const Communicator& pp,
                                           const std::vector<TimelineEvent>& mine) {
  const int p = pp.size();
  // 1. every rank's event count (one element per rank: chunk_of(p, p, r) has size 1)
  std::vector<double> counts(static_cast<size_t>(p));
  const double my_count = static_cast<double>(mine.size());
  pp.native_all_gather(&my_count, counts.data(), p);
  int64_t most = 0;
  for (double c : counts) most = std::max<int64_t>(most, static_cast<int64_t>(c));
  if (most == 0) return {};
  // 2. every rank's events, padded to the largest count (equal chunks for the all-gather)
  const int64_t chunk = most * kFields;
  std::vector<double> local(static_cast<size_t>(chunk), 0.0);
  for (size_t i = 0; i < mine.size(); ++i) {
    double* f = &local[i * kFields];
    f[0] = mine[i].stage;
    f[1] = mine[i].op == PipeOp::F ? 0.0 : 1.0;
    f[2] = mine[i].micro;
    f[3] = mine[i].start_us;
    f[4] = mine[i].end_us;
  }
  std::vector<double> all(static_cast<size_t>(chunk * p));
  pp.native_all_gather(local.data(), all.data(), chunk * p);
  std::vector<TimelineEvent> events;
  for (int r = 0; r < p; ++r) {
    for (int64_t i = 0; i < static_cast<int64_t>(counts[r]); ++i) {
      const double* f = &all[static_cast<size_t>(r * chunk + i * kFields)];
      events.push_back({static_cast<int>(f[0]), f[1] == 0.0 ? PipeOp::F : PipeOp::B,
                        static_cast<int>(f[2]), f[3], f[4]});
    }
  }
  return events;
}

double bubble_fraction(const std::vector<TimelineEvent>& events, int num_stages) {
  if (events.empty()) {
    throw mlsys::Error("bubble_fraction: argument 'events': expected at least one event, got none");
  }
  if (num_stages < 1) {
    throw mlsys::Error("bubble_fraction: argument 'num_stages': expected >= 1, got " +
                       std::to_string(num_stages));
  }
  double busy = 0.0;
  for (const TimelineEvent& e : events) busy += e.end_us - e.start_us;
  const double span = latest_end(events) - earliest_start(events);
  if (span <= 0.0) return 0.0;
  return 1.0 - busy / (num_stages * span);
}

std::string chrome_trace_json(const std::vector<TimelineEvent>& events) {
  const double t0 = events.empty() ? 0.0 : earliest_start(events);
  int stages = 0;
  for (const TimelineEvent& e : events) stages = std::max(stages, e.stage + 1);
  std::ostringstream out;
  out << "{\"traceEvents\": [";
  bool first = true;
  auto comma = [&] {
    out << (first ? "\n  " : ",\n  ");
    first = false;
  };
  for (int s = 0; s < stages; ++s) {
    comma();
    out << "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": " << s
        << ", \"tid\": 0, \"args\": {\"name\": \"stage " << s << "\"}}";
  }
  for (const TimelineEvent& e : events) {
    const bool fwd = e.op == PipeOp::F;
    comma();
    out << "{\"name\": \"" << (fwd ? 'F' : 'B') << e.micro << "\", \"cat\": \""
        << (fwd ? "forward" : "backward") << "\", \"ph\": \"X\", \"pid\": " << e.stage
        << ", \"tid\": 0, \"ts\": " << json_number(e.start_us - t0)
        << ", \"dur\": " << json_number(e.end_us - e.start_us)
        << ", \"args\": {\"micro\": " << e.micro << "}}";
  }
  out << "\n], \"displayTimeUnit\": \"ms\"}\n";
  return out.str();
}

void write_chrome_trace(const std::string& path, const std::vector<TimelineEvent>& events) {
  std::ofstream file(path);
  if (!file) throw mlsys::Error("write_chrome_trace: cannot open '" + path + "' for writing");
  file << chrome_trace_json(events);
  if (!file) throw mlsys::Error("write_chrome_trace: writing '" + path + "' failed");
}

std::string ascii_timeline(const std::vector<TimelineEvent>& events, int num_stages,
                           int columns) {
  if (events.empty() || num_stages < 1 || columns < 1) return "";
  const double t0 = earliest_start(events), t1 = latest_end(events);
  const double width = (t1 - t0) / columns;
  std::vector<std::string> rows(static_cast<size_t>(num_stages), std::string(columns, '.'));
  for (const TimelineEvent& e : events) {
    if (e.stage < 0 || e.stage >= num_stages) continue;
    const char mark = e.op == PipeOp::F ? static_cast<char>('0' + e.micro % 10)
                                        : static_cast<char>('a' + e.micro % 26);
    for (int c = 0; c < columns; ++c) {
      const double mid = t0 + (c + 0.5) * width;
      if (mid >= e.start_us && mid < e.end_us) rows[e.stage][c] = mark;
    }
  }
  std::string out;
  for (int s = 0; s < num_stages; ++s) out += "stage " + std::to_string(s) + " |" + rows[s] + "|\n";
  return out;
}

}  // namespace pa3
