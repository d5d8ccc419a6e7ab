#include "orchestrator/report/finding_section.h"

#include <cmath>

#include "orchestrator/report/html_text.h"

namespace chaos::orchestrator::report {

namespace {

bool finding_section_wanted(const Report& report) {
  if (report.verdict.result == "violated") return true;
  return report.verdict.result == "aborted" && report.verdict.first_violation.has_value();
}

std::string finding_when(const ReportFirstViolation& violation) {
  std::string when = format_timestamp(violation.at);
  if (violation.seconds_after_inject) {
    const double seconds = *violation.seconds_after_inject;
    when += " (" + std::string(seconds < 0 ? "-" : "+") + format_seconds(std::abs(seconds)) +
            " after the first inject)";
  } else if (violation.phase == "before") {
    when += " (before any inject: the method never ran)";
  }
  return when;
}

// The offending value against its threshold: "0.95 &gt;= 0.99 failed, off by
// -0.04 (0.96x the threshold)"; all text escaped.
std::string finding_how_much(const ReportFirstViolation& violation) {
  if (!violation.error.empty()) return "the query failed: " + escape_html(violation.error);
  if (violation.kind == "compare") {
    std::string text = escape_html(violation.value_text);
    const std::string margin = violation_margin(violation);
    return margin.empty() ? text : text + "; the difference is off the tolerance by " + escape_html(margin);
  }
  const std::string threshold = violation.threshold ? format_number(*violation.threshold) : "NaN";
  std::string text = "<code>" + escape_html(violation.value_text.empty() ? "no value" : violation.value_text) +
                     "</code> " + escape_html(violation.comparator) + " " + escape_html(threshold) + " failed";
  const std::string margin = violation_margin(violation);
  if (!margin.empty()) text += ", off by " + escape_html(margin);
  return text;
}

void write_finding_text(std::ostream& out, const char* term, const char* css, const std::string& text) {
  if (text.empty()) return;
  out << "<dt>" << term << "</dt><dd class=\"" << css << "\">" << escape_html(text) << "</dd>\n";
}

}  // namespace

std::string violation_margin(const ReportFirstViolation& violation) {
  if (!violation.value || !violation.threshold) return "";
  const double value = *violation.value, threshold = *violation.threshold;
  if (!std::isfinite(value) || !std::isfinite(threshold)) return "";
  const double difference = value - threshold;
  std::string text = (difference > 0 ? "+" : "") + format_number(difference);
  const bool ratio_meaningful = threshold != 0 && violation.comparator != "==" && violation.comparator != "!=";
  if (ratio_meaningful) text += " (" + format_number(value / threshold) + "x the threshold)";
  return text;
}

void write_finding(std::ostream& out, const Report& report) {
  if (!finding_section_wanted(report)) return;
  const auto& violation = report.verdict.first_violation;
  out << "<section id=\"finding\" class=\"finding\">\n<h2>Finding</h2>\n<dl>\n";
  if (violation) {
    out << "<dt>Broke first</dt><dd class=\"first-violation\"><strong>" << escape_html(violation->name)
        << "</strong> [" << escape_html(violation->phase) << "] <code class=\"query\">"
        << escape_html(violation->query) << "</code></dd>\n"
        << "<dt>When</dt><dd class=\"first-violation-when\">" << finding_when(*violation) << "</dd>\n"
        << "<dt>By how much</dt><dd class=\"first-violation-margin\">" << finding_how_much(*violation) << "</dd>\n";
  } else {
    out << "<dt>Broke first</dt><dd class=\"first-violation\">no failed check evaluation was recorded "
           "(see the verdict's reason)</dd>\n";
  }
  if (const auto& finding = report.experiment.finding) {
    write_finding_text(out, "Observed", "finding-observed", finding->observed);
    write_finding_text(out, "Mechanism", "finding-mechanism", finding->mechanism);
    write_finding_text(out, "Remedy", "finding-remedy", finding->remedy);
    if (!finding->remedied_by.empty()) {
      out << "<dt>Remedied by</dt><dd class=\"finding-remedied-by\"><code>" << escape_html(finding->remedied_by)
          << "</code> (the twin experiment that applies the remedy)</dd>\n";
    }
  }
  out << "</dl>\n</section>\n";
}

}  // namespace chaos::orchestrator::report
