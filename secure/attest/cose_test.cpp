// CBOR decoder limits and COSE_Sign1 / UVM endorsement parsing and verification.
#include <catch2/catch.hpp>

#include "secure/attest/attest_testutil.h"
#include "secure/attest/cbor.h"
#include "secure/attest/cose.h"
#include "secure/digest.h"

namespace at = sealsum::secure::attest;
using namespace at::testutil;
using sealsum::Code;
using sealsum::secure::to_hex;
using V = at::CborValue;

TEST_CASE("CBOR decodes the basic types", "[attest][cbor]") {
  // {1: -38, "a": [h'0102', "xy", true, 1000000]}
  std::vector<uint8_t> in = {0xA2, 0x01, 0x38, 0x25, 0x61, 'a', 0x84, 0x42, 0x01, 0x02, 0x62, 'x', 'y', 0xF5,
                             0x1A, 0x00, 0x0F, 0x42, 0x40};
  auto v = at::cbor_decode(in);
  REQUIRE(v.ok());
  REQUIRE(v->type == V::Type::kMap);
  CHECK(v->find(1)->as_int() == -38);
  const V* a = v->find("a");
  REQUIRE(a);
  REQUIRE(a->items.size() == 4);
  CHECK(a->items[0].bytes == std::vector<uint8_t>{1, 2});
  CHECK(a->items[1].as_text() == "xy");
  CHECK(a->items[2].type == V::Type::kSimple);
  CHECK(a->items[2].num == 21);
  CHECK(a->items[3].as_int() == 1000000);
  CHECK(v->find(2) == nullptr);
  CHECK(v->find("b") == nullptr);
}

TEST_CASE("CBOR refuses malformed and hostile input", "[attest][cbor]") {
  auto code = [](std::vector<uint8_t> b) { return at::cbor_decode(b).status().code(); };
  CHECK(code({}) == Code::kDataLoss);                                // empty
  CHECK(code({0x19, 0x01}) == Code::kDataLoss);                      // truncated argument
  CHECK(code({0x5A, 0xFF, 0xFF, 0xFF, 0xFF, 0x00}) == Code::kDataLoss);  // 4 GiB byte string
  CHECK(code({0x9B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) == Code::kDataLoss);  // 2^64 items
  CHECK(code({0xBB, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) == Code::kDataLoss);  // map count overflow
  CHECK(code({0x5F, 0x41, 0x00, 0xFF}) == Code::kDataLoss);          // indefinite length
  CHECK(code({0x1C}) == Code::kDataLoss);                            // reserved additional info
  CHECK(code({0x01, 0x02}) == Code::kDataLoss);                      // trailing bytes
  std::vector<uint8_t> deep(100, 0x81);                              // [[[[...
  deep.push_back(0x00);
  CHECK(code(deep) == Code::kDataLoss);
  std::vector<uint8_t> many = {0x99, 0x27, 0x10};                    // array of 10000 zeros: item cap
  many.resize(many.size() + 10000, 0x00);
  CHECK(code(many) == Code::kDataLoss);
}

TEST_CASE("CBOR encoder heads use the shortest form", "[attest][cbor]") {
  std::vector<uint8_t> out;
  at::cbor_put_head(out, 2, 23);
  at::cbor_put_head(out, 2, 24);
  at::cbor_put_head(out, 3, 256);
  at::cbor_put_head(out, 4, 70000);
  CHECK(out == std::vector<uint8_t>{0x57, 0x58, 0x18, 0x79, 0x01, 0x00, 0x9A, 0x00, 0x01, 0x11, 0x70});
}

TEST_CASE("the ACI UVM endorsement parses and verifies (PS384, x5chain of 3)", "[attest][cose]") {
  auto e = at::parse_uvm_endorsement(bytes("attestation/azure-aci-milan/body.uvm_reference_info.bin"));
  REQUIRE(e.ok());
  CHECK(e->cose.alg == at::kCoseAlgPs384);
  CHECK(e->cose.x5chain.size() == 3);
  CHECK(e->feed == "ContainerPlat-AMD-UVM");
  CHECK(e->issuer.rfind("did:x509:0:sha256:", 0) == 0);
  CHECK(e->signing_time == 1675834943);
  CHECK(e->guest_svn == "22");
  auto report = at::parse_report(bytes("attestation/azure-aci-milan/snp_report.bin"));
  CHECK(e->launch_measurement == report->measurement);
  auto leaf = at::Certificate::from_der(e->cose.x5chain[0]);
  REQUIRE(leaf.ok());
  CHECK(at::verify_cose_sign1(e->cose, *leaf).is_ok());

  // Any change to the signed payload or protected header breaks the signature.
  at::CoseSign1 tampered = e->cose;
  tampered.payload[10] ^= 1;
  CHECK(at::verify_cose_sign1(tampered, *leaf).code() == Code::kUnauthenticated);
  tampered = e->cose;
  tampered.protected_bytes.back() ^= 1;
  CHECK(at::verify_cose_sign1(tampered, *leaf).code() == Code::kUnauthenticated);
  tampered = e->cose;
  tampered.alg = at::kCoseAlgEs384;  // wrong key type for ECDSA
  CHECK(at::verify_cose_sign1(tampered, *leaf).code() == Code::kUnauthenticated);
  tampered.alg = -999;
  CHECK(at::verify_cose_sign1(tampered, *leaf).code() == Code::kUnimplemented);
  // Another certificate (the intermediate CA) is not the signer.
  auto ca = at::Certificate::from_der(e->cose.x5chain[1]);
  CHECK(at::verify_cose_sign1(e->cose, *ca).code() == Code::kUnauthenticated);
}

TEST_CASE("the MAA request's UVM endorsement parses", "[attest][cose]") {
  auto maa = maa_request();
  REQUIRE(maa.uvm_endorsements.size() == 1);
  auto e = at::parse_uvm_endorsement(maa.uvm_endorsements[0]);
  REQUIRE(e.ok());
  CHECK(e->guest_svn == "103");
  auto report = at::parse_report(maa.report);
  CHECK(e->launch_measurement == report->measurement);
}

TEST_CASE("corrupt COSE_Sign1 is refused", "[attest][cose]") {
  auto good = bytes("attestation/azure-aci-milan/body.uvm_reference_info.bin");
  for (size_t n : {size_t(0), size_t(1), size_t(5), size_t(100), good.size() / 2, good.size() - 1}) {
    CHECK_FALSE(at::parse_cose_sign1(std::span<const uint8_t>(good.data(), n)).ok());
  }
  auto wrong_tag = good;
  wrong_tag[0] = 0xD1;  // tag 17 (COSE_Mac0)
  CHECK(at::parse_cose_sign1(wrong_tag).status().code() == Code::kDataLoss);
  CHECK(at::parse_cose_sign1(std::vector<uint8_t>{0x83, 0x40, 0xA0, 0x40}).status().code() == Code::kDataLoss);  // 3 items
  // [h'', {}, nil, h''] : detached payload
  CHECK(at::parse_cose_sign1(std::vector<uint8_t>{0x84, 0x43, 0xA1, 0x01, 0x26, 0xA0, 0xF6, 0x40}).status().code() ==
        Code::kUnimplemented);
  // Protected header without alg.
  CHECK(at::parse_cose_sign1(std::vector<uint8_t>{0x84, 0x41, 0xA0, 0xA0, 0x40, 0x40}).status().code() ==
        Code::kUnimplemented);
  // Payload that is not the UVM JSON.
  std::vector<uint8_t> no_json = {0x84, 0x43, 0xA1, 0x01, 0x26, 0xA0, 0x42, '{', '}', 0x40};
  CHECK(at::parse_cose_sign1(no_json).ok());
  CHECK(at::parse_uvm_endorsement(no_json).status().code() == Code::kDataLoss);
}
