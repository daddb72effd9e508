// Checked accessors for JSON from outside (HTTP bodies and answers, policies, key files' companions,
// Azure and broker answers): a member of the wrong type, or a container that is not an object, is a
// Status, never a nlohmann::json::type_error. Use these instead of `j["x"].get<T>()`,
// `j.value("x", d)`, `j.at("x")` or `get_ref<>` on anything parsed from outside bytes.
//
// Every accessor takes `what` (the document's name, e.g. "key broker answer") and returns, with
// code `code` (kInvalidArgument unless the caller says kDataLoss for answers it received):
//   "<what> lacks \"name\""                       (required member absent, or `obj` not an object)
//   "<what> \"name\" must be a string"            (and the like for each type)
//   "<what> \"name\" is longer than N bytes" / "is out of range [min, max]"
// Messages name members, never their values.
// Thread safety: reentrant; results do not alias `obj` except the pointers of find()/object_member().
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sealsum::json_access {

using nlohmann::json;

inline constexpr size_t kDefaultMaxString = size_t{1} << 20;

struct Where {
  std::string_view what;           // the document, for messages
  Code code = Code::kInvalidArgument;
};

// The member `name` of `obj`, or nullptr when `obj` is not an object or has no such member.
const json* find(const json& obj, std::string_view name);

// Required members (absent or wrong type: an error).
Result<std::string> string_member(const json& obj, std::string_view name, Where where,
                                  size_t max_len = kDefaultMaxString);
Result<bool> bool_member(const json& obj, std::string_view name, Where where);
Result<int64_t> int_member(const json& obj, std::string_view name, Where where,
                           int64_t min = std::numeric_limits<int64_t>::min(),
                           int64_t max = std::numeric_limits<int64_t>::max());
Result<const json*> object_member(const json& obj, std::string_view name, Where where);
Result<const json*> array_member(const json& obj, std::string_view name, Where where);

// Optional members: nullopt when absent (or JSON null); present with the wrong type: an error.
Result<std::optional<std::string>> optional_string(const json& obj, std::string_view name, Where where,
                                                   size_t max_len = kDefaultMaxString);
Result<std::optional<bool>> optional_bool(const json& obj, std::string_view name, Where where);
Result<std::optional<int64_t>> optional_int(const json& obj, std::string_view name, Where where,
                                            int64_t min = std::numeric_limits<int64_t>::min(),
                                            int64_t max = std::numeric_limits<int64_t>::max());

// A string array element (for lists of hex digests, certificates, ...).
Result<std::string> string_element(const json& arr, size_t index, Where where, size_t max_len = kDefaultMaxString);

}  // namespace sealsum::json_access
