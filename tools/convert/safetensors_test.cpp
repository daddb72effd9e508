// safetensors reader: dtypes, corrupt headers and offsets, sharded indexes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tools/convert/convert_testing.h"
#include "tools/convert/safetensors.h"

using namespace sealsum;
using namespace sealsum::convert;
using namespace sealsum::convert::testing;

namespace {

std::string error_of(const Bytes& b) {
  auto r = parse_safetensors(b, "w.safetensors");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("w.safetensors"));
  return r.status().message();
}

void write_file(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

}  // namespace

TEST_CASE("safetensors reader converts F32, F16 and BF16") {
  const Bytes f = make_safetensors({{"a.weight", "F32", {2, 2}, f32_bytes({1, 2, 3, -4})},
                                    {"b", "F16", {2}, {0x00, 0x3c, 0x00, 0xb8}},
                                    {"c", "BF16", {1}, {0x80, 0x3f}},
                                    {"d", "F32", {0}, {}}});
  auto sd = parse_safetensors(f, "w.safetensors");
  REQUIRE(sd.ok());
  REQUIRE(sd->size() == 4);
  std::map<std::string, const SourceTensor*> by;
  for (const auto& t : *sd) by[t.name] = &t;
  CHECK(by.at("a.weight")->shape == std::vector<int64_t>{2, 2});
  CHECK(as_f32(by.at("a.weight")->f32) == std::vector<float>{1, 2, 3, -4});
  CHECK(as_f32(by.at("b")->f32) == std::vector<float>{1.0f, -0.5f});
  CHECK(as_f32(by.at("c")->f32) == std::vector<float>{1.0f});
  CHECK(by.at("d")->f32.empty());
}

TEST_CASE("safetensors reader rejects corrupt files") {
  const Bytes good = make_safetensors({{"a", "F32", {2}, f32_bytes({1, 2})}, {"b", "F32", {1}, f32_bytes({3})}});
  CHECK_THAT(error_of(Bytes(good.begin(), good.begin() + 5)), Catch::Contains("too short"));
  CHECK_THAT(error_of(Bytes(good.begin(), good.end() - 1)), Catch::Contains("outside the data"));
  Bytes b = good;
  b[7] = 0x10;  // header length enormous
  CHECK_THAT(error_of(b), Catch::Contains("header length"));
  b = good;
  b[8] = '[';
  CHECK_THAT(error_of(b), Catch::Contains("not a JSON object"));
  CHECK_THAT(error_of(make_safetensors({{"a", "F32", {3}, f32_bytes({1, 2})}})), Catch::Contains("8 bytes for shape x F32 = 12"));
  auto r = parse_safetensors(make_safetensors({{"pos", "I64", {1}, Bytes(8)}}), "w.safetensors");
  CHECK(r.status().code() == Code::kUnimplemented);
  CHECK_THAT(r.status().message(), Catch::Contains("I64"));
  CHECK_THAT(error_of(make_safetensors({}, {{"x", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {4, 0}}}}})),
             Catch::Contains("outside the data"));
  CHECK_THAT(error_of(make_safetensors({{"a", "F32", {2}, f32_bytes({1, 2})}},
                                       {{"b", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {4, 8}}}}})),
             Catch::Contains("overlap"));
  CHECK_THAT(error_of(make_safetensors({}, {{"x", {{"dtype", "F32"}, {"shape", {-1}}, {"data_offsets", {0, 0}}}}})),
             Catch::Contains("invalid dimension"));
  CHECK_THAT(error_of(make_safetensors({}, {{"x", 3}})), Catch::Contains("lacks dtype"));
}

TEST_CASE("sharded safetensors are read through the index") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sealsum-st-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file(dir / "m-1.safetensors", make_safetensors({{"a", "F32", {1}, f32_bytes({1})}}));
  write_file(dir / "m-2.safetensors", make_safetensors({{"b", "F32", {1}, f32_bytes({2})}, {"c", "F32", {1}, f32_bytes({3})}}));
  auto index = [&](const nlohmann::json& wm) {
    const std::string s = nlohmann::json{{"metadata", {{"total_size", 12}}}, {"weight_map", wm}}.dump();
    write_file(dir / "model.safetensors.index.json", Bytes(s.begin(), s.end()));
    return read_safetensors_index((dir / "model.safetensors.index.json").string());
  };
  auto sd = index({{"a", "m-1.safetensors"}, {"b", "m-2.safetensors"}, {"c", "m-2.safetensors"}});
  REQUIRE(sd.ok());
  CHECK(sd->size() == 3);
  CHECK_THAT(index({{"a", "m-2.safetensors"}, {"b", "m-1.safetensors"}, {"c", "m-2.safetensors"}}).status().message(),
             Catch::Contains("not where weight_map says"));
  CHECK_THAT(index({{"a", "m-1.safetensors"}, {"b", "m-2.safetensors"}, {"c", "m-2.safetensors"}, {"d", "m-1.safetensors"}})
                 .status().message(),
             Catch::Contains("'d' is not in shard"));
  CHECK_THAT(index({{"a", "../m-1.safetensors"}}).status().message(), Catch::Contains("plain file name"));
  CHECK(index({{"a", "absent.safetensors"}}).status().code() == Code::kNotFound);
  fs::remove_all(dir);
}
