// Restricted unpickler: the real state-dict pickle, and every refusal (forbidden globals and
// opcodes patched into the real bytes, truncation, malformed stacks).
#include <catch2/catch.hpp>

#include <cstdio>

#include "common/fixtures.h"
#include "tools/convert/convert_testing.h"
#include "tools/convert/torch_pickle.h"
#include "tools/convert/zip_reader.h"

using namespace sealsum;
using namespace sealsum::convert;
using namespace sealsum::convert::testing;

namespace {

Bytes t5_bin() { return fixture_bytes("models/tiny-random-t5/pytorch_model.bin"); }

Bytes data_pkl(const Bytes& zip) {
  auto za = ZipArchive::open(zip, "t5");
  REQUIRE(za.ok());
  const ZipEntry* e = za->find("pytorch_model/data.pkl");
  REQUIRE(e != nullptr);
  auto d = za->data(*e);
  return Bytes(d.begin(), d.end());
}

}  // namespace

TEST_CASE("restricted unpickler reads the real state dict") {
  auto refs = parse_torch_pickle(data_pkl(t5_bin()));
  REQUIRE(refs.ok());
  REQUIRE(refs->size() == 113);
  const TorchTensorRef& s = refs->front();
  CHECK(s.name == "shared.weight");
  CHECK(s.storage_key == "0");
  CHECK(s.dtype == TorchDType::kF32);
  CHECK(s.storage_numel == 41664);
  CHECK(s.storage_offset == 0);
  CHECK(s.shape == std::vector<int64_t>{1302, 32});
  CHECK(s.stride == std::vector<int64_t>{32, 1});
  CHECK(refs->back().name == "lm_head.weight");
  CHECK(refs->back().storage_key == "0");
}

TEST_CASE("restricted unpickler refuses everything else") {
  auto err = [](const Bytes& p) {
    auto r = parse_torch_pickle(p);
    REQUIRE_FALSE(r.ok());
    return r.status();
  };
  // The classic payload: GLOBAL os system, then REDUCE.
  Bytes evil = {0x80, 0x02};
  put_str(evil, "cos\nsystem\n");
  Status st = err(evil);
  CHECK(st.code() == Code::kPermissionDenied);
  CHECK_THAT(st.message(), Catch::Contains("forbidden global os.system"));
  CHECK_THAT(err({0x80, 0x02, 'c', 'b', 'u', 'i', 'l', 't', 'i', 'n', 's', '\n', 'e', 'v', 'a', 'l', '\n'}).message(),
             Catch::Contains("forbidden global builtins.eval"));
  // Opcodes outside the allow-list, patched into the real pickle at offset 3 (a BINPUT).
  const Bytes real = data_pkl(t5_bin());
  REQUIRE(real[3] == 'q');
  for (uint8_t op : {uint8_t(0x94) /* MEMOIZE */, uint8_t('i') /* INST */, uint8_t('o') /* OBJ */,
                     uint8_t(0x81) /* NEWOBJ */, uint8_t('a') /* APPEND */, uint8_t(0x95) /* FRAME */}) {
    Bytes p = real;
    p[3] = op;
    char want[64];
    std::snprintf(want, sizeof want, "forbidden pickle opcode 0x%02x at offset 3", op);
    st = err(p);
    CHECK(st.code() == Code::kPermissionDenied);
    CHECK_THAT(st.message(), Catch::Contains(want));
  }
  // Storage type called directly, other protocols, truncation, junk.
  Bytes call = {0x80, 0x02};
  put_str(call, "ctorch\nFloatStorage\n)R.");
  CHECK(err(call).code() == Code::kPermissionDenied);
  CHECK_THAT(err({0x80, 0x04, '}', '.'}).message(), Catch::Contains("protocol 4"));
  CHECK_THAT(err(Bytes(real.begin(), real.begin() + long(real.size() / 2))).message(), Catch::Contains("truncated"));
  CHECK_THAT(err({0x80, 0x02, ']', '.'}).message(), Catch::Contains("not a state dict"));
  CHECK_THAT(err({0x80, 0x02, 'h', 7}).message(), Catch::Contains("memo key 7"));
  CHECK_THAT(err({0x80, 0x02, 't'}).message(), Catch::Contains("MARK"));
  CHECK_THAT(err({0x80, 0x02, 'R'}).message(), Catch::Contains("underflow"));
  CHECK_THAT(err({0x80, 0x02, '}', 'K', 1, 'K', 2, 's', '.'}).message(), Catch::Contains("non-string key"));
  // A list containing itself is harmless (arena), and then rejected as not a state dict.
  CHECK(err({0x80, 0x02, ']', 'q', 0, '(', 'h', 0, 'e', '.'}).code() == Code::kDataLoss);
  CHECK_THAT(err({0x80, 0x02, '}', 'X', 1, 0, 0, 0, 'a', 'K', 1, 's', '.'}).message(), Catch::Contains("not a tensor"));
}
