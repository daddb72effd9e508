// AMD chain bundles with the real fixtures: the real VCEK reports verify with their ASK and ARK in
// any order, with duplicates and with another product's certificates as noise; bundles that lack
// the ARK or the ASK, or hold only another product's chain, are refused naming the check.
#include <catch2/catch.hpp>

#include "secure/attest/attest_testutil.h"
#include "secure/attest/certs.h"
#include "secure/attest/policy.h"
#include "secure/attest/verifier.h"

namespace at = sealsum::secure::attest;
using namespace at::testutil;
using sealsum::Code;

namespace {

constexpr std::time_t kTestTime = kFixtureTime;

const std::vector<std::string> kChainChecks = {"cert_chain_format", "ark_pinned",    "ark_self_signed",
                                               "ask_signed_by_ark", "vcek_signed_by_ask", "cert_validity",
                                               "product_matches_root", "report_signature", "tcb_matches_cert",
                                               "chip_id_matches_cert"};

std::string fixture(const char* product, const char* which) {
  return sealsum::read_fixture(std::string("attestation/amd-roots/") + product + "/" + which + ".pem");
}

// The PEM blocks of a bundle, as text.
std::vector<std::string> split_pem(const std::string& bundle) {
  std::vector<std::string> out;
  const std::string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
  for (size_t pos = bundle.find(begin); pos != std::string::npos; pos = bundle.find(begin, pos + 1)) {
    size_t stop = bundle.find(end, pos);
    if (stop == std::string::npos) throw std::runtime_error("unterminated PEM block in a fixture");
    out.push_back(bundle.substr(pos, stop + end.size() - pos) + "\n");
  }
  return out;
}

struct Named {
  const char* name;
  at::SnpEvidence evidence;
  at::Policy policy;
};

// Both real VCEK reports, each with a policy that pins its MEASUREMENT and HOST_DATA.
std::vector<Named> real_evidence() {
  std::vector<Named> out;
  out.push_back({"virtee-milan", virtee_evidence(), at::default_policy()});
  out.push_back({"azure-aci-milan", aci_evidence(), at::default_policy()});
  for (Named& n : out) {
    auto r = at::parse_report(n.evidence.report);
    if (!r.ok()) throw std::runtime_error("fixture report does not parse");
    n.policy.measurements.push_back(r->measurement);
    n.policy.host_data.push_back(r->host_data);
  }
  return out;
}

at::VerificationResult verify(const at::SnpEvidence& e, const at::Policy& p, const std::string& chain) {
  at::SnpEvidence copy = e;
  copy.chain_pem = chain;
  at::VerifyOptions o;
  o.now = kTestTime;
  return at::verify_evidence(copy, p, o);
}

std::string detail(const at::VerificationResult& r, const std::string& check) {
  const at::Check* c = r.find(check);
  return c ? c->detail : "(check " + check + " did not run)";
}


}  // namespace

TEST_CASE("real VCEK evidence verifies with its chain bundle in any order, duplicated or with noise",
          "[attest][verifier][chain]") {
  const std::string milan_ark = fixture("milan", "ark"), milan_ask = fixture("milan", "ask");
  const std::string genoa_ark = fixture("genoa", "ark"), genoa_ask = fixture("genoa", "ask");
  const std::string turin_ark = fixture("turin", "ark"), turin_ask = fixture("turin", "ask");
  for (const Named& n : real_evidence()) {
    std::vector<std::string> own = split_pem(n.evidence.chain_pem);
    REQUIRE(own.size() == 2);  // the fixtures ship [ASK, ARK]
    const std::string& ask = own[0];
    const std::string& ark = own[1];
    struct Case { const char* what; std::string pem; const char* ignored; };
    const std::vector<Case> cases = {
        {"[ASK, ARK] as shipped", n.evidence.chain_pem, nullptr},
        {"[ARK, ASK]", ark + ask, nullptr},
        {"[ARK, ASK] + Milan ARK and ASK from amd-roots", ark + ask + milan_ark + milan_ask, "duplicate of #"},
        {"[ASK, ASK, ARK, ARK]", ask + ask + ark + ark, "duplicate of #1"},
        {"Genoa ARK and ASK as noise", genoa_ark + ask + genoa_ask + ark, "anchors no chain to the VCEK"},
        {"Genoa ASK first, then ARK, ASK", genoa_ask + ark + ask, "does not sign the VCEK"},
        {"every product's roots", turin_ark + turin_ask + ark + genoa_ark + genoa_ask + ask, "a trusted Turin ARK"},
    };
    for (const Case& c : cases) {
      INFO(n.name << ": " << c.what);
      auto r = verify(n.evidence, n.policy, c.pem);
      INFO(r.to_json());
      CHECK(r.verdict);
      CHECK(r.product == at::Product::kMilan);
      for (const auto& name : kChainChecks) CHECK(passed(r, name));
      CHECK(detail(r, "ark_pinned").find("\"ARK-Milan\"") != std::string::npos);
      CHECK(detail(r, "vcek_signed_by_ask").find("ASK") != std::string::npos);
      CHECK(detail(r, "vcek_signed_by_ask").find("\"SEV-Milan\"") != std::string::npos);
      if (c.ignored) {
        CHECK(detail(r, "cert_chain_format").find("not used") != std::string::npos);
        CHECK(detail(r, "cert_chain_format").find(c.ignored) != std::string::npos);
      } else {
        CHECK(detail(r, "cert_chain_format").find("not used") == std::string::npos);
      }
    }
  }
}

TEST_CASE("bundles without the ARK, without the ASK, or of another product are refused",
          "[attest][verifier][chain]") {
  const std::string genoa_ark = fixture("genoa", "ark"), genoa_ask = fixture("genoa", "ask");
  const std::string turin_ask = fixture("turin", "ask");
  for (const Named& n : real_evidence()) {
    INFO(n.name);
    std::vector<std::string> own = split_pem(n.evidence.chain_pem);
    REQUIRE(own.size() == 2);
    const std::string& ask = own[0];
    const std::string& ark = own[1];

    // No ARK: a lone ASK is not a bundle; two ASKs have no pinned root (the keys found are named).
    require_refused_by(verify(n.evidence, n.policy, ask), "cert_chain_format");
    auto r = verify(n.evidence, n.policy, ask + genoa_ask + turin_ask);
    require_refused_by(r, "ark_pinned");
    CHECK(detail(r, "ark_pinned").find("keys found: #1 \"SEV-Milan\" SPKI SHA-256 ") != std::string::npos);
    CHECK(r.find("vcek_signed_by_ask") == nullptr);  // nothing else is judged without a root

    // No ASK: the ARK alone, duplicated, or beside another product's ARK.
    for (const std::string& pem : {ark + ark, ark + genoa_ark, genoa_ark + ark}) {
      r = verify(n.evidence, n.policy, pem);
      require_refused_by(r, "ask_signed_by_ark");
      require_refused_by(r, "vcek_signed_by_ask");
      CHECK(passed(r, "ark_pinned"));
      CHECK(detail(r, "ark_pinned").find("\"ARK-Milan\"") != std::string::npos);  // the VCEK's product wins
      CHECK(detail(r, "ask_signed_by_ark").find("/vcek/v1/") != std::string::npos);
      CHECK(r.product == at::Product::kMilan);
    }

    // Only a Genoa chain, in either order: a valid chain that did not sign this Milan VCEK.
    for (const std::string& pem : {genoa_ask + genoa_ark, genoa_ark + genoa_ask}) {
      r = verify(n.evidence, n.policy, pem);
      require_refused_by(r, "vcek_signed_by_ask");
      require_refused_by(r, "product_matches_root");
      CHECK(passed(r, "ask_signed_by_ark"));
      CHECK(detail(r, "vcek_signed_by_ask").find("\"SEV-Genoa\" does not") != std::string::npos);
    }

    // The Milan ASK under the Genoa ARK: the ASK signs the VCEK but the root does not sign the ASK.
    r = verify(n.evidence, n.policy, genoa_ark + ask);
    require_refused_by(r, "ask_signed_by_ark");
    require_refused_by(r, "product_matches_root");
    CHECK(passed(r, "vcek_signed_by_ask"));

    // More than kMaxChainCerts certificates.
    std::string many;
    for (size_t i = 0; i <= at::kMaxChainCerts; ++i) many += i % 2 ? ark : ask;
    require_refused_by(verify(n.evidence, n.policy, many), "cert_chain_format");

    // A corrupt block anywhere in the bundle refuses the whole bundle.
    std::string corrupt = ark + ask + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    require_refused_by(verify(n.evidence, n.policy, corrupt), "cert_chain_format");
  }
}
