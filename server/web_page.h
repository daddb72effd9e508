// The web page served at GET /: server/web/index.html with server/web/verify.js inlined, both
// embedded into the binary at build time (cmake/embed.cmake; no CDN, no external requests; the
// Content-Security-Policy set by serve.cpp allows inline scripts and same-origin fetches only).
//
// What it does: shows the model and the server mode (a loud banner for --dev); fetches
// /v1/attestation with a fresh random nonce and verifies the answer in the browser
// (server/web/verify.js: report signature, VCEK -> ASK -> pinned AMD ARK chain, debug and MIGRATE_MA off,
// VMPL 0, REPORT_DATA binding of the runtime data, the nonce, and the MEASUREMENT, HOST_DATA (required
// when the evidence has one) and model-digest pins the user enters, kept in localStorage); shows
// every check; refuses to send a request while a check fails (an unpinned
// measurement, or simulated evidence with "accept simulated" ticked, only warns); lets the user
// pick a sealed document or paste text, and shows the summary (or says it was sealed for a named
// consumer). The page is served by the server it checks, so its verdict is a convenience; the
// independent check is `sealsum verify`.
// Test hook: "#auto=document:ID" or "#auto=text:..." (or "?auto=..."; plus "&max_length=N&num_beams=N&
// no_repeat_ngram_size=N&measurement=HEX&host_data=HEX&model=HEX&allow_simulated=0|1") pins, fills the form and summarizes
// on load; when the answer arrives the element #state holds "done" (or "error", or "refused" when
// the attestation stopped the request), for headless-browser tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sealsum::server {

// The page as served: assemble_web_page() of the embedded files and the C++ verifier's AMD roots,
// built once (thread-safe static initialization). Should the embedded files not assemble (a
// marker lost in an edit; server/web_page_test.cpp fails then), it is a short static page that
// says so and runs no script.
const std::string& web_page_html();

// The bytes of server/web/<name> ("index.html", "verify.js") as they were at build time;
// nullopt for any other name. Defined in the source cmake/embed.cmake generates.
std::optional<std::string_view> web_file(std::string_view name);

// The members of verify.js's ARK_PINS object literal, from secure::attest::amd_pinned_roots()
// (secure/attest/amd_roots.inc), in its order:
//   "<SHA-256 of the ARK's SubjectPublicKeyInfo, 64 hex digits>": "Milan", "...": "Genoa", ...
std::string web_ark_pins_js();

// index_html with its one kVerifyJsMarker replaced by verify_js, whose one kArkPinsMarker is
// replaced by ark_pins_js; every other byte is copied as it is. Fails (kDataLoss) when a marker
// is missing or repeated, or when verify_js contains "</script" or "<!--" (any case: either would
// change how the browser ends the inline script).
inline constexpr std::string_view kVerifyJsMarker = "/*@SEALSUM_VERIFY_JS@*/";
inline constexpr std::string_view kArkPinsMarker = "/*@SEALSUM_AMD_ROOTS@*/";
Result<std::string> assemble_web_page(std::string_view index_html, std::string_view verify_js,
                                      std::string_view ark_pins_js);

}  // namespace sealsum::server
