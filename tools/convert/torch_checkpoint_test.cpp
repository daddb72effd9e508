// Torch checkpoint reader: hand-built archives (strided / offset / broadcast views, f16 and bf16
// storages), the real tiny fixture, and corrupt variants of its bytes.
#include <catch2/catch.hpp>

#include <cmath>

#include "common/fixtures.h"
#include "tools/convert/convert_testing.h"
#include "tools/convert/torch_checkpoint.h"
#include "tools/convert/torch_pickle.h"
#include "tools/convert/zip_reader.h"

using namespace sealsum;
using namespace sealsum::convert;
using namespace sealsum::convert::testing;

namespace {

Bytes t5_bin() { return fixture_bytes("models/tiny-random-t5/pytorch_model.bin"); }

// A one-storage checkpoint holding `storage` (raw bytes) under key "0".
Bytes checkpoint(const std::vector<PickleTensor>& ts, const Bytes& storage) {
  return make_zip({{"archive/data.pkl", make_state_dict_pickle(ts)}, {"archive/data/0", storage}, {"archive/version", {'3', '\n'}}});
}

std::string error_of(const Bytes& b, const std::string& what = "ckpt.bin") {
  auto r = parse_torch_checkpoint(b, what);
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

}  // namespace

TEST_CASE("torch checkpoint reader gathers strided, offset and half-precision views") {
  // Storage 0..11 as f32; views: contiguous [3,4]; transposed [4,3] (stride 1,4); offset row slice.
  std::vector<float> vals(12);
  for (int i = 0; i < 12; ++i) vals[size_t(i)] = float(i) - 2.5f;
  const Bytes storage = f32_bytes(vals);
  auto sd = parse_torch_checkpoint(checkpoint({{"a", "FloatStorage", "0", 12, 0, {3, 4}, {4, 1}},
                                               {"t", "FloatStorage", "0", 12, 0, {4, 3}, {1, 4}},
                                               {"row", "FloatStorage", "0", 12, 4, {4}, {1}},
                                               {"col", "FloatStorage", "0", 12, 2, {3, 1}, {4, 1}},
                                               {"bcast", "FloatStorage", "0", 12, 5, {2, 2}, {0, 1}},
                                               {"scalar", "FloatStorage", "0", 12, 11, {}, {}},
                                               {"empty", "FloatStorage", "0", 12, 0, {0, 4}, {4, 1}}},
                                              storage),
                                   "mine.bin");
  REQUIRE(sd.ok());
  REQUIRE(sd->size() == 7);
  CHECK(as_f32((*sd)[0].f32) == vals);
  const std::vector<float> t = as_f32((*sd)[1].f32);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 3; ++c) CHECK(t[size_t(r * 3 + c)] == vals[size_t(c * 4 + r)]);
  }
  CHECK(as_f32((*sd)[2].f32) == std::vector<float>{vals[4], vals[5], vals[6], vals[7]});
  CHECK(as_f32((*sd)[3].f32) == std::vector<float>{vals[2], vals[6], vals[10]});
  CHECK(as_f32((*sd)[4].f32) == std::vector<float>{vals[5], vals[6], vals[5], vals[6]});
  CHECK(as_f32((*sd)[5].f32) == std::vector<float>{vals[11]});
  CHECK((*sd)[6].f32.empty());

  // f16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), inf; bf16: 1.0, -3.5.
  const Bytes h = {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x7c};
  auto hf = parse_torch_checkpoint(checkpoint({{"h", "HalfStorage", "0", 5, 0, {5}, {1}}}, h), "h.bin");
  REQUIRE(hf.ok());
  const std::vector<float> hv = as_f32((*hf)[0].f32);
  CHECK(hv[0] == 1.0f);
  CHECK(hv[1] == -2.0f);
  CHECK(hv[2] == 65504.0f);
  CHECK(hv[3] == std::ldexp(1.0f, -24));
  CHECK(std::isinf(hv[4]));
  auto bf = parse_torch_checkpoint(checkpoint({{"b", "BFloat16Storage", "0", 2, 0, {1, 2}, {2, 1}}}, {0x80, 0x3f, 0x60, 0xc0}),
                                   "b.bin");
  REQUIRE(bf.ok());
  CHECK(as_f32((*bf)[0].f32) == std::vector<float>{1.0f, -3.5f});
}

TEST_CASE("torch checkpoint reader rejects bad views, storages and formats") {
  const Bytes storage = f32_bytes(std::vector<float>(12, 1.0f));
  CHECK_THAT(error_of(checkpoint({{"a", "FloatStorage", "0", 12, 1, {3, 4}, {4, 1}}}, storage)),
             Catch::Contains("tensor 'a' reads element 12 of a storage of 12"));
  CHECK_THAT(error_of(checkpoint({{"a", "FloatStorage", "0", 12, 0, {3, 4}, {5, 1}}}, storage)),
             Catch::Contains("reads element"));
  CHECK_THAT(error_of(checkpoint({{"a", "FloatStorage", "0", 13, 0, {3, 4}, {4, 1}}}, storage)),
             Catch::Contains("storage '0' holds 48 bytes"));
  CHECK_THAT(error_of(checkpoint({{"a", "FloatStorage", "1", 12, 0, {12}, {1}}}, storage)),
             Catch::Contains("storage '1' of tensor 'a' is missing"));
  CHECK_THAT(error_of(checkpoint({{"a", "FloatStorage", "0", 12, 0, {int64_t(1) << 40, int64_t(1) << 40}, {0, 0}}}, storage)),
             Catch::Contains("too large"));
  CHECK_THAT(error_of(checkpoint({{"a", "FloatStorage", "../x", 12, 0, {12}, {1}}}, storage)),
             Catch::Contains("storage key"));
  CHECK_THAT(error_of(checkpoint({{"a", "FloatStorage", "0", 12, 0, {12}, {1}}, {"b", "HalfStorage", "0", 24, 0, {12}, {1}}},
                                 storage)),
             Catch::Contains("two dtypes"));
  CHECK_THAT(error_of(checkpoint({{"a", "DoubleStorage", "0", 6, 0, {6}, {1}}}, storage)),
             Catch::Contains("forbidden global torch.DoubleStorage"));
  // Legacy formats and non-zips name the file.
  const Bytes legacy = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
  auto r = parse_torch_checkpoint(legacy, "old.bin");
  CHECK(r.status().code() == Code::kUnimplemented);
  CHECK_THAT(r.status().message(), Catch::Contains("old.bin") && Catch::Contains("legacy"));
  CHECK_THAT(error_of(Bytes(64, 'x'), "junk.bin"), Catch::Contains("junk.bin"));
  CHECK_THAT(error_of(make_zip({{"x/version", {'3'}}})), Catch::Contains("data.pkl"));
  CHECK_THAT(error_of(make_zip({{"x/data.pkl", make_state_dict_pickle({})}, {"x/byteorder", {'b', 'i', 'g'}}})),
             Catch::Contains("big-endian"));
}

TEST_CASE("torch checkpoint reader on the real fixture and corrupt variants of it") {
  const Bytes bin = t5_bin();
  size_t calls = 0;
  auto sd = parse_torch_checkpoint(bin, "t5.bin", [&](size_t done, size_t total) {
    CHECK(done == ++calls);
    CHECK(total == 113);
  });
  REQUIRE(sd.ok());
  REQUIRE(sd->size() == 113);
  // Values read independently (Python zipfile + struct) from the fixture's storages.
  const std::vector<float> shared = as_f32((*sd)[0].f32);
  REQUIRE(shared.size() == 41664);
  CHECK(shared[0] == float(2.3760099665537382e-08));
  CHECK(shared[1] == float(0.0012606206582859159));
  CHECK(shared.back() == float(-0.00016470334958285093));
  CHECK((*sd)[1].f32 == (*sd)[0].f32);  // encoder.embed_tokens shares storage 0

  auto za = ZipArchive::open(bin, "t5.bin");
  REQUIRE(za.ok());
  // A forbidden opcode patched into data.pkl of an otherwise valid archive (CRC recomputed).
  const Bytes patched = rezip(*za, [](const std::string& name, Bytes& b) {
    if (name.ends_with("data.pkl")) b[3] = 'i';
  });
  auto r = parse_torch_checkpoint(patched, "t5.bin");
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK_THAT(r.status().message(), Catch::Contains("t5.bin") && Catch::Contains("forbidden pickle opcode 0x69 at offset 3"));
  // A storage entry one float short.
  const Bytes short_storage = rezip(*za, [](const std::string& name, Bytes& b) {
    if (name.ends_with("data/7")) b.resize(b.size() - 4);
  });
  CHECK_THAT(error_of(short_storage, "t5.bin"), Catch::Contains("storage '7'"));
  // Truncated file and flipped storage byte.
  CHECK(parse_torch_checkpoint(std::span<const uint8_t>(bin).first(bin.size() - 100), "t5.bin").status().code() ==
        Code::kDataLoss);
  Bytes flipped = bin;
  flipped[za->find("pytorch_model/data/0")->data_offset] ^= 1;
  CHECK_THAT(error_of(flipped, "t5.bin"), Catch::Contains("CRC-32"));
}
