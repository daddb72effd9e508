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
 .warn { background: #fff4d6; border: 1px solid #c90; color: #6b4200; }
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
 <tr><td>HOST_DATA</td><td><code id="hostdata">-</code></td></tr>
 <tr><td>model (SHA-256)</td><td><code id="model">-</code></td></tr>
 <tr><td>TLS key (SHA-256)</td><td><code id="tlskey">-</code></td></tr>
 <tr><td>nonce</td><td><code id="nonce">-</code></td></tr>
</table>
<p>
 <label>pinned measurement(s) <input id="pins" size="60" placeholder="96 hex digits, comma-separated"></label><br>
 <label>pinned HOST_DATA <input id="host-pins" size="60" placeholder="64 hex digits, comma-separated (sealsum policy hostdata)"></label><br>
 <label>pinned model(s) <input id="model-pins" size="60" placeholder="64 hex digits: the model file's or its sealed file's SHA-256"></label><br>
 <label><input id="allow-sim" type="checkbox"> accept simulated evidence (development only)</label>
 <button id="reattest" type="button">Check again</button>
</p>
<table id="checks"></table>
<p><small>The page checks the report's signature, the VCEK&rarr;ASK&rarr;ARK chain up to AMD's pinned
roots, debug and MIGRATE_MA off, VMPL 0, that the evidence answers its fresh nonce and binds the
runtime data, and the measurement, HOST_DATA and model against your pins (on Azure Container
Instances HOST_DATA must be pinned); it refuses to send anything when a check fails. It does not
check the TCB or the Azure UVM endorsement's signature, it cannot see the TLS key of its own
connection (so it cannot tell a relay from the server), and it is served by the server it checks:
for an independent check run <code>sealsum verify --server URL</code> with your pins.</small></p>

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

<script>)SEALSUM" + web_verify_js() + R"SEALSUM(</script>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
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
    m.className = "banner bad";
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

// The last verdict; summarize() refuses to send while it has a failed check (an unpinned
// measurement only warns, so a first look at a --dev server works; so does an unpinned model).
let verdict = null;
const pinsOf = (id) => $(id).value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
const pins = () => pinsOf("pins");
// Each pin field: its id, its localStorage key and its parameter in the "auto=" hook.
const PIN_FIELDS = [["pins", "sealsum-pins", "measurement"], ["host-pins", "sealsum-host-data-pins", "host_data"],
                    ["model-pins", "sealsum-model-pins", "model"]];
function blocking(v) {
  return v.checks.filter((c) => !c.passed && !(c.name === "measurement_allowed" && pins().length === 0));
}

async function attest() {
  const a = $("attest");
  a.className = "banner"; a.textContent = "checking\u2026";
  verdict = null;
  const nonceBytes = new Uint8Array(24);
  crypto.getRandomValues(nonceBytes);
  const nonce = bytesToB64url(nonceBytes);
  $("nonce").textContent = nonce;
  try {
    for (const [id, key] of PIN_FIELDS) localStorage.setItem(key, $(id).value);
  } catch (e) { /* storage off: pins last this visit */ }
  try {
    const r = await fetch("/v1/attestation?nonce=" + nonce);
    if (!r.ok) throw new Error("HTTP " + r.status);
    const v = await SealsumVerify.verifyAnswer(await r.json(),
                                               {nonce, measurements: pins(), hostData: pinsOf("host-pins"),
                                                models: pinsOf("model-pins"), allowSimulated: $("allow-sim").checked});
    verdict = v;
    $("measurement").textContent = v.measurement || "-";
    $("hostdata").textContent = v.hostData || "-";
    $("model").textContent = v.model ? v.model.sha256 + (v.model.sealed ? " (sealed file " + v.model.sealed + ")" : "")
                                     : "not named by the server";
    $("tlskey").textContent = v.tlsKey || "none (plain HTTP: the channel is not bound)";
    const table = $("checks");
    table.textContent = "";
    for (const c of v.checks) {
      const row = table.insertRow();
      row.insertCell().textContent = c.passed ? "\u2714" : "\u2718";
      row.insertCell().textContent = c.name;
      row.insertCell().textContent = c.detail;
    }
    const failed = blocking(v);
    if (failed.length > 0) {
      a.className = "banner bad";
      a.textContent = "REFUSED: " + failed.map((c) => c.name).join(", ") + ". Nothing will be sent to this server.";
    } else if (v.simulated || !v.accepted || pinsOf("model-pins").length === 0) {
      a.className = "banner warn";
      a.textContent = (v.simulated ? "Evidence is SIMULATED: not attestation. " : "") +
        (pins().length === 0 ? "No measurement pinned: the page cannot tell which code this is. " : "Measurement pinned. ") +
        (pinsOf("model-pins").length === 0 ? "No model pinned: the page cannot tell which model will read your document." : "Model pinned.");
    } else {
      a.className = "banner ok";
      a.textContent = "Attested: AMD-signed evidence for the pinned measurement" +
        (pinsOf("host-pins").length > 0 ? ", HOST_DATA" : "") + " and model answers this nonce.";
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
  if (!verdict || blocking(verdict).length > 0) {
    showError("Refused: the server's attestation did not pass (see above); the request was not sent.");
    setState("refused");
    return;
  }
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
    $("stats").textContent = !ans.timings ? "" : ans.input_tokens + " input tokens, " + ans.output_tokens +
      " generated, " + Math.round(ans.timings.total_ms) + " ms (+" + Math.round(ans.timings.queue_ms) + " ms queued)";
    setState("done");
  } catch (e) {
    showError(e.message);
    setState("error");
  }
}

$("go").addEventListener("click", summarize);
$("reattest").addEventListener("click", attest);
for (const [id] of PIN_FIELDS) $(id).addEventListener("change", attest);
$("allow-sim").addEventListener("change", attest);
(async () => {
  // "#auto=document:ID&max_length=20&measurement=HEX&host_data=HEX&model=HEX&allow_simulated=1"
  // (or "?auto=..."): pin, fill the form and summarize (tests).
  const hook = location.hash.startsWith("#auto=") ? location.hash.slice(1) : location.search.slice(1);
  const params = new URLSearchParams(hook.startsWith("auto=") ? hook : "");
  for (const [id, key, param] of PIN_FIELDS) {
    let saved = null;
    try { saved = localStorage.getItem(key); } catch (e) { /* storage off */ }
    $(id).value = params.get(param) ?? saved ?? "";
  }
  let info = null;
  try { info = await loadInfo(); } catch (e) { showError("cannot reach the server: " + e.message); }
  $("allow-sim").checked = params.has("allow_simulated") ? params.get("allow_simulated") === "1" : !!(info && info.dev);
  await attest();
  if (hook.startsWith("auto=")) {
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
