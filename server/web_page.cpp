// The web page (see web_page.h): the embedded server/web files, put together once. textContent
// (never innerHTML) puts server answers on screen (server/web/index.html).
#include "server/web_page.h"

#include <algorithm>
#include <cctype>

#include "secure/attest/report.h"
#include "secure/digest.h"

namespace sealsum::server {
namespace {

// Where `marker` occurs in `text`, when it occurs exactly once.
Result<size_t> only_occurrence(std::string_view text, std::string_view marker, std::string_view file) {
  const size_t at = text.find(marker);
  if (at == std::string_view::npos) {
    return data_loss(std::string(file) + " has no " + std::string(marker) + " marker: restore it (server/web_page.h)");
  }
  if (text.find(marker, at + marker.size()) != std::string_view::npos) {
    return data_loss(std::string(file) + " has more than one " + std::string(marker) + " marker: keep one");
  }
  return at;
}

bool contains_ignoring_case(std::string_view text, std::string_view lower_needle) {
  auto it = std::search(text.begin(), text.end(), lower_needle.begin(), lower_needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  return it != text.end();
}

// Served when the embedded files do not assemble: no script, nothing that could send a request.
constexpr char kBrokenPage[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sealsum</title></head>\n"
    "<body><p>This build's web page is broken (server/web does not assemble; server/web_page_test.cpp says why). "
    "Use <code>sealsum verify</code> and <code>sealsum summarize --server</code>.</p></body></html>\n";

}  // namespace

// Read straight from the one list (secure/attest/amd_roots.inc), not through the verifier's
// certs.cpp: the relying-party verifier is not linked into sealsum-serve, which only serves the page.
std::string web_ark_pins_js() {
  std::string out;
#define SEALSUM_AMD_ROOT(product, spki_sha256_hex) \
  out += std::string(out.empty() ? "" : ", ") + "\"" spki_sha256_hex "\": \"" #product "\"";
#include "secure/attest/amd_roots.inc"
#undef SEALSUM_AMD_ROOT
  return out;
}

Result<std::string> assemble_web_page(std::string_view index_html, std::string_view verify_js,
                                      std::string_view ark_pins_js) {
  SEALSUM_ASSIGN_OR_RETURN(size_t js_at, only_occurrence(index_html, kVerifyJsMarker, "index.html"));
  SEALSUM_ASSIGN_OR_RETURN(size_t pins_at, only_occurrence(verify_js, kArkPinsMarker, "verify.js"));
  for (std::string_view bad : {std::string_view("</script"), std::string_view("<!--")}) {
    if (contains_ignoring_case(verify_js, bad) || contains_ignoring_case(ark_pins_js, bad)) {
      return data_loss("verify.js contains \"" + std::string(bad) + "\", which would end or change the page's inline script");
    }
  }
  std::string page;
  page.reserve(index_html.size() + verify_js.size() + ark_pins_js.size());
  page.append(index_html.substr(0, js_at));
  page.append(verify_js.substr(0, pins_at));
  page.append(ark_pins_js);
  page.append(verify_js.substr(pins_at + kArkPinsMarker.size()));
  page.append(index_html.substr(js_at + kVerifyJsMarker.size()));
  return page;
}

const std::string& web_page_html() {
  static const std::string page = [] {
    const std::optional<std::string_view> index = web_file("index.html"), verify = web_file("verify.js");
    if (!index || !verify) return std::string(kBrokenPage);
    Result<std::string> assembled = assemble_web_page(*index, *verify, web_ark_pins_js());
    return assembled.ok() ? std::move(assembled).value() : std::string(kBrokenPage);
  }();
  return page;
}

}  // namespace sealsum::server
