// The web page served at GET /: plain HTML + JS compiled into the binary (no CDN, no external
// requests; the Content-Security-Policy set by serve.cpp allows only same-origin fetches).
//
// What it does: shows the model and the server mode (a loud banner for --dev); fetches
// /v1/attestation with a fresh random nonce and checks in the browser that the runtime data names
// that nonce and that SHA-256(runtime data) equals the report's REPORT_DATA[0:32], then shows the
// MEASUREMENT and whether the evidence is simulated (the signature chain and the measurement
// allow-list are checked by `sealsum verify`, not by the page); lets the user pick a sealed
// document or paste text, and shows the summary (or says it was sealed for a named consumer).
// Test hook: "#auto=document:ID" or "#auto=text:..." (or "?auto=..."; plus "&max_length=N&num_beams=N&
// no_repeat_ngram_size=N") fills the form and summarizes on load; when the answer arrives
// the element #state holds "done" (or "error"), for headless-browser tests.
#pragma once

#include <string>

namespace sealsum::server {

const std::string& web_page_html();

}  // namespace sealsum::server
