#include "orchestrator/report/svg_chart.h"

#include <algorithm>
#include <iterator>
#include <cmath>
#include <sstream>

#include "orchestrator/report/html_text.h"

namespace chaos::orchestrator::report {

namespace {

constexpr double kWidth = 960, kHeight = 280;
constexpr double kLeft = 70, kRight = 30, kTop = 38, kBottom = 40;
// Phase labels close together go on separate rows above the plot.
constexpr int kLabelRows = 3;
constexpr double kLabelRowHeight = 11, kLabelMinGap = 56;
constexpr int kTicks = 6;

// "12-02 10:15:30" of a date axis tick; "?" for a time that has no date.
std::string month_day_clock(double time) {
  const std::string stamp = format_timestamp(time);  // "2026-12-02 10:15:30.000 UTC"
  return stamp.size() >= 16 ? stamp.substr(5, 11) : stamp;
}

struct ValueRange {
  double low = 0;
  double high = 1;
  double step = 0.2;  // between y-axis ticks: 1, 2 or 5 times a power of ten
};

// Widens [low, high] to whole multiples of a round step (about five ticks),
// so the axis reads 0.4, 0.6, 0.8 rather than 0.3736, 0.4857, ...
ValueRange round_range(double low, double high) {
  const double raw = (high - low) / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  const double normalized = raw / magnitude;
  const double step = (normalized <= 1 ? 1 : normalized <= 2 ? 2 : normalized <= 5 ? 5 : 10) * magnitude;
  return {std::floor(low / step) * step, std::ceil(high / step) * step, step};
}

// Maps run time and values to pixels inside the plot area.
class Scale {
 public:
  Scale(const ChartFrame& frame, ValueRange values) : frame_(frame), values_(values) {}
  double x(double time) const {
    const double span = std::max(frame_.end - frame_.start, 1e-9);
    const double clamped = std::clamp(time, frame_.start, frame_.end);
    return kLeft + (clamped - frame_.start) / span * (kWidth - kLeft - kRight);
  }
  double y(double value) const {
    const double span = std::max(values_.high - values_.low, 1e-12);
    return kTop + (values_.high - value) / span * (kHeight - kTop - kBottom);
  }
  const ValueRange& values() const { return values_; }

 private:
  const ChartFrame& frame_;
  ValueRange values_;
};

std::string px(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

// Every finite value and threshold fits, with a little room above and below.
ValueRange value_range(const ReportChart& chart) {
  double low = INFINITY, high = -INFINITY;
  auto take = [&](double value) {
    if (!std::isfinite(value)) return;
    low = std::min(low, value);
    high = std::max(high, value);
  };
  for (const auto& series : chart.series) {
    for (const auto& point : series.points) take(point.value);
  }
  for (const auto& evaluation : chart.evaluations) take(evaluation.value);
  for (const auto& threshold : chart.thresholds) take(threshold.value);
  if (!std::isfinite(low)) return round_range(0, 1);
  const double pad = high - low < 1e-12 ? (std::abs(high) > 0 ? std::abs(high) * 0.1 : 1) : (high - low) * 0.04;
  // Counts, ratios and latencies are never negative: no axis below zero for them.
  return round_range(low >= 0 ? std::max(0.0, low - pad) : low - pad, high + pad);
}

void draw_fault_windows(std::ostream& out, const ChartFrame& frame, const Scale& scale) {
  for (const auto& window : frame.fault_windows) {
    const double x0 = scale.x(window.start), x1 = scale.x(window.end);
    out << "<rect class=\"fault-window\" x=\"" << px(x0) << "\" y=\"" << px(kTop) << "\" width=\""
        << px(std::max(x1 - x0, 1.0)) << "\" height=\"" << px(kHeight - kTop - kBottom) << "\"><title>fault "
        << escape_html(window.label) << ": " << format_clock(window.start) << " to " << format_clock(window.end)
        << "</title></rect>\n";
  }
}

void draw_axes(std::ostream& out, const ChartFrame& frame, const Scale& scale) {
  const double bottom = kHeight - kBottom;
  out << "<rect class=\"plot-area\" x=\"" << px(kLeft) << "\" y=\"" << px(kTop) << "\" width=\""
      << px(kWidth - kLeft - kRight) << "\" height=\"" << px(bottom - kTop) << "\"/>\n";
  for (int i = 0; i <= kTicks; ++i) {
    const double time = frame.start + (frame.end - frame.start) * i / kTicks;
    const double x = scale.x(time);
    out << "<line class=\"grid\" x1=\"" << px(x) << "\" y1=\"" << px(kTop) << "\" x2=\"" << px(x) << "\" y2=\""
        << px(bottom) << "\"/><text class=\"x-tick\" x=\"" << px(x) << "\" y=\"" << px(bottom + 16)
        << "\" text-anchor=\"" << (i == kTicks ? "end" : i == 0 ? "start" : "middle") << "\">"
        << (frame.date_ticks ? month_day_clock(time) : format_clock(time))
        << "</text>\n";
  }
  const ValueRange& values = scale.values();
  const int steps = static_cast<int>(std::lround((values.high - values.low) / values.step));
  for (int i = 0; i <= steps; ++i) {
    const double value = values.low + values.step * i;
    const double y = scale.y(value);
    out << "<line class=\"grid\" x1=\"" << px(kLeft) << "\" y1=\"" << px(y) << "\" x2=\"" << px(kWidth - kRight)
        << "\" y2=\"" << px(y) << "\"/><text class=\"y-tick\" x=\"" << px(kLeft - 6) << "\" y=\"" << px(y + 4)
        << "\" text-anchor=\"end\">" << format_number(std::abs(value) < values.step * 1e-9 ? 0 : value)
        << "</text>\n";
  }
  out << "<text class=\"axis-label\" x=\"" << px(kWidth - kRight) << "\" y=\"" << px(kHeight - 4)
      << "\" text-anchor=\"end\">time (UTC)</text>\n";
}

void draw_phases(std::ostream& out, const ChartFrame& frame, const Scale& scale) {
  double row_end[kLabelRows];
  std::fill(std::begin(row_end), std::end(row_end), -INFINITY);
  for (const auto& phase : frame.phases) {
    if (phase.time < frame.start || phase.time > frame.end) continue;
    const double x = scale.x(phase.time);
    int row = 0;
    while (row + 1 < kLabelRows && x - row_end[row] < kLabelMinGap) ++row;
    row_end[row] = x;
    const double label_y = kTop - 4 - row * kLabelRowHeight;
    const bool near_right_edge = x > kWidth - kRight - kLabelMinGap;  // label to the left of its line
    out << "<line class=\"phase-boundary\" x1=\"" << px(x) << "\" y1=\"" << px(label_y) << "\" x2=\"" << px(x)
        << "\" y2=\"" << px(kHeight - kBottom) << "\"/><text class=\"phase-label\" x=\""
        << px(near_right_edge ? x - 3 : x + 3) << "\" y=\"" << px(label_y) << "\" text-anchor=\""
        << (near_right_edge ? "end" : "start") << "\">" << escape_html(phase.label) << "</text>\n";
  }
}

void draw_thresholds(std::ostream& out, const ReportChart& chart, const Scale& scale) {
  for (const auto& threshold : chart.thresholds) {
    if (!std::isfinite(threshold.value)) continue;
    const double y = scale.y(threshold.value);
    std::string phases;
    for (const auto& phase : threshold.phases) phases += (phases.empty() ? "" : ", ") + phase;
    const std::string label = (threshold.kind == "abort" ? "abort if " : "") + threshold.comparator + " " +
                              format_number(threshold.value) + " [" + phases + "] " + threshold.name;
    out << "<line class=\"threshold " << (threshold.kind == "abort" ? "abort" : "steady-state") << "\" x1=\""
        << px(kLeft) << "\" y1=\"" << px(y) << "\" x2=\"" << px(kWidth - kRight) << "\" y2=\"" << px(y)
        << "\"><title>" << escape_html(label) << "</title></line><text class=\"threshold-label\" x=\""
        << px(kWidth - kRight - 4) << "\" y=\"" << px(y - 4) << "\" text-anchor=\"end\">" << escape_html(label)
        << "</text>\n";
  }
}

// NaN and infinite points break the line: a gap, not a fake zero.
void draw_series(std::ostream& out, const ReportSeries& series, const Scale& scale, size_t index) {
  std::vector<std::string> segments(1);
  for (const auto& point : series.points) {
    if (!std::isfinite(point.value)) {
      if (!segments.back().empty()) segments.emplace_back();
      continue;
    }
    segments.back() += px(scale.x(point.time)) + "," + px(scale.y(point.value)) + " ";
  }
  for (const auto& segment : segments) {
    if (segment.empty()) continue;
    out << "<polyline class=\"series series-" << index % 6 << "\" data-label=\"" << escape_html(series.label)
        << "\" points=\"" << segment << "\"><title>" << escape_html(series.label.empty() ? "value" : series.label)
        << "</title></polyline>\n";
  }
}

// Red means something went wrong: a check that failed, an abort condition
// that fired. An abort condition is false in the good case, so its "pass"
// (the condition held, i.e. fired) is the red one and its quiet dots are grey.
const char* evaluation_class(const ReportEvaluation& evaluation) {
  if (!evaluation.point_class.empty()) return evaluation.point_class.c_str();
  if (evaluation.kind == "abort") return evaluation.pass ? "triggered" : "not-triggered";
  return evaluation.pass ? "pass" : "fail";
}

const char* evaluation_word(const ReportEvaluation& evaluation) {
  if (!evaluation.point_class.empty()) return "";
  if (evaluation.kind == "abort") return evaluation.pass ? "TRIGGERED" : "not triggered";
  return evaluation.pass ? "ok" : "failed";
}

void draw_evaluations(std::ostream& out, const ReportChart& chart, const Scale& scale) {
  for (const auto& evaluation : chart.evaluations) {
    if (!std::isfinite(evaluation.value) || !std::isfinite(evaluation.time)) continue;
    out << "<circle class=\"evaluation " << evaluation_class(evaluation) << "\" cx=\""
        << px(scale.x(evaluation.time)) << "\" cy=\"" << px(scale.y(evaluation.value)) << "\" r=\"3\"><title>"
        << escape_html(evaluation.name) << " [" << escape_html(evaluation.phase) << "] at "
        << format_clock(evaluation.time) << ": " << escape_html(evaluation.text) << " " << evaluation_word(evaluation)
        << "</title></circle>\n";
  }
}

bool has_finite_point(const ReportChart& chart) {
  for (const auto& series : chart.series) {
    for (const auto& point : series.points) {
      if (std::isfinite(point.value)) return true;
    }
  }
  return false;
}

}  // namespace

std::string render_slo_chart(const ReportChart& chart, const ChartFrame& frame) {
  const Scale scale(frame, value_range(chart));
  std::ostringstream out;
  out << "<svg class=\"slo-chart\" viewBox=\"0 0 " << kWidth << " " << kHeight
      << "\" width=\"" << kWidth << "\" height=\"" << kHeight << "\" role=\"img\" aria-label=\""
      << escape_html(chart.query) << "\">\n";
  draw_axes(out, frame, scale);
  draw_fault_windows(out, frame, scale);
  draw_phases(out, frame, scale);
  draw_thresholds(out, chart, scale);
  for (size_t i = 0; i < chart.series.size(); ++i) draw_series(out, chart.series[i], scale, i);
  draw_evaluations(out, chart, scale);
  if (!has_finite_point(chart)) {
    out << "<text class=\"no-data\" x=\"" << px(kWidth / 2) << "\" y=\"" << px(kHeight / 2)
        << "\" text-anchor=\"middle\">no numeric data in this run</text>\n";
  }
  out << "</svg>\n";
  return out.str();
}

}  // namespace chaos::orchestrator::report
