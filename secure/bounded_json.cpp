// Bounded JSON reading (see bounded_json.h).
#include "secure/bounded_json.h"

#include <string>

namespace sealsum::secure {
namespace {

using nlohmann::json;

// SAX pass that only counts. Returning false stops the parser at once.
class LimitCounter : public nlohmann::json_sax<json> {
 public:
  explicit LimitCounter(const JsonLimits& l) : limits_(l) {}
  enum class Hit { kNone, kDepth, kElements, kString, kSyntax };
  Hit hit = Hit::kNone;

  bool null() override { return element(); }
  bool boolean(bool) override { return element(); }
  bool number_integer(number_integer_t) override { return element(); }
  bool number_unsigned(number_unsigned_t) override { return element(); }
  bool number_float(number_float_t, const string_t&) override { return element(); }
  bool string(string_t& s) override { return element() && length(s.size()); }
  bool binary(binary_t&) override { return element(); }
  bool key(string_t& k) override { return element() && length(k.size()); }
  bool start_object(std::size_t) override { return element() && open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return element() && open(); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    if (hit == Hit::kNone) hit = Hit::kSyntax;
    return false;
  }

 private:
  bool element() {
    if (++elements_ <= limits_.max_elements) return true;
    hit = Hit::kElements;
    return false;
  }
  bool length(size_t n) {
    if (n <= limits_.max_string_bytes) return true;
    hit = Hit::kString;
    return false;
  }
  bool open() {
    if (++depth_ <= limits_.max_depth) return true;
    hit = Hit::kDepth;
    return false;
  }
  bool close() {
    --depth_;
    return true;
  }

  const JsonLimits& limits_;
  size_t elements_ = 0;
  size_t depth_ = 0;
};

}  // namespace

Result<json> parse_bounded_json(std::string_view text, const JsonLimits& limits, const char* what) {
  const std::string w = what;
  if (text.size() > limits.max_bytes) {
    return resource_exhausted(w + " is " + std::to_string(text.size()) + " bytes; the limit is " +
                              std::to_string(limits.max_bytes));
  }
  LimitCounter counter(limits);
  const bool ok = json::sax_parse(text, &counter, json::input_format_t::json, /*strict=*/true);
  switch (counter.hit) {
    case LimitCounter::Hit::kDepth:
      return resource_exhausted(w + " nests deeper than " + std::to_string(limits.max_depth) + " levels");
    case LimitCounter::Hit::kElements:
      return resource_exhausted(w + " has more than " + std::to_string(limits.max_elements) + " JSON elements");
    case LimitCounter::Hit::kString:
      return resource_exhausted(w + " has a string longer than " + std::to_string(limits.max_string_bytes) + " bytes");
    case LimitCounter::Hit::kSyntax: return invalid_argument(w + " is not valid JSON");
    case LimitCounter::Hit::kNone: break;
  }
  if (!ok) return invalid_argument(w + " is not valid JSON");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument(w + " is not valid JSON");
  return j;
}

}  // namespace sealsum::secure
