// The web page served at GET /: plain HTML + JS compiled into the binary (no CDN, no external
// requests; the Content-Security-Policy set by serve.cpp allows only same-origin fetches).
//
// What it does: shows the model and the server mode (a loud banner for --dev); fetches
// /v1/attestation with a fresh random nonce and verifies the answer in the browser
// (web_verify.cpp: report signature, VCEK -> ASK -> pinned AMD ARK chain, debug and MIGRATE_MA off,
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

#include <string>

namespace sealsum::server {

const std::string& web_page_html();
// The attestation verifier the page inlines (server/web_verify.cpp; tested under Node).
const std::string& web_verify_js();

}  // namespace sealsum::server
