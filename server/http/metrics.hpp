// Prometheus text exposition format (version 0.0.4): HELP and TYPE before
// each family's samples, label values escaped. A value type; not
// thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpshare::server::http {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class MetricsWriter {
 public:
  // Starts the family `name` ("mpshare_" and a valid metric name, checked:
  // std::invalid_argument otherwise) of `type` ("counter", "gauge"). A
  // counter's name ends in "_total".
  void family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the current family.
  void sample(const Labels& labels, double value);
  void sample(const Labels& labels, std::uint64_t value);
  void sample(double value) { sample(Labels{}, value); }
  void sample(std::uint64_t value) { sample(Labels{}, value); }
  // A family of one unlabelled sample.
  template <class V>
  void single(std::string_view name, std::string_view type, std::string_view help, V value) {
    family(name, type, help);
    sample(value);
  }

  const std::string& text() const { return out_; }

 private:
  void start_sample(const Labels& labels);

  std::string out_;
  std::string name_;
};

// `s` as a label value between double quotes: backslash, double quote and
// line feed escaped.
std::string escape_label_value(std::string_view s);

}  // namespace mpshare::server::http
