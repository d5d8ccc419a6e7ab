#include "metrics/text_format.h"

#include <charconv>
#include <cmath>

namespace chaos::metrics {

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  // Shortest representation that reads back to the same double.
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)error;  // 64 bytes always hold a double
  return std::string(buffer, end);
}

std::string escape_label_value(const std::string& value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': escaped += "\\\\"; break;
      case '"': escaped += "\\\""; break;
      case '\n': escaped += "\\n"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string escape_help(const std::string& help) {
  std::string escaped;
  escaped.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\': escaped += "\\\\"; break;
      case '\n': escaped += "\\n"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

namespace {

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

// `{a="1",b="2"}`, with an optional extra label (the histogram's `le`).
std::string label_block(const std::vector<std::string>& names, const std::vector<std::string>& values,
                        const std::string& extra_name = {}, const std::string& extra_value = {}) {
  std::string block;
  for (std::size_t i = 0; i < names.size(); ++i) {
    block += block.empty() ? "{" : ",";
    block += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    block += block.empty() ? "{" : ",";
    block += extra_name + "=\"" + extra_value + "\"";
  }
  if (!block.empty()) block += "}";
  return block;
}

void write_histogram(std::string& out, const FamilyBase& family, const SeriesSnapshot& series) {
  const auto& histogram = *series.histogram;
  const auto& names = family.label_names();
  for (std::size_t i = 0; i < histogram.upper_bounds.size(); ++i) {
    out += family.name() + "_bucket" +
           label_block(names, series.label_values, "le", format_value(histogram.upper_bounds[i])) + " " +
           std::to_string(histogram.cumulative_counts[i]) + "\n";
  }
  out += family.name() + "_bucket" + label_block(names, series.label_values, "le", "+Inf") + " " +
         std::to_string(histogram.count) + "\n";
  out += family.name() + "_sum" + label_block(names, series.label_values) + " " +
         format_value(histogram.sum) + "\n";
  out += family.name() + "_count" + label_block(names, series.label_values) + " " +
         std::to_string(histogram.count) + "\n";
}

}  // namespace

std::string serialize_text(const Registry& registry) {
  std::string out;
  for (const FamilyBase* family : registry.families()) {
    out += "# HELP " + family->name() + " " + escape_help(family->help()) + "\n";
    out += "# TYPE " + family->name() + " " + type_name(family->type()) + "\n";
    for (const auto& series : family->collect()) {
      if (series.histogram) {
        write_histogram(out, *family, series);
      } else {
        out += family->name() + label_block(family->label_names(), series.label_values) + " " +
               format_value(series.value) + "\n";
      }
    }
  }
  return out;
}

}  // namespace chaos::metrics
