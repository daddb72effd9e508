// Bounded JSON reading (bounded_json.h): limits hold before any DOM, and valid input round-trips.
#include "secure/bounded_json.h"

#include <catch2/catch.hpp>

#include "common/proc_status.h"
#include <fstream>
#include <string>

using namespace sealsum;
using namespace sealsum::secure;

TEST_CASE("parse_bounded_json accepts input within every limit", "[bounded_json]") {
  JsonLimits l;
  auto j = parse_bounded_json(R"({"a":[1,2,{"b":"xyz"}],"c":null,"d":true,"e":1.5})", l, "body");
  REQUIRE(j.ok());
  CHECK((*j)["a"][2]["b"] == "xyz");
  CHECK((*j)["e"] == 1.5);
}

TEST_CASE("parse_bounded_json refuses depth, element, string and size overruns", "[bounded_json]") {
  JsonLimits l;
  l.max_depth = 3;
  l.max_elements = 10;
  l.max_string_bytes = 4;
  l.max_bytes = 100;
  CHECK(parse_bounded_json("[[[1]]]", l, "body").ok());
  auto deep = parse_bounded_json("[[[[1]]]]", l, "body");
  CHECK(deep.status().code() == Code::kResourceExhausted);
  CHECK(deep.status().message().find("nests deeper than 3") != std::string::npos);
  CHECK(parse_bounded_json("[1,2,3,4,5,6,7,8,9]", l, "body").ok());  // 10 elements with the array
  auto many = parse_bounded_json("[1,2,3,4,5,6,7,8,9,10]", l, "body");
  CHECK(many.status().message().find("more than 10 JSON elements") != std::string::npos);
  CHECK(parse_bounded_json(R"({"abcd":"wxyz"})", l, "body").ok());
  auto str = parse_bounded_json(R"(["SECRET"])", l, "body");
  CHECK(str.status().code() == Code::kResourceExhausted);
  CHECK(str.status().message().find("SECRET") == std::string::npos);
  CHECK(parse_bounded_json(R"({"abcde":1})", l, "body").status().code() == Code::kResourceExhausted);
  CHECK(parse_bounded_json(std::string(101, ' '), l, "body").status().code() == Code::kResourceExhausted);
}

TEST_CASE("parse_bounded_json refuses malformed input", "[bounded_json]") {
  JsonLimits l;
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "nul", "[1] x", "\"\\ud800\"", "\xff", "1e400"}) {
    INFO(bad);
    auto r = parse_bounded_json(bad, l, "body");
    CHECK(r.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("parse_bounded_json: 1 MiB of '[' costs no DOM memory", "[bounded_json]") {
  JsonLimits l;
  const std::string body(1u << 20, '[');
  const long before = rss_kib();
  for (int i = 0; i < 20; ++i) {
    auto r = parse_bounded_json(body, l, "body");
    CHECK(r.status().code() == Code::kResourceExhausted);
  }
  CHECK(rss_kib() - before < 16 * 1024);
  // The same flood of tiny elements at depth 1.
  std::string flat = "[";
  for (int i = 0; i < 200000; ++i) flat += "0,";
  flat += "0]";
  l.max_bytes = flat.size();
  CHECK(parse_bounded_json(flat, l, "body").status().code() == Code::kResourceExhausted);
}
