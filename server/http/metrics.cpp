#include "metrics.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace mpshare::server::http {

namespace {

bool valid_name(std::string_view n, bool label) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const auto c = static_cast<unsigned char>(n[i]);
    const bool ok =
        std::isalpha(c) || c == '_' || (!label && c == ':') || (i > 0 && std::isdigit(c));
    if (!ok || c > 0x7f) return false;
  }
  return true;
}

// Backslash and line feed escaped, and double quotes too when `quote`
// (label values; HELP text keeps them).
std::string escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string escape_label_value(std::string_view s) {
  return escape(s, true);
}

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  if (!valid_name(name, false) || name.substr(0, 8) != "mpshare_")
    throw std::invalid_argument("bad metric name '" + std::string(name) + "'");
  if (type != "counter" && type != "gauge")
    throw std::invalid_argument("unknown metric type '" + std::string(type) + "'");
  if (type == "counter" && (name.size() < 6 || name.substr(name.size() - 6) != "_total"))
    throw std::invalid_argument("counter '" + std::string(name) + "' must end in _total");
  name_ = name;
  out_.append("# HELP ").append(name).append(" ").append(escape(help, false)).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void MetricsWriter::start_sample(const Labels& labels) {
  if (name_.empty()) throw std::logic_error("metric sample before its family");
  out_ += name_;
  if (labels.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!valid_name(k, true) || k.substr(0, 2) == "__")
      throw std::invalid_argument("bad label name '" + std::string(k) + "'");
    if (!first) out_ += ',';
    first = false;
    out_.append(k).append("=\"").append(escape_label_value(v)).append("\"");
  }
  out_ += '}';
}

void MetricsWriter::sample(const Labels& labels, double value) {
  start_sample(labels);
  out_ += ' ';
  if (std::isnan(value)) {
    out_ += "NaN";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);  // shortest exact form
    out_.append(buf, r.ptr);
  }
  out_ += '\n';
}

void MetricsWriter::sample(const Labels& labels, std::uint64_t value) {
  start_sample(labels);
  out_.append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace mpshare::server::http
