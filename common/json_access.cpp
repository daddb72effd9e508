// Checked JSON accessors (contract: json_access.h). Only is_*() checks and get_ref / get on values
// of the checked type are used, so nothing here throws.
#include "common/json_access.h"

namespace sealsum::json_access {
namespace {

Status error(const Where& w, std::string_view name, const std::string& problem) {
  return Status(w.code, std::string(w.what) + " \"" + std::string(name) + "\" " + problem);
}

Status missing(const Where& w, std::string_view name) {
  return Status(w.code, std::string(w.what) + " lacks \"" + std::string(name) + "\"");
}

Status not_object(const Where& w) { return Status(w.code, std::string(w.what) + " must be a JSON object"); }

Result<std::string> as_string(const json& v, std::string_view name, const Where& w, size_t max_len) {
  if (!v.is_string()) return error(w, name, "must be a string");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() > max_len) return error(w, name, "is longer than " + std::to_string(max_len) + " bytes");
  return s;
}

Result<int64_t> as_int(const json& v, std::string_view name, const Where& w, int64_t min, int64_t max) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || static_cast<int64_t>(u) > max) {
      return error(w, name, "is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    if (static_cast<int64_t>(u) < min) {
      return error(w, name, "is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    return static_cast<int64_t>(u);
  }
  if (!v.is_number_integer()) return error(w, name, "must be an integer");
  const int64_t x = v.get<int64_t>();
  if (x < min || x > max) {
    return error(w, name, "is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return x;
}

}  // namespace

const json* find(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

Result<std::string> string_member(const json& obj, std::string_view name, Where where, size_t max_len) {
  if (!obj.is_object()) return not_object(where);
  const json* v = find(obj, name);
  if (v == nullptr) return missing(where, name);
  return as_string(*v, name, where, max_len);
}

Result<bool> bool_member(const json& obj, std::string_view name, Where where) {
  if (!obj.is_object()) return not_object(where);
  const json* v = find(obj, name);
  if (v == nullptr) return missing(where, name);
  if (!v->is_boolean()) return error(where, name, "must be true or false");
  return v->get<bool>();
}

Result<int64_t> int_member(const json& obj, std::string_view name, Where where, int64_t min, int64_t max) {
  if (!obj.is_object()) return not_object(where);
  const json* v = find(obj, name);
  if (v == nullptr) return missing(where, name);
  return as_int(*v, name, where, min, max);
}

Result<const json*> object_member(const json& obj, std::string_view name, Where where) {
  if (!obj.is_object()) return not_object(where);
  const json* v = find(obj, name);
  if (v == nullptr) return missing(where, name);
  if (!v->is_object()) return error(where, name, "must be a JSON object");
  return v;
}

Result<const json*> array_member(const json& obj, std::string_view name, Where where) {
  if (!obj.is_object()) return not_object(where);
  const json* v = find(obj, name);
  if (v == nullptr) return missing(where, name);
  if (!v->is_array()) return error(where, name, "must be an array");
  return v;
}

Result<std::optional<std::string>> optional_string(const json& obj, std::string_view name, Where where,
                                                   size_t max_len) {
  if (!obj.is_object()) return not_object(where);
  const json* v = find(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  SEALSUM_ASSIGN_OR_RETURN(std::string s, as_string(*v, name, where, max_len));
  return std::optional<std::string>(std::move(s));
}

Result<std::optional<bool>> optional_bool(const json& obj, std::string_view name, Where where) {
  if (!obj.is_object()) return not_object(where);
  const json* v = find(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_boolean()) return error(where, name, "must be true or false");
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<int64_t>> optional_int(const json& obj, std::string_view name, Where where, int64_t min,
                                            int64_t max) {
  if (!obj.is_object()) return not_object(where);
  const json* v = find(obj, name);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  SEALSUM_ASSIGN_OR_RETURN(int64_t x, as_int(*v, name, where, min, max));
  return std::optional<int64_t>(x);
}

Result<std::string> string_element(const json& arr, size_t index, Where where, size_t max_len) {
  const std::string name = "[" + std::to_string(index) + "]";
  if (!arr.is_array()) return Status(where.code, std::string(where.what) + " must be an array");
  if (index >= arr.size()) return missing(where, name);
  return as_string(arr[index], name, where, max_len);
}

}  // namespace sealsum::json_access
