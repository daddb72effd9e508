// AMD certificate bundle: choice of ARK and ASK/ASVK, and the chain checks (see amd_chain.h).
#include "secure/attest/amd_chain.h"

#include <algorithm>
#include <string>

#include "secure/attest/verifier_checks.h"

namespace sealsum::secure::attest {
namespace {

constexpr SigRequirement kAmdSig = SigRequirement::kRsaPssSha384;

struct Entry {
  Certificate cert;
  size_t pos = 0;                      // 1-based position in the bundle
  std::optional<size_t> duplicate_of;  // position of an identical earlier certificate
  std::optional<Product> root;         // self-issued with a trusted root key: an ARK candidate
  bool trusted_key = false;            // carries a trusted root key (self-issued or not)
  bool test_only = false;              // that key is a test-only root, not an AMD pin
  AmdIntermediateKind kind = AmdIntermediateKind::kNone;
  Status signs_leaf = Status::ok();    // leaf signature under this key (intermediate candidates)
};

std::string label(const Entry& e) {
  std::string cn = e.cert.common_name();
  return "#" + std::to_string(e.pos) + (cn.empty() ? " (" + e.cert.subject() + ")" : " \"" + cn + "\"");
}

void join(std::string& out, const std::string& part, const char* sep = "; ") {
  out += (out.empty() ? "" : sep) + part;
}

// The product of the trusted root key `c` carries (an AMD pin first, then the test-only keys).
std::optional<Product> trusted_root_product(const Certificate& c, std::span<const VerifyOptions::TestOnlyRoot> extra,
                                            bool& test_only) {
  test_only = false;
  if (auto p = pinned_amd_product(c)) return p;
  Digest256 h = c.spki_sha256();
  for (const auto& r : extra) {
    if (r.spki_sha256 == h) {
      test_only = true;
      return r.product;
    }
  }
  return std::nullopt;
}

std::string pinned_root_names() {
  std::string names;
  for (const PinnedRoot& r : amd_pinned_roots()) join(names, r.name, ", ");
  return names;
}

}  // namespace

std::optional<Product> check_amd_chain(const AmdChainRequest& req, std::vector<Check>& checks) {
  const bool vlek = req.chain_kind == CertKind::kVlek;
  const std::string leaf_name = vlek ? "VLEK" : "VCEK";
  const AmdIntermediateKind need = vlek ? AmdIntermediateKind::kAsvk : AmdIntermediateKind::kAsk;
  const std::string need_name = amd_intermediate_kind_name(need);
  const std::string want = "the ARK and the " + need_name + " (2.." +
                           std::to_string(kMaxChainCerts) + " PEM certificates, any order)";
  if (req.chain_pem.empty()) {
    add_check(checks, "cert_chain_format", false, "no AMD certificate chain supplied (--chain): give a bundle of " + want);
    return std::nullopt;
  }
  auto parsed = parse_pem_chain(req.chain_pem);
  if (!parsed.ok()) {
    add_check(checks, "cert_chain_format", false, "chain: " + parsed.status().message());
    return std::nullopt;
  }
  if (parsed->size() < 2) {
    add_check(checks, "cert_chain_format", false, "the chain holds 1 certificate; it must hold " + want);
    return std::nullopt;
  }

  // Classify: duplicates, ARK candidates (roots), intermediate candidates.
  std::vector<Entry> es;
  std::vector<Digest256> prints;
  std::vector<size_t> roots, cands;  // indexes into es
  for (Certificate& c : *parsed) {
    Entry e{std::move(c)};
    e.pos = es.size() + 1;
    Digest256 fp = e.cert.fingerprint_sha256();
    for (size_t i = 0; i < prints.size() && !e.duplicate_of; ++i) {
      if (prints[i] == fp) e.duplicate_of = i + 1;
    }
    prints.push_back(fp);
    std::optional<Product> p = trusted_root_product(e.cert, req.extra_roots, e.test_only);
    e.trusted_key = p.has_value();
    if (p && e.cert.self_issued()) e.root = p;
    e.kind = amd_intermediate_kind(e.cert);
    if (!e.duplicate_of) (e.root ? roots : cands).push_back(es.size());
    es.push_back(std::move(e));
  }
  for (size_t c : cands) es[c].signs_leaf = req.leaf->verify_signed_by(es[c].cert, kAmdSig);
  const size_t nc = cands.size();
  std::vector<Status> up(roots.size() * nc);  // up[ri * nc + ci]: candidate ci signed by root ri
  for (size_t ri = 0; ri < roots.size(); ++ri) {
    for (size_t ci = 0; ci < nc; ++ci) up[ri * nc + ci] = es[cands[ci]].cert.verify_signed_by(es[roots[ri]].cert, kAmdSig);
  }
  auto kind_ok = [&](size_t e) { return es[e].kind == need; };
  // 15 = a complete chain; lower scores rank the partial ones named in failures (signing the leaf
  // first, so that a leaf signed by the wrong kind of intermediate is reported as such).
  auto score = [&](size_t ri, size_t ci) {
    bool leaf = es[cands[ci]].signs_leaf.is_ok(), k = kind_ok(cands[ci]), signed_up = up[ri * nc + ci].is_ok();
    return (leaf && k) * 8 + leaf * 4 + (signed_up && k) * 2 + signed_up;
  };
  std::vector<size_t> full_roots, full_cands;  // distinct roots / intermediates of complete chains
  auto add_unique = [](std::vector<size_t>& v, size_t x) {
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
  };
  std::optional<size_t> ark, mid;  // the choice (indexes into es)
  int best = -1;
  for (size_t ri = 0; ri < roots.size(); ++ri) {
    int product_match = es[roots[ri]].root == req.leaf_product ? 1 : 0;
    if (best < product_match) {
      best = product_match;
      ark = roots[ri];
      mid.reset();
    }
    for (size_t ci = 0; ci < nc; ++ci) {
      int s = score(ri, ci);
      if (s == 15) {
        add_unique(full_roots, roots[ri]);
        add_unique(full_cands, cands[ci]);
      }
      bool usable = s > 0 || kind_ok(cands[ci]);
      int key = usable ? 2 + 2 * s + product_match : product_match;
      if (key > best) {
        best = key;
        ark = roots[ri];
        mid = usable ? std::optional<size_t>(cands[ci]) : std::nullopt;
      }
    }
  }
  const bool ambiguous = full_roots.size() > 1 || full_cands.size() > 1;
  auto full_chain = [&](size_t e) {
    return std::find(full_roots.begin(), full_roots.end(), e) != full_roots.end() ||
           std::find(full_cands.begin(), full_cands.end(), e) != full_cands.end();
  };

  // cert_chain_format: what was chosen, and why every other certificate was not.
  std::string detail = std::to_string(es.size()) + " certificates";
  if (ark) detail += "; ARK " + label(es[*ark]);
  if (mid) detail += ", " + std::string(amd_intermediate_kind_name(es[*mid].kind)) + " " + label(es[*mid]);
  std::string ignored;
  for (size_t i = 0; i < es.size(); ++i) {
    const Entry& e = es[i];
    if (ark == i || mid == i) continue;
    std::string why;
    if (e.duplicate_of) {
      why = "duplicate of #" + std::to_string(*e.duplicate_of);
    } else if (e.root) {
      why = std::string("a trusted ") + product_name(*e.root) + " ARK that " +
            (full_chain(i) ? "also anchors a chain to the " + leaf_name : "anchors no chain to the " + leaf_name);
    } else if (e.trusted_key) {
      why = "carries a pinned root key but is not self-issued, so it is not an ARK";
    } else if (full_chain(i)) {
      why = "another " + need_name + " that also signs the " + leaf_name + " and is signed by the ARK";
    } else {
      why = amd_intermediate_kind_name(e.kind);
      if (e.kind != need && e.kind != AmdIntermediateKind::kNone) why += " (a " + leaf_name + " needs the " + need_name + ")";
      why += e.signs_leaf.is_ok() ? ", signs the " + leaf_name : ", does not sign the " + leaf_name;
      if (ark) {
        size_t ri = size_t(std::find(roots.begin(), roots.end(), *ark) - roots.begin());
        size_t ci = size_t(std::find(cands.begin(), cands.end(), i) - cands.begin());
        why += up[ri * nc + ci].is_ok() ? ", signed by the ARK" : ", not signed by the ARK";
      }
      if (e.cert.self_issued()) why += ", self-issued with a key that is not a pinned AMD root";
    }
    join(ignored, label(e) + ": " + why, "; ");
  }
  if (!ignored.empty()) detail += "; not used: " + ignored;
  if (ambiguous) {
    std::string which;
    for (size_t i : full_roots.size() > 1 ? full_roots : full_cands) join(which, label(es[i]), ", ");
    detail = "ambiguous bundle: " + which + " each complete a valid chain to the " + leaf_name +
             "; keep exactly one ARK and one " + need_name + " (" + detail + ")";
  }
  add_check(checks, "cert_chain_format", !ambiguous, detail);

  if (!ark) {
    std::string keys;
    for (const Entry& e : es) {
      if (!e.duplicate_of) join(keys, label(e) + " SPKI SHA-256 " + to_hex(e.cert.spki_sha256()), ", ");
    }
    add_check(checks, "ark_pinned", false,
              "no self-issued certificate in the bundle carries a pinned AMD root key (" + pinned_root_names() +
                  "); keys found: " + keys + ". Add AMD's ARK for this product (AMD KDS cert_chain)");
    return std::nullopt;
  }
  const Entry& R = es[*ark];
  std::string ark_detail = "ARK " + label(R) + ": its key is the pinned AMD " + product_name(*R.root) + " root";
  if (R.test_only) ark_detail = "ARK " + label(R) + ": its key is a TEST-ONLY root (" + product_name(*R.root) + "), not an AMD pin";
  if (roots.size() > 1) {
    ark_detail += "; chosen over the other trusted roots because " +
                  (!full_roots.empty() ? "it anchors the " + leaf_name + "'s chain"
                   : mid               ? std::string("it is the closest to a chain for the ") + leaf_name
                   : R.root == req.leaf_product ? "its product is the " + leaf_name + "'s productName"
                                                : std::string("it comes first (no root anchors a chain)"));
  }
  add_check(checks, "ark_pinned", true, ark_detail);

  Status self = R.cert.verify_signed_by(R.cert, kAmdSig);
  add_check(checks, "ark_self_signed", self.is_ok(), self.is_ok() ? "ARK " + label(R) + " signs itself" : self.message());

  if (!mid) {
    add_check(checks, "ask_signed_by_ark", false,
              "no " + need_name + " in the bundle signs the " + leaf_name + " or is signed by ARK " + label(R) +
                  (vlek ? "; a VLEK needs the ASVK (\"SEV-VLEK-<product>\", AMD KDS /vlek/v1/<product>/cert_chain)"
                        : "; a VCEK needs the ASK (\"SEV-<product>\", AMD KDS /vcek/v1/<product>/cert_chain)"));
    add_check(checks, "vcek_signed_by_ask", false, "no certificate in the bundle signs the " + leaf_name);
  } else {
    const Entry& I = es[*mid];
    const std::string mid_name = std::string(amd_intermediate_kind_name(I.kind)) + " " + label(I);
    size_t ri = size_t(std::find(roots.begin(), roots.end(), *ark) - roots.begin());
    size_t ci = size_t(std::find(cands.begin(), cands.end(), *mid) - cands.begin());
    const Status& st = up[ri * nc + ci];
    add_check(checks, "ask_signed_by_ark", st.is_ok(),
              st.is_ok() ? mid_name + " is signed by ARK " + label(R)
                         : mid_name + ", the closest candidate, is not signed by ARK " + label(R) + ": " + st.message());
    bool k = I.kind == need;
    std::string why;
    if (!I.signs_leaf.is_ok()) {
      why = "no certificate in the bundle signs the " + leaf_name + " as a valid " + need_name + "; " + mid_name +
            " does not: " + I.signs_leaf.message();
    } else if (!k) {
      why = "the " + leaf_name + " is signed by " + mid_name + ", but a " + leaf_name + " must chain through an " +
            need_name + " (VCEK -> ASK \"SEV-<product>\", VLEK -> ASVK \"SEV-VLEK-<product>\")";
    } else {
      why = "the " + leaf_name + " is signed by " + mid_name + (st.is_ok() ? ", which the ARK signs" : "");
    }
    add_check(checks, "vcek_signed_by_ask", I.signs_leaf.is_ok() && k, why);
  }

  std::string expired;
  auto expiry = [&](const Certificate& c, const std::string& name) {
    if (!c.valid_at(req.now)) join(expired, name + " " + c.subject());
  };
  expiry(*req.leaf, leaf_name);
  if (mid) expiry(es[*mid].cert, amd_intermediate_kind_name(es[*mid].kind));
  expiry(R.cert, "ARK");
  add_check(checks, "cert_validity", expired.empty(),
            expired.empty() ? leaf_name + (mid ? ", " + std::string(amd_intermediate_kind_name(es[*mid].kind)) : "") +
                                  " and ARK are within their validity period"
                            : "outside its validity period: " + expired);
  return R.root;
}

}  // namespace sealsum::secure::attest
