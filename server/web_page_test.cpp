// The web page: what GET / serves is byte for byte server/web/index.html with server/web/verify.js
// inlined, and the AMD root pins in it are the C++ verifier's (secure/attest/amd_roots.inc, their
// one definition); page assembly refuses broken inputs.
#include <catch2/catch.hpp>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "common/fixtures.h"
#include "secure/attest/certs.h"
#include "secure/attest/report.h"
#include "secure/digest.h"
#include "server/serve_testutil.h"
#include "server/web_page.h"

using namespace sealsum::server;
using namespace sealsum::server::testutil;
namespace at = sealsum::secure::attest;
using json = nlohmann::json;

namespace {

const std::filesystem::path kSource = SEALSUM_SOURCE_DIR;

std::string source_file(const std::filesystem::path& rel) {
  std::ifstream in(kSource / rel, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + (kSource / rel).string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// "" when a == b, else where they first differ (a readable failure instead of two 20 kB strings).
std::string first_difference(const std::string& a, const std::string& b) {
  if (a == b) return "";
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return "sizes " + std::to_string(a.size()) + " and " + std::to_string(b.size()) + ", first difference at byte " +
         std::to_string(i) + ": ..." + a.substr(i, 40) + "... vs ..." + b.substr(i, 40) + "...";
}

// The text between the first occurrence of `before` and the next `after` in `s`, or "?" if absent.
std::string between(const std::string& s, const std::string& before, const std::string& after) {
  size_t a = s.find(before);
  if (a == std::string::npos) return "?";
  a += before.size();
  size_t b = s.find(after, a);
  return b == std::string::npos ? "?" : s.substr(a, b - a);
}

}  // namespace

TEST_CASE("web page: the embedded files are the source tree's server/web files", "[web]") {
  for (const char* name : {"index.html", "verify.js"}) {
    INFO(name);
    auto embedded = web_file(name);
    REQUIRE(embedded.has_value());
    CHECK(first_difference(std::string(*embedded), source_file(std::filesystem::path("server/web") / name)) == "");
  }
  CHECK_FALSE(web_file("style.css").has_value());
  CHECK_FALSE(web_file("../web_page.cpp").has_value());
}

TEST_CASE("web page: GET / serves the files' bytes, with the C++ verifier's AMD roots", "[web][serve]") {
  const std::string index = source_file("server/web/index.html");
  const std::string verify = source_file("server/web/verify.js");
  const size_t js_at = index.find(kVerifyJsMarker), pins_at = verify.find(kArkPinsMarker);
  REQUIRE(js_at != std::string::npos);
  REQUIRE(pins_at != std::string::npos);

  TestServer srv([] {
    ServeOptions o;
    o.dev = true;
    o.read_timeout_s = 2;
    return o;
  }());
  httplib::Client c("127.0.0.1", srv.port());
  auto page = c.Get("/");
  REQUIRE(page);
  REQUIRE(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->get_header_value("Content-Security-Policy") ==
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
  CHECK(page->get_header_value("X-Content-Type-Options") == "nosniff");
  const std::string& body = page->body;
  CHECK(first_difference(body, web_page_html()) == "");

  // Everything outside the pins is the files' bytes, in order.
  const std::string head = index.substr(0, js_at) + verify.substr(0, pins_at);
  const std::string tail = verify.substr(pins_at + kArkPinsMarker.size()) + index.substr(js_at + kVerifyJsMarker.size());
  REQUIRE(body.size() > head.size() + tail.size());
  CHECK(first_difference(body.substr(0, head.size()), head) == "");
  CHECK(first_difference(body.substr(body.size() - tail.size()), tail) == "");
  const std::string pins = body.substr(head.size(), body.size() - head.size() - tail.size());
  CHECK(pins == web_ark_pins_js());

  // The pins are the C++ verifier's, all of them and nothing else...
  json served = json::parse("{" + pins + "}");
  REQUIRE(served.is_object());
  const auto roots = at::amd_pinned_roots();
  CHECK(served.size() == roots.size());
  for (const at::PinnedRoot& r : roots) {
    const std::string hex = sealsum::secure::to_hex(r.spki_sha256);
    INFO(r.name);
    REQUIRE(served.contains(hex));
    CHECK(served[hex] == at::product_name(r.product));
    CHECK(std::string(r.name) == std::string("ARK-") + at::product_name(r.product));
  }
  // ...which are AMD's published ARKs, named as the C++ verifier names them.
  for (const char* product : {"milan", "genoa", "turin"}) {
    INFO(product);
    auto ark = at::Certificate::from_pem(sealsum::read_fixture(std::string("attestation/amd-roots/") + product + "/ark.pem"));
    REQUIRE(ark.ok());
    const std::string hex = sealsum::secure::to_hex(ark->spki_sha256());
    REQUIRE(served.contains(hex));
    auto p = at::pinned_amd_product(*ark);
    REQUIRE(p.has_value());
    CHECK(served[hex] == at::product_name(*p));
  }
  CHECK(between(body, "const ARK_PINS = {", "};") == pins);
  CHECK(body.find(kVerifyJsMarker) == std::string::npos);
  CHECK(body.find(kArkPinsMarker) == std::string::npos);
}

TEST_CASE("web page: the AMD root pins are written once, in secure/attest/amd_roots.inc", "[web]") {
  const auto roots = at::amd_pinned_roots();
  REQUIRE(roots.size() >= 3);
  const std::string inc = source_file("secure/attest/amd_roots.inc");
  CHECK(occurrences(inc, "\nSEALSUM_AMD_ROOT(") == roots.size());
  // No other project source spells a pin out (the web page's copy is generated from this list).
  size_t scanned = 0;
  for (const char* dir : {"common", "secure", "server", "tools", "tests", "engine", "deploy"}) {
    if (!std::filesystem::exists(kSource / dir)) continue;
    for (const auto& e : std::filesystem::recursive_directory_iterator(kSource / dir)) {
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h" && ext != ".inc" && ext != ".js" && ext != ".mjs" &&
                                   ext != ".html" && ext != ".sh" && ext != ".json" && ext != ".md")) {
        continue;
      }
      const std::string rel = std::filesystem::relative(e.path(), kSource).generic_string();
      const std::string text = source_file(rel);
      ++scanned;
      for (const at::PinnedRoot& r : roots) {
        const std::string hex = sealsum::secure::to_hex(r.spki_sha256);
        INFO(rel << " " << r.name);
        CHECK(occurrences(text, hex) == (rel == "secure/attest/amd_roots.inc" ? 1u : 0u));
      }
    }
  }
  CHECK(scanned > 50);
}

TEST_CASE("web page: assembly copies every byte and refuses broken inputs", "[web]") {
  auto ok = assemble_web_page("<p>a</p><script>/*@SEALSUM_VERIFY_JS@*/</script><p>b</p>\n",
                              "const X = {/*@SEALSUM_AMD_ROOTS@*/};\n", "\"00\": \"Milan\"");
  REQUIRE(ok.ok());
  CHECK(*ok == "<p>a</p><script>const X = {\"00\": \"Milan\"};\n</script><p>b</p>\n");

  struct Bad {
    const char* what;
    std::string index, verify, pins;
  };
  const std::string index = "<script>/*@SEALSUM_VERIFY_JS@*/</script>";
  const std::string verify = "const X = {/*@SEALSUM_AMD_ROOTS@*/};";
  for (const Bad& b : {Bad{"no verify.js marker", "<script></script>", verify, ""},
                       Bad{"two verify.js markers", index + index, verify, ""},
                       Bad{"no pins marker", index, "const X = {};", ""},
                       Bad{"two pins markers", index, verify + verify, ""},
                       Bad{"a closing script tag in verify.js", index, verify + "\"</SCRIPT>\";", ""},
                       Bad{"an HTML comment opener in verify.js", index, verify + "\"<!--\";", ""},
                       Bad{"a closing script tag in the pins", index, verify, "\"</script \": 1"},
                       Bad{"markers swapped", "<script>/*@SEALSUM_AMD_ROOTS@*/</script>", "/*@SEALSUM_VERIFY_JS@*/", ""}}) {
    INFO(b.what);
    auto r = assemble_web_page(b.index, b.verify, b.pins);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == sealsum::Code::kDataLoss);
  }
}
