// Checked JSON accessors: every wrong type, a non-object container, absent and null members, range
// and length limits give a Status with the caller's code that names the member but not its value;
// nothing throws.
#include <catch2/catch.hpp>

#include <string>

#include "common/json_access.h"

using namespace sealsum;
using namespace sealsum::json_access;

namespace {

const json kDoc = json::parse(R"({
  "s": "text", "b": true, "i": -5, "u": 18446744073709551615, "f": 1.5, "n": null,
  "o": {"k": 1}, "a": ["x", 2], "long": "secret-value-0123456789"
})");

template <typename R>
Code code_of(const R& r) {
  return r.ok() ? Code::kOk : r.status().code();
}

}  // namespace

TEST_CASE("json_access reads members of the right type", "[json_access]") {
  const Where w{"doc"};
  CHECK(*string_member(kDoc, "s", w) == "text");
  CHECK(*bool_member(kDoc, "b", w) == true);
  CHECK(*int_member(kDoc, "i", w) == -5);
  CHECK((*object_member(kDoc, "o", w))->at("k") == 1);
  CHECK((*array_member(kDoc, "a", w))->size() == 2);
  CHECK(*string_element(kDoc["a"], 0, w) == "x");
  CHECK(find(kDoc, "s") != nullptr);
  CHECK(find(kDoc, "zz") == nullptr);
  CHECK(find(json::array(), "s") == nullptr);
  CHECK(**optional_string(kDoc, "s", w) == "text");
  CHECK_FALSE(optional_string(kDoc, "zz", w)->has_value());
  CHECK_FALSE(optional_string(kDoc, "n", w)->has_value());
  CHECK_FALSE(optional_bool(kDoc, "zz", w)->has_value());
  CHECK(**optional_int(kDoc, "i", w) == -5);
}

TEST_CASE("json_access refuses every wrong type without throwing", "[json_access]") {
  const Where w{"broker answer", Code::kDataLoss};
  for (const char* name : {"b", "i", "u", "f", "n", "o", "a"}) {
    INFO(name);
    auto r = string_member(kDoc, name, w);
    REQUIRE(code_of(r) == Code::kDataLoss);
    CHECK(r.status().message() == std::string("broker answer \"") + name + "\" must be a string");
    CHECK(code_of(optional_string(kDoc, name, w)) == (std::string(name) == "n" ? Code::kOk : Code::kDataLoss));
  }
  for (const char* name : {"s", "i", "f", "n", "o", "a"}) {
    INFO(name);
    CHECK(code_of(bool_member(kDoc, name, w)) == Code::kDataLoss);
  }
  for (const char* name : {"s", "b", "f", "n", "o", "a"}) {
    INFO(name);
    CHECK(code_of(int_member(kDoc, name, w)) == Code::kDataLoss);
  }
  for (const char* name : {"s", "b", "i", "a", "n"}) CHECK(code_of(object_member(kDoc, name, w)) == Code::kDataLoss);
  for (const char* name : {"s", "b", "i", "o", "n"}) CHECK(code_of(array_member(kDoc, name, w)) == Code::kDataLoss);
  CHECK(code_of(string_element(kDoc["a"], 1, w)) == Code::kDataLoss);
  CHECK(code_of(string_element(kDoc["a"], 2, w)) == Code::kDataLoss);
  CHECK(code_of(string_element(kDoc["o"], 0, w)) == Code::kDataLoss);
}

TEST_CASE("json_access: absent members, non-object containers, limits", "[json_access]") {
  const Where w{"policy"};
  auto absent = string_member(kDoc, "zz", w);
  REQUIRE(code_of(absent) == Code::kInvalidArgument);
  CHECK(absent.status().message() == "policy lacks \"zz\"");
  for (const json& not_obj : {json::array(), json("s"), json(3), json(nullptr), json(true)}) {
    CHECK(code_of(string_member(not_obj, "s", w)) == Code::kInvalidArgument);
    CHECK(code_of(optional_string(not_obj, "s", w)) == Code::kInvalidArgument);
    CHECK(code_of(int_member(not_obj, "s", w)) == Code::kInvalidArgument);
    CHECK(code_of(bool_member(not_obj, "s", w)) == Code::kInvalidArgument);
  }
  auto too_long = string_member(kDoc, "long", w, 8);
  REQUIRE(code_of(too_long) == Code::kInvalidArgument);
  CHECK(too_long.status().message().find("secret-value") == std::string::npos);
  CHECK(code_of(int_member(kDoc, "i", w, 0, 10)) == Code::kInvalidArgument);
  CHECK(code_of(int_member(kDoc, "u", w)) == Code::kInvalidArgument);  // over int64
  CHECK(code_of(optional_int(kDoc, "i", w, -5, -5)) == Code::kOk);
  CHECK(code_of(optional_int(kDoc, "i", w, -4, 0)) == Code::kInvalidArgument);
}
