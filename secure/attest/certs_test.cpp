// Certificates: pinned roots equal AMD's published ARKs, AMD extensions, chain signatures, bad input.
#include <catch2/catch.hpp>

#include "secure/attest/attest_testutil.h"
#include "secure/attest/certs.h"
#include "secure/digest.h"

namespace at = sealsum::secure::attest;
using namespace at::testutil;
using sealsum::Code;
using sealsum::secure::to_hex;

namespace {
at::Certificate pem_cert(const std::string& rel) {
  auto c = at::Certificate::from_pem(sealsum::read_fixture(rel));
  if (!c.ok()) throw std::runtime_error("bad fixture certificate " + rel);
  return std::move(c).value();
}
}  // namespace

TEST_CASE("the compiled-in ARK pins are the keys of AMD's published roots", "[attest][certs]") {
  struct Want { const char* dir; at::Product p; };
  for (Want w : {Want{"milan", at::Product::kMilan}, Want{"genoa", at::Product::kGenoa}, Want{"turin", at::Product::kTurin}}) {
    at::Certificate ark = pem_cert(std::string("attestation/amd-roots/") + w.dir + "/ark.pem");
    at::Certificate ask = pem_cert(std::string("attestation/amd-roots/") + w.dir + "/ask.pem");
    INFO(w.dir);
    CHECK(at::pinned_amd_product(ark) == w.p);
    CHECK_FALSE(at::pinned_amd_product(ask).has_value());  // only roots are pinned
    CHECK(ark.self_issued());
    CHECK(ark.verify_signed_by(ark, at::SigRequirement::kRsaPssSha384).is_ok());
    CHECK(ask.verify_signed_by(ark, at::SigRequirement::kRsaPssSha384).is_ok());
  }
  CHECK(at::amd_pinned_roots().size() == 3);
}

TEST_CASE("a Genoa ARK does not vouch for a Milan ASK", "[attest][certs]") {
  at::Certificate milan_ask = pem_cert("attestation/amd-roots/milan/ask.pem");
  at::Certificate genoa_ark = pem_cert("attestation/amd-roots/genoa/ark.pem");
  CHECK(milan_ask.verify_signed_by(genoa_ark, at::SigRequirement::kRsaPssSha384).code() == Code::kUnauthenticated);
}

TEST_CASE("VCEK extensions of the virtee Milan VCEK", "[attest][certs]") {
  auto vcek = at::Certificate::from_der(bytes("attestation/virtee-milan/vcek_milan.der"));
  REQUIRE(vcek.ok());
  auto e = at::parse_amd_extensions(*vcek);
  REQUIRE(e.ok());
  CHECK(e->product_name == std::string("Milan-B0"));
  CHECK(e->bl_spl == 3);
  CHECK(e->tee_spl == 0);
  CHECK(e->snp_spl == 8);
  CHECK(e->ucode_spl == 115);
  CHECK_FALSE(e->fmc_spl.has_value());
  REQUIRE(e->hwid.has_value());
  CHECK(e->hwid->size() == 64);
  auto report = at::parse_report(decoded_report("attestation/virtee-milan/report_milan.hex"));
  CHECK(std::equal(e->hwid->begin(), e->hwid->end(), report->chip_id.begin()));
  // The VCEK is signed by the Milan ASK, not by the ARK directly.
  at::Certificate ask = pem_cert("attestation/amd-roots/milan/ask.pem");
  at::Certificate ark = pem_cert("attestation/amd-roots/milan/ark.pem");
  CHECK(vcek->verify_signed_by(ask, at::SigRequirement::kRsaPssSha384).is_ok());
  CHECK(vcek->verify_signed_by(ark, at::SigRequirement::kRsaPssSha384).code() == Code::kUnauthenticated);
}

TEST_CASE("DER and PEM loading agree; the chain file holds ASK then ARK", "[attest][certs]") {
  auto der = bytes("attestation/virtee-milan/vcek_milan.der");
  auto from_der = at::Certificate::from_der_or_pem(der);
  REQUIRE(from_der.ok());
  CHECK(from_der->der() == der);
  auto chain = at::parse_pem_chain(sealsum::read_fixture("attestation/virtee-milan/cert_chain_milan"));
  REQUIRE(chain.ok());
  REQUIRE(chain->size() == 2);
  CHECK((*chain)[0].subject().find("CN=SEV-Milan") != std::string::npos);
  CHECK((*chain)[1].subject().find("CN=ARK-Milan") != std::string::npos);
  CHECK(at::Certificate::from_pem(sealsum::read_fixture("attestation/virtee-milan/cert_chain_milan")).status().code() ==
        Code::kDataLoss);  // two certificates where one is expected
}

TEST_CASE("corrupt certificates are refused", "[attest][certs]") {
  auto der = bytes("attestation/virtee-milan/vcek_milan.der");
  CHECK(at::Certificate::from_der({}).status().code() == Code::kDataLoss);
  CHECK(at::Certificate::from_der(std::span<const uint8_t>(der.data(), der.size() - 1)).status().code() == Code::kDataLoss);
  auto trailing = der;
  trailing.push_back(0);
  CHECK(at::Certificate::from_der(trailing).status().code() == Code::kDataLoss);
  auto flipped = der;
  flipped[10] ^= 0xFF;
  CHECK_FALSE(at::Certificate::from_der(flipped).ok());
  CHECK(at::parse_pem_chain("no certificates here").status().code() == Code::kDataLoss);
  CHECK(at::parse_pem_chain("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").status().code() ==
        Code::kDataLoss);
  std::string many;
  std::string one = sealsum::read_fixture("attestation/amd-roots/milan/ark.pem");
  for (size_t i = 0; i <= at::kMaxChainCerts; ++i) many += one;
  CHECK(at::parse_pem_chain(many).status().code() == Code::kResourceExhausted);
}

TEST_CASE("a certificate with a flipped signature bit does not verify", "[attest][certs]") {
  auto der = bytes("attestation/virtee-milan/vcek_milan.der");
  der[der.size() - 5] ^= 0x01;  // inside the signature value
  auto vcek = at::Certificate::from_der(der);
  REQUIRE(vcek.ok());
  at::Certificate ask = pem_cert("attestation/amd-roots/milan/ask.pem");
  CHECK(vcek->verify_signed_by(ask, at::SigRequirement::kRsaPssSha384).code() == Code::kUnauthenticated);
}

TEST_CASE("validity periods are honoured", "[attest][certs]") {
  auto vcek = at::Certificate::from_der(bytes("attestation/virtee-milan/vcek_milan.der"));
  REQUIRE(vcek.ok());
  CHECK(vcek->valid_at(1700000000));          // 2023-11
  CHECK_FALSE(vcek->valid_at(1600000000));    // 2020-09, before notBefore (2023-04-03)
  CHECK_FALSE(vcek->valid_at(2000000000));    // 2033, after notAfter (2030-04-03)
}

TEST_CASE("AMD intermediates are told apart by CN; leaves and roots are not intermediates", "[attest][certs]") {
  for (const char* p : {"milan", "genoa", "turin"}) {
    INFO(p);
    at::Certificate ask = pem_cert(std::string("attestation/amd-roots/") + p + "/ask.pem");
    at::Certificate ark = pem_cert(std::string("attestation/amd-roots/") + p + "/ark.pem");
    CHECK(at::amd_intermediate_kind(ask) == at::AmdIntermediateKind::kAsk);
    CHECK(at::amd_intermediate_kind(ark) == at::AmdIntermediateKind::kNone);
    CHECK(ark.common_name().rfind("ARK-", 0) == 0);
  }
  auto vcek = at::Certificate::from_der(bytes("attestation/virtee-milan/vcek_milan.der"));
  REQUIRE(vcek.ok());
  CHECK(vcek->common_name() == "SEV-VCEK");
  CHECK(at::amd_intermediate_kind(*vcek) == at::AmdIntermediateKind::kNone);
  CHECK(std::string(at::amd_intermediate_kind_name(at::AmdIntermediateKind::kAsvk)) == "ASVK");
}
