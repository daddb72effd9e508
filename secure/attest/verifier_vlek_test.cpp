// VCEK and VLEK reports under a generated AMD-shaped test chain (test_chain_testutil.h): bundles of
// ASK, ASVK and ARK verify in every order; the intermediate is picked by the report's signing key;
// a VLEK without its ASVK, a VCEK with only an ASVK, mis-issued leaves and ambiguous bundles are
// refused; the test root is trusted only through the test-only seam.
#include <algorithm>

#include <catch2/catch.hpp>

#include "secure/attest/attest_testutil.h"
#include "secure/attest/test_chain_testutil.h"
#include "secure/attest/verifier.h"

namespace at = sealsum::secure::attest;
namespace tc = at::testchain;
using at::testutil::failed;
using at::testutil::passed;
using at::testutil::require_refused_by;

namespace {

const std::vector<std::string> kChainChecks = {"signing_key_kind",    "cert_chain_format", "ark_pinned",
                                               "ark_self_signed",     "ask_signed_by_ark", "vcek_signed_by_ask",
                                               "cert_validity",       "product_matches_root", "report_signature",
                                               "tcb_matches_cert"};

std::string detail(const at::VerificationResult& r, const std::string& check) {
  const at::Check* c = r.find(check);
  return c ? c->detail : "(check " + check + " did not run)";
}

at::VerificationResult verify(const at::SnpEvidence& e, const at::VerifyOptions& o = tc::options()) {
  return at::verify_evidence(e, at::default_policy(), o);
}

}  // namespace

TEST_CASE("the generated test chain is AMD-shaped", "[attest][verifier][chain][vlek]") {
  const tc::TestChain& c = tc::test_chain();
  auto ark = at::Certificate::from_pem(c.ark);
  auto ask = at::Certificate::from_pem(c.ask);
  auto asvk = at::Certificate::from_pem(c.asvk);
  auto vlek = at::Certificate::from_der(c.vlek);
  REQUIRE((ark.ok() && ask.ok() && asvk.ok() && vlek.ok()));
  CHECK_FALSE(at::pinned_amd_product(*ark).has_value());  // not an AMD root
  CHECK(at::amd_intermediate_kind(*ask) == at::AmdIntermediateKind::kAsk);
  CHECK(at::amd_intermediate_kind(*asvk) == at::AmdIntermediateKind::kAsvk);
  CHECK(at::amd_intermediate_kind(*ark) == at::AmdIntermediateKind::kNone);
  CHECK(ark->verify_signed_by(*ark, at::SigRequirement::kRsaPssSha384).is_ok());
  CHECK(asvk->verify_signed_by(*ark, at::SigRequirement::kRsaPssSha384).is_ok());
  CHECK(vlek->verify_signed_by(*asvk, at::SigRequirement::kRsaPssSha384).is_ok());
  CHECK_FALSE(vlek->verify_signed_by(*ask, at::SigRequirement::kRsaPssSha384).is_ok());
  auto ext = at::parse_amd_extensions(*vlek);
  REQUIRE(ext.ok());
  CHECK(ext->product_name == std::string("Milan-B0"));
  CHECK(ext->ucode_spl == 115);
  CHECK_FALSE(ext->hwid.has_value());
  auto report = at::parse_report(tc::evidence(at::CertKind::kVlek, c.asvk + c.ark).report);
  REQUIRE(report.ok());
  CHECK(report->signing_key == at::SigningKey::kVlek);
}

TEST_CASE("VCEK and VLEK reports verify with ASK, ASVK and ARK in every order", "[attest][verifier][chain][vlek]") {
  const tc::TestChain& c = tc::test_chain();
  std::vector<std::string> parts = {c.ask, c.asvk, c.ark};
  std::sort(parts.begin(), parts.end());
  int orders = 0;
  do {
    ++orders;
    const std::string bundle = parts[0] + parts[1] + parts[2];
    for (at::CertKind kind : {at::CertKind::kVcek, at::CertKind::kVlek}) {
      bool vlek = kind == at::CertKind::kVlek;
      INFO((vlek ? "VLEK" : "VCEK") << " order #" << orders);
      auto r = verify(tc::evidence(kind, bundle));
      INFO(r.to_json());
      CHECK(r.verdict);
      for (const auto& name : kChainChecks) CHECK(passed(r, name));
      CHECK(passed(r, "chip_id_matches_cert") == !vlek);  // VCEK only
      CHECK((r.find("chip_id_matches_cert") == nullptr) == vlek);
      const std::string chosen = vlek ? "ASVK #" : "ASK #";
      CHECK(detail(r, "vcek_signed_by_ask").find(chosen) != std::string::npos);
      CHECK(detail(r, "vcek_signed_by_ask").find(vlek ? "\"SEV-VLEK-Milan\"" : "\"SEV-Milan\"") != std::string::npos);
      CHECK(detail(r, "ark_pinned").find("TEST-ONLY") != std::string::npos);
      // The other intermediate is named as not used, and why.
      CHECK(detail(r, "cert_chain_format").find(vlek ? "\"SEV-Milan\": ASK (a VLEK needs the ASVK)"
                                                     : "\"SEV-VLEK-Milan\": ASVK (a VCEK needs the ASK)") != std::string::npos);
    }
  } while (std::next_permutation(parts.begin(), parts.end()));
  CHECK(orders == 6);

  // The two-certificate forms, both orders.
  for (const std::string& pem : {c.ask + c.ark, c.ark + c.ask}) CHECK(verify(tc::evidence(at::CertKind::kVcek, pem)).verdict);
  for (const std::string& pem : {c.asvk + c.ark, c.ark + c.asvk}) CHECK(verify(tc::evidence(at::CertKind::kVlek, pem)).verdict);
}

TEST_CASE("the intermediate must be the kind the signing key needs", "[attest][verifier][chain][vlek]") {
  const tc::TestChain& c = tc::test_chain();
  // A VLEK report with [ASK, ARK]: the ASK did not sign the VLEK.
  for (const std::string& pem : {c.ask + c.ark, c.ark + c.ask}) {
    auto r = verify(tc::evidence(at::CertKind::kVlek, pem));
    require_refused_by(r, "vcek_signed_by_ask");
    CHECK(passed(r, "ark_pinned"));
    CHECK(detail(r, "vcek_signed_by_ask").find("as a valid ASVK") != std::string::npos);
  }
  // A VCEK report whose chain only has an ASVK.
  for (const std::string& pem : {c.asvk + c.ark, c.ark + c.asvk}) {
    auto r = verify(tc::evidence(at::CertKind::kVcek, pem));
    require_refused_by(r, "vcek_signed_by_ask");
    CHECK(detail(r, "vcek_signed_by_ask").find("as a valid ASK") != std::string::npos);
  }
  // Mis-issued leaves: a VCEK signed by the ASVK, a VLEK signed by the ASK. The signatures hold;
  // the kinds do not, whichever intermediates the bundle holds.
  tc::LeafExtensions vcek_ext;
  vcek_ext.hwid = tc::test_chip_id();
  auto vcek_by_asvk = tc::make_cert(c.vcek_key.get(), "SEV-VCEK", c.asvk_key.get(), "SEV-VLEK-Milan", 30, vcek_ext);
  auto vlek_by_ask = tc::make_cert(c.vlek_key.get(), "SEV-VLEK", c.ask_key.get(), "SEV-Milan", 31, tc::LeafExtensions{});
  for (const std::string& pem : {c.ask + c.asvk + c.ark, c.asvk + c.ark}) {
    auto e = tc::evidence(at::CertKind::kVcek, pem);
    e.signing_cert = vcek_by_asvk;
    auto r = verify(e);
    require_refused_by(r, "vcek_signed_by_ask");
    CHECK(passed(r, "report_signature"));
    CHECK(detail(r, "vcek_signed_by_ask").find("must chain through an ASK") != std::string::npos);
    e = tc::evidence(at::CertKind::kVlek, pem == c.asvk + c.ark ? c.ask + c.ark : pem);
    e.signing_cert = vlek_by_ask;
    r = verify(e);
    require_refused_by(r, "vcek_signed_by_ask");
    CHECK(detail(r, "vcek_signed_by_ask").find("must chain through an ASVK") != std::string::npos);
  }
  // The certificate given as VCEK for a VLEK-signed report: refused by kind, as before.
  auto e = tc::evidence(at::CertKind::kVlek, c.asvk + c.ark);
  e.cert_kind = at::CertKind::kVcek;
  require_refused_by(verify(e), "signing_key_kind");
}

TEST_CASE("ambiguous bundles are refused; unrelated intermediates are ignored", "[attest][verifier][chain][vlek]") {
  const tc::TestChain& c = tc::test_chain();
  // A second, different ASK certificate for the same key: two valid ASKs.
  std::string ask2 = tc::pem(tc::make_cert(c.ask_key.get(), "SEV-Milan", c.ark_key.get(), "ARK-Milan", 40));
  auto r = verify(tc::evidence(at::CertKind::kVcek, c.ask + ask2 + c.ark));
  require_refused_by(r, "cert_chain_format");
  CHECK(detail(r, "cert_chain_format").find("ambiguous bundle") != std::string::npos);
  // ...which does not matter to a VLEK, whose chain goes through the ASVK.
  CHECK(verify(tc::evidence(at::CertKind::kVlek, c.ask + ask2 + c.asvk + c.ark)).verdict);

  // A second, different ARK certificate for the same pinned key: two ARKs anchor the chain.
  std::string ark2 = tc::pem(tc::make_cert(c.ark_key.get(), "ARK-Milan", c.ark_key.get(), "ARK-Milan", 41));
  r = verify(tc::evidence(at::CertKind::kVlek, c.ark + c.asvk + ark2));
  require_refused_by(r, "cert_chain_format");
  CHECK(detail(r, "cert_chain_format").find("ambiguous bundle") != std::string::npos);

  // An unrelated ASK (another key, signed by the ARK) that did not sign the VCEK is ignored.
  auto other_key = tc::rsa_key(2048);
  std::string other = tc::pem(tc::make_cert(other_key.get(), "SEV-Milan", c.ark_key.get(), "ARK-Milan", 42));
  r = verify(tc::evidence(at::CertKind::kVcek, other + c.ark + c.ask));
  CHECK(r.verdict);
  CHECK(detail(r, "cert_chain_format").find("#1 \"SEV-Milan\": ASK, does not sign the VCEK, signed by the ARK") !=
        std::string::npos);

  // The real Milan ARK and ASK beside the test chain: a pinned root that anchors nothing here.
  r = verify(tc::evidence(at::CertKind::kVlek, sealsum::read_fixture("attestation/amd-roots/milan/ark.pem") + c.asvk +
                                                   sealsum::read_fixture("attestation/amd-roots/milan/ask.pem") + c.ark));
  CHECK(r.verdict);
  CHECK(detail(r, "cert_chain_format").find("a trusted Milan ARK that anchors no chain to the VLEK") != std::string::npos);
}

TEST_CASE("the test root is trusted only through the test-only seam", "[attest][verifier][chain][vlek]") {
  const tc::TestChain& c = tc::test_chain();
  at::VerifyOptions plain;
  plain.now = tc::kTestTime;
  for (at::CertKind kind : {at::CertKind::kVcek, at::CertKind::kVlek}) {
    auto r = verify(tc::evidence(kind, c.ark + c.ask + c.asvk), plain);
    require_refused_by(r, "ark_pinned");
    CHECK(detail(r, "ark_pinned").find("\"ARK-Milan\" SPKI SHA-256 " + sealsum::secure::to_hex(c.ark_spki_sha256)) !=
          std::string::npos);
  }
  // Trusting some other key does not make the test ARK trusted.
  at::VerifyOptions other = tc::options();
  other.test_only_extra_roots[0].spki_sha256[0] ^= 1;
  require_refused_by(verify(tc::evidence(at::CertKind::kVlek, c.ark + c.asvk), other), "ark_pinned");
  // A test root declared as another product fails product_matches_root, as a real one would.
  at::VerifyOptions genoa = tc::options();
  genoa.test_only_extra_roots[0].product = at::Product::kGenoa;
  require_refused_by(verify(tc::evidence(at::CertKind::kVlek, c.ark + c.asvk), genoa), "product_matches_root");
  // A tampered VLEK report does not verify under the right chain.
  auto e = tc::evidence(at::CertKind::kVlek, c.asvk + c.ark);
  e.report[0x90] ^= 1;
  require_refused_by(verify(e), "report_signature");
  // Expired certificates: after notAfter (2045).
  at::VerifyOptions late = tc::options();
  late.now = 2400000000;
  require_refused_by(verify(tc::evidence(at::CertKind::kVlek, c.asvk + c.ark), late), "cert_validity");
}
