// The web page (see web_page.h). Kept as one raw string so the binary carries it and an auditor
// reads it in one place. textContent (never innerHTML) puts server answers on screen.
#include "server/web_page.h"

namespace sealsum::server {

const std::string& web_page_html() {
  static const std::string page = R"SEALSUM(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sealsum</title>
<style>
 body { font-family: system-ui, sans-serif; max-width: 56rem; margin: 1.5rem auto; padding: 0 1rem; color: #222; }
 h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
 .banner { padding: .6rem .8rem; border-radius: .3rem; margin: .8rem 0; font-weight: 600; }
 .warn { background: #fde2e1; border: 1px solid #d33; color: #900; }
 .ok { background: #e3f6e5; border: 1px solid #3a3; color: #155; }
 .bad { background: #fde2e1; border: 1px solid #d33; color: #900; }
 textarea { width: 100%; min-height: 9rem; font: inherit; }
 pre { white-space: pre-wrap; word-break: break-word; background: #f5f5f5; padding: .6rem; border-radius: .3rem; }
 code { word-break: break-all; } label { margin-right: 1rem; } input[type=number] { width: 4.5rem; }
 table { border-collapse: collapse; } td { padding: .15rem .6rem .15rem 0; vertical-align: top; }
</style>
</head>
<body>
<h1>sealsum &mdash; confidential summarization</h1>
<div id="mode" class="banner">loading&hellip;</div>

<h2>Attestation</h2>
<div id="attest" class="banner">checking&hellip;</div>
<table>
 <tr><td>measurement</td><td><code id="measurement">-</code></td></tr>
 <tr><td>TLS key (SHA-256)</td><td><code id="tlskey">-</code></td></tr>
 <tr><td>nonce</td><td><code id="nonce">-</code></td></tr>
</table>
<p><small>The page checks that the evidence answers its fresh nonce and binds the runtime data.
The report signature, the AMD certificate chain and the measurement allow-list are checked by
<code>sealsum verify --server URL --measurement HEX</code>.</small></p>
<button id="reattest" type="button">Check again</button>

<h2>Summarize</h2>
<div>
 <label><input type="radio" name="src" value="document" id="src-doc" checked> sealed document</label>
 <select id="document"></select>
</div>
<div id="text-row">
 <label><input type="radio" name="src" value="text" id="src-text"> text</label>
 <textarea id="text" placeholder="Paste text (only when the server allows plaintext input)"></textarea>
</div>
<p>
 <label>beams <input id="num_beams" type="number" min="1" max="8" placeholder="default"></label>
 <label>max length <input id="max_length" type="number" min="2" max="512" placeholder="default"></label>
 <label>no-repeat n-gram <input id="no_repeat_ngram_size" type="number" min="0" max="8" placeholder="default"></label>
 <button id="go" type="button">Summarize</button>
</p>
<div id="error" class="banner bad" hidden></div>
<h2>Summary</h2>
<pre id="summary"></pre>
<p><small id="stats"></small></p>
<span id="state" hidden>idle</span>

<script>
"use strict";
const $ = (id) => document.getElementById(id);
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, "0")).join("");
function b64urlToBytes(s) {
  s = s.replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) s += "=";
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function bytesToB64url(u8) {
  let s = "";
  u8.forEach((b) => { s += String.fromCharCode(b); });
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function setState(s) { $("state").textContent = s; }
function showError(msg) { $("error").hidden = false; $("error").textContent = msg; }

async function loadInfo() {
  const info = await (await fetch("/v1/info")).json();
  const m = $("mode");
  if (info.dev || info.simulated_tee) {
    m.className = "banner warn";
    m.textContent = "DEVELOPMENT MODE: simulated TEE" + (info.tls ? "" : ", plain HTTP") +
      ". Nothing here is confidential; do not send real documents.";
  } else {
    m.className = "banner ok";
    m.textContent = "Model " + info.model.architecture + " (" + info.model.label + ") over TLS in an SEV-SNP guest.";
  }
  if (!info.plaintext_input) { $("text-row").hidden = true; }
  const docs = await (await fetch("/v1/documents")).json();
  const sel = $("document");
  sel.textContent = "";
  for (const id of docs.documents) {
    const o = document.createElement("option");
    o.value = id; o.textContent = id; sel.appendChild(o);
  }
  if (docs.documents.length === 0 && info.plaintext_input) $("src-text").checked = true;
  return info;
}

async function attest() {
  const a = $("attest");
  a.className = "banner"; a.textContent = "checking\u2026";
  const nonceBytes = new Uint8Array(24);
  crypto.getRandomValues(nonceBytes);
  const nonce = bytesToB64url(nonceBytes);
  $("nonce").textContent = nonce;
  try {
    const r = await fetch("/v1/attestation?nonce=" + nonce);
    if (!r.ok) throw new Error("HTTP " + r.status);
    const ans = await r.json();
    const runtime = b64urlToBytes(ans.runtime_data);
    const rd = JSON.parse(new TextDecoder().decode(runtime));
    let report = b64urlToBytes(ans.evidence.report);
    const magic = new TextDecoder().decode(report.slice(0, 32));
    const simulated = magic === "SEALSUM-SIMULATED-TEE-EVIDENCE-1";
    if (simulated) report = report.slice(32);
    const reportData = report.slice(0x50, 0x70);
    const measurement = hex(report.slice(0x90, 0xC0));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", runtime));
    const bound = hex(digest) === hex(reportData);
    const fresh = rd.nonce === nonce;
    $("measurement").textContent = measurement;
    $("tlskey").textContent = rd.tls_spki_sha256 || "none (plain HTTP: the channel is not bound)";
    if (bound && fresh) {
      a.className = simulated ? "banner warn" : "banner ok";
      a.textContent = simulated
        ? "Evidence binds this nonce, but it is SIMULATED: not attestation."
        : "Evidence binds this nonce and the server's TLS key. Verify the signature chain with sealsum verify.";
    } else {
      a.className = "banner bad";
      a.textContent = "Evidence does NOT bind " + (fresh ? "the runtime data" : "this nonce") + ": do not trust this server.";
    }
  } catch (e) {
    a.className = "banner bad";
    a.textContent = "Attestation failed: " + e.message;
  }
}

async function summarize() {
  $("error").hidden = true;
  $("summary").textContent = "";
  $("stats").textContent = "";
  setState("running");
  const body = {};
  if ($("src-text").checked) body.text = $("text").value; else body.document = $("document").value;
  for (const k of ["num_beams", "max_length", "no_repeat_ngram_size"]) {
    if ($(k).value !== "") body[k] = parseInt($(k).value, 10);
  }
  try {
    const r = await fetch("/v1/summarize", {method: "POST", headers: {"Content-Type": "application/json"},
                                            body: JSON.stringify(body)});
    const ans = await r.json();
    if (!r.ok) {
      showError(ans.message || ("HTTP " + r.status));
      setState("error");
      return;
    }
    if (ans.sealed_summary) {
      $("summary").textContent = "[sealed for " + ans.sealed_summary.consumer + "; only their key opens it]";
    } else {
      $("summary").textContent = ans.summary;
    }
    $("stats").textContent = ans.input_tokens + " input tokens, " + ans.output_tokens + " generated, " +
      Math.round(ans.timings.total_ms) + " ms (+" + Math.round(ans.timings.queue_ms) + " ms queued)";
    setState("done");
  } catch (e) {
    showError(e.message);
    setState("error");
  }
}

$("go").addEventListener("click", summarize);
$("reattest").addEventListener("click", attest);
(async () => {
  try { await loadInfo(); } catch (e) { showError("cannot reach the server: " + e.message); }
  await attest();
  // "#auto=document:ID&max_length=20" (or "?auto=..."): fill the form and summarize (tests).
  const hook = location.hash.startsWith("#auto=") ? location.hash.slice(1) : location.search.slice(1);
  if (hook.startsWith("auto=")) {
    const params = new URLSearchParams(hook);
    const auto = params.get("auto");
    if (auto.startsWith("document:")) { $("src-doc").checked = true; $("document").value = auto.slice(9); }
    else if (auto.startsWith("text:")) { $("src-text").checked = true; $("text").value = auto.slice(5); }
    for (const k of ["num_beams", "max_length", "no_repeat_ngram_size"]) {
      if (params.has(k)) $(k).value = params.get(k);
    }
    await summarize();
  }
})();
</script>
</body>
</html>
)SEALSUM";
  return page;
}

}  // namespace sealsum::server
