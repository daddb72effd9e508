// The web page's attestation verifier (server/web/verify.js), run under Node's WebCrypto against
// real SEV-SNP evidence from the fixtures and simulated evidence from a live `sealsum serve --dev`.
//   node verify_test.mjs REPO_ROOT FIXTURES SIMULATED_ANSWER.json NONCE MEASUREMENT
// Prints one line per case and "N passed, N failed"; exits 1 on any failure.
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import {webcrypto, createHash, X509Certificate} from "node:crypto";

const [root, fixtures, simAnswerPath, simNonce, simMeasurement] = process.argv.slice(2);
if (!globalThis.crypto) globalThis.crypto = webcrypto;
const repoFile = (rel) => fs.readFileSync(path.join(root, rel), "utf8");
// AMD's root pins from their one definition, secure/attest/amd_roots.inc, written the way
// server/web_page.cpp writes them into the page (server/web_page_test.cpp checks the served page).
const PINS_MARKER = "/*@SEALSUM_AMD_ROOTS@*/";
const roots = [...repoFile("secure/attest/amd_roots.inc").matchAll(/^SEALSUM_AMD_ROOT\((\w+), "([0-9a-f]{64})"\)$/gm)]
  .map(([, product, spki]) => ({product, spki}));
if (roots.length < 3) throw new Error("secure/attest/amd_roots.inc: expected at least 3 SEALSUM_AMD_ROOT lines");
const pinsJs = roots.map((r) => `"${r.spki}": "${r.product}"`).join(", ");
// server/web/verify.js as a file, run as the page runs it: with the pins filled in, or (filled =
// false) exactly as it is on disk.
const verifySource = repoFile("server/web/verify.js");
if (verifySource.split(PINS_MARKER).length !== 2) throw new Error("server/web/verify.js: expected one " + PINS_MARKER);
function loadVerifier(filled) {
  const sandbox = {globalThis: {crypto: globalThis.crypto}, atob, TextDecoder, TextEncoder, Uint8Array, DataView, Date,
                   module: {exports: null}};
  vm.runInNewContext(filled ? verifySource.replace(PINS_MARKER, () => pinsJs) : verifySource, sandbox,
                     {filename: "server/web/verify.js"});
  return sandbox.module.exports;
}
const V = loadVerifier(true);

let passed = 0, failed = 0;
function expect(name, cond, detail) {
  if (cond) passed++; else failed++;
  console.log((cond ? "ok   " : "FAIL ") + name + (cond ? "" : " :: " + detail));
}
const fx = (p) => fs.readFileSync(path.join(fixtures, p));
const b64url = (u8) => Buffer.from(u8).toString("base64url");
const byName = (r) => Object.fromEntries(r.checks.map((c) => [c.name, c]));
const hexOf = (u8) => Buffer.from(u8).toString("hex");
const sha256Hex = (u8) => createHash("sha256").update(u8).digest("hex");
// A named check of byName(r) that ran and passed / ran and failed (a missing check is neither).
const passes = (r, name) => !!(r[name] && r[name].passed);
const fails = (r, name) => !!(r[name] && !r[name].passed);

// Real evidence: the virtee Milan report with its VCEK and ASK+ARK chain.
const report = new Uint8Array(Buffer.from(fx("attestation/virtee-milan/report_milan.hex").toString().trim(), "hex"));
const vcek = new Uint8Array(fx("attestation/virtee-milan/vcek_milan.der"));
const chain = fx("attestation/virtee-milan/cert_chain_milan").toString();
const measurement = hexOf(report.slice(0x90, 0xC0));
const when = new Date(Date.UTC(2026, 0, 1));
const realAnswer = (rep = report, cert = vcek, pem = chain) =>
  ({runtime_data: b64url(Buffer.from("{}")), evidence: {report: b64url(rep), signing_cert: b64url(cert), cert_chain: pem}});
{
  const r = byName(await V.verifyAnswer(realAnswer(), {nonce: "n", measurements: [measurement], now: when}));
  for (const c of ["report_format", "certificate_chain", "signature", "debug_disallowed", "measurement_allowed"]) {
    expect("virtee-milan " + c, r[c] && r[c].passed, JSON.stringify(r[c]));
  }
  expect("virtee-milan: chain names the pinned Milan ARK", /ARK-Milan/.test(r.certificate_chain.detail), r.certificate_chain.detail);
  expect("virtee-milan: foreign runtime data is not bound", !r.report_data_binding.passed, "bound?");
}
{
  const tampered = report.slice();
  tampered[0x90] ^= 1;  // the measurement
  const r = await V.verifyAnswer(realAnswer(tampered), {nonce: "n", measurements: [hexOf(tampered.slice(0x90, 0xC0))], now: when});
  expect("a flipped measurement bit breaks the signature", !byName(r).signature.passed && !r.accepted, JSON.stringify(r.checks));
}
{
  const badCert = vcek.slice();
  badCert[badCert.length - 5] ^= 1;  // inside the ASK's signature over the VCEK
  const r = byName(await V.verifyAnswer(realAnswer(report, badCert), {nonce: "n", measurements: [measurement], now: when}));
  expect("a flipped VCEK signature bit breaks the chain", !r.certificate_chain.passed && !r.signature.passed, JSON.stringify(r));
  const genoa = fs.readFileSync(path.join(fixtures, "attestation/amd-roots/genoa/ark.pem"), "utf8");
  const askOnly = chain.slice(0, chain.indexOf("-----END CERTIFICATE-----") + 25);
  const r2 = byName(await V.verifyAnswer(realAnswer(report, vcek, askOnly + "\n" + genoa), {nonce: "n", measurements: [measurement], now: when}));
  expect("a Genoa ARK does not vouch for a Milan ASK", !r2.certificate_chain.passed, JSON.stringify(r2.certificate_chain));
  const r3 = byName(await V.verifyAnswer(realAnswer(), {nonce: "n", measurements: [measurement], now: new Date(Date.UTC(2031, 0, 1))}));
  expect("an expired VCEK fails the chain", !r3.certificate_chain.passed && /not valid/.test(r3.certificate_chain.detail), JSON.stringify(r3.certificate_chain));
  const r4 = byName(await V.verifyAnswer(realAnswer(), {nonce: "n", measurements: ["00".repeat(48)], now: when}));
  expect("an unpinned measurement is refused", !r4.measurement_allowed.passed, JSON.stringify(r4.measurement_allowed));
}
// The pins are AMD's published ARKs (SHA-256 of each SubjectPublicKeyInfo), named for their product;
// verify.js on its own pins nothing, so unfilled it refuses the real chain.
for (const r of roots) {
  const ark = new X509Certificate(fx("attestation/amd-roots/" + r.product.toLowerCase() + "/ark.pem"));
  const spki = sha256Hex(ark.publicKey.export({type: "spki", format: "der"}));
  expect("amd_roots.inc: the " + r.product + " pin is the key of AMD's ARK-" + r.product, spki === r.spki, spki + " != " + r.spki);
}
{
  const r = byName(await loadVerifier(false).verifyAnswer(realAnswer(), {nonce: "n", measurements: [measurement], now: when}));
  expect("verify.js without the pins filled in trusts no root", fails(r, "certificate_chain") &&
         /not one of AMD's pinned roots/.test(r.certificate_chain.detail) && !passes(r, "signature"), JSON.stringify(r.certificate_chain));
}
// Real evidence from Azure Container Instances, as `sealsum serve --host-amd-cert` sends it: the
// VCEK's PEM text (base64url) from the host certificate JSON, and the runtime data REPORT_DATA binds.
{
  const host = JSON.parse(fx("attestation/azure-aci-milan/uvm_host_amd_certificate.json"));
  const aci = new Uint8Array(fx("attestation/azure-aci-milan/snp_report.bin"));
  const answer = {runtime_data: b64url(fx("attestation/azure-aci-milan/runtime_data.json")),
                  evidence: {report: b64url(aci), signing_cert: b64url(Buffer.from(host.vcekCert)), cert_chain: host.certificateChain}};
  const aciMeasurement = hexOf(aci.slice(0x90, 0xC0));
  const r = byName(await V.verifyAnswer(answer, {nonce: undefined, measurements: [aciMeasurement], now: when}));
  for (const c of ["certificate_chain", "signature", "report_data_binding", "measurement_allowed", "vmpl", "migrate_ma_disabled"]) {
    expect("azure-aci-milan " + c, r[c] && r[c].passed, JSON.stringify(r[c]));
  }
  // Stripping the endorsement does not help: the report's HOST_DATA is non-zero, so it must be pinned.
  expect("azure-aci-milan: no UVM endorsement, no HOST_DATA pin: refused host_data_pinned",
         r.host_data_pinned && !r.host_data_pinned.passed && /carries HOST_DATA cadd74f7/.test(r.host_data_pinned.detail) &&
         !r.host_data_allowed, JSON.stringify([r.host_data_pinned, r.host_data_allowed]));

  // With the UVM endorsement ACI provides, the measurement is the utility VM's: HOST_DATA must be pinned.
  // The right pin is computed here from the CCE policy (SHA-256 of its base64-decoded text), not read from the report.
  const endorsed = {...answer, evidence: {...answer.evidence, uvm_endorsement: b64url(fx("attestation/azure-aci-milan/body.uvm_reference_info.bin"))}};
  const policyHash = sha256Hex(Buffer.from(fx("attestation/azure-aci-milan/uvm_security_policy.base64").toString().trim(), "base64"));
  const unpinned = await V.verifyAnswer(endorsed, {nonce: undefined, measurements: [aciMeasurement], now: when});
  const u = byName(unpinned);
  expect("azure-aci-milan endorsed, no HOST_DATA pin: refused host_data_pinned",
         !unpinned.accepted && fails(u, "host_data_pinned") &&
         /Microsoft's utility VM.*pin HOST_DATA \(sealsum policy hostdata\)/.test(u.host_data_pinned.detail) &&
         unpinned.checks.filter((c) => !c.passed).length === 1, JSON.stringify(unpinned.checks));
  const wrong = await V.verifyAnswer(endorsed, {nonce: undefined, measurements: [aciMeasurement], hostData: ["ab".repeat(32)], now: when});
  const w = byName(wrong);
  expect("azure-aci-milan endorsed, wrong HOST_DATA pin: refused host_data_allowed",
         !wrong.accepted && passes(w, "host_data_pinned") && fails(w, "host_data_allowed") && /not in the pinned list/.test(w.host_data_allowed.detail),
         JSON.stringify(wrong.checks));
  const right = await V.verifyAnswer(endorsed, {nonce: undefined, measurements: [aciMeasurement], hostData: [policyHash.toUpperCase()], now: when});
  const g = byName(right);
  expect("azure-aci-milan endorsed, HOST_DATA pinned to SHA-256(decoded CCE policy): accepted",
         right.accepted && passes(g, "host_data_pinned") && passes(g, "host_data_allowed") && right.hostData === policyHash,
         JSON.stringify(right.checks));
  const malformed = byName(await V.verifyAnswer(endorsed, {nonce: undefined, measurements: [aciMeasurement],
                                                           hostData: [policyHash.slice(1), policyHash], now: when}));
  expect("a HOST_DATA pin that is not 64 hex digits is refused by name, even beside the right one",
         fails(malformed, "host_data_allowed") && /not 64 hex digits/.test(malformed.host_data_allowed.detail), JSON.stringify(malformed.host_data_allowed));

  // Edited report bytes: the signature fails, and so does the specific check.
  const vmpl = aci.slice();
  vmpl[0x30] = 3;
  const v3 = byName(await V.verifyAnswer({...answer, evidence: {...answer.evidence, report: b64url(vmpl)}},
                                         {nonce: undefined, measurements: [aciMeasurement], now: when}));
  expect("azure-aci-milan at VMPL 3: vmpl fails (and the signature)", fails(v3, "vmpl") && /VMPL 3/.test(v3.vmpl.detail) && fails(v3, "signature"),
         JSON.stringify([v3.vmpl, v3.signature]));
  const migrate = aci.slice();
  migrate[0x0A] |= 0x04;  // POLICY bit 18
  const mm = byName(await V.verifyAnswer({...answer, evidence: {...answer.evidence, report: b64url(migrate)}},
                                         {nonce: undefined, measurements: [aciMeasurement], now: when}));
  expect("azure-aci-milan with MIGRATE_MA: migrate_ma_disabled fails (and the signature)",
         fails(mm, "migrate_ma_disabled") && passes(mm, "debug_disallowed") && fails(mm, "signature"), JSON.stringify([mm.migrate_ma_disabled, mm.signature]));
}
// Malformed input fails a check instead of throwing.
for (const [name, answer] of [["garbage report", {runtime_data: "e30", evidence: {report: "AAAA"}}],
                              ["no evidence", {runtime_data: "e30"}],
                              ["truncated VCEK", realAnswer(report, vcek.slice(0, 100))],
                              ["runtime data not JSON", {runtime_data: "AAAA", evidence: {report: b64url(report)}}]]) {
  const r = await V.verifyAnswer(answer, {nonce: "n", measurements: [measurement], now: when});
  expect("malformed: " + name, !r.accepted && r.checks.some((c) => !c.passed), JSON.stringify(r.checks));
}
// Simulated evidence from the live dev server.
{
  const sim = JSON.parse(fs.readFileSync(simAnswerPath, "utf8"));
  const good = await V.verifyAnswer(sim, {nonce: simNonce, measurements: [simMeasurement], allowSimulated: true});
  expect("simulated: accepted only as simulated", good.accepted && good.simulated && good.measurement === simMeasurement,
         JSON.stringify(good.checks));
  const strict = await V.verifyAnswer(sim, {nonce: simNonce, measurements: [simMeasurement], allowSimulated: false});
  expect("simulated: refused unless allowed", !strict.accepted && !byName(strict).certificate_chain.passed, JSON.stringify(strict.checks));
  const stale = await V.verifyAnswer(sim, {nonce: "another-nonce-000000", measurements: [simMeasurement], allowSimulated: true});
  expect("simulated: another nonce is refused", !stale.accepted && !byName(stale).nonce_binding.passed, JSON.stringify(stale.checks));
  const bytes = Buffer.from(sim.evidence.report, "base64url");
  bytes[32 + 0x90] ^= 1;
  const forged = {...sim, evidence: {...sim.evidence, report: b64url(bytes)}};
  const f = await V.verifyAnswer(forged, {nonce: simNonce, measurements: [hexOf(bytes.slice(32 + 0x90, 32 + 0xC0))], allowSimulated: true});
  expect("simulated: an edited measurement breaks the self-signature", !f.accepted && !byName(f).signature.passed, JSON.stringify(f.checks));
  const foreignModel = byName(await V.verifyAnswer(sim, {nonce: simNonce, measurements: [simMeasurement], models: ["00".repeat(32)], allowSimulated: true}));
  expect("simulated: a foreign model pin is refused", fails(foreignModel, "model_allowed"), JSON.stringify(foreignModel.model_allowed));

  // The live server's simulated report, re-signed by a fresh key after `edit` and with REPORT_DATA
  // binding `runtime`: every check but the one an edit targets can pass.
  const resigned = async (runtime, edit = () => {}) => {
    const ev = Buffer.from(sim.evidence.report, "base64url");
    const magic = ev.subarray(0, 32), rep = new Uint8Array(ev.subarray(32, 32 + 0x4A0));
    rep.set(createHash("sha256").update(runtime).digest(), 0x50);
    rep.fill(0, 0x70, 0x90);
    edit(rep);
    const keys = await webcrypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-384"}, true, ["sign"]);
    const pub = new Uint8Array(await webcrypto.subtle.exportKey("raw", keys.publicKey));
    const sig = new Uint8Array(await webcrypto.subtle.sign({name: "ECDSA", hash: "SHA-384"}, keys.privateKey,
                                                          Buffer.concat([magic, rep.subarray(0, 0x2A0), pub])));
    rep.fill(0, 0x2A0);
    for (let i = 0; i < 48; i++) {  // r and s little-endian in 72-byte fields
      rep[0x2A0 + i] = sig[47 - i];
      rep[0x2A0 + 72 + i] = sig[95 - i];
    }
    return {...sim, runtime_data: b64url(runtime), evidence: {...sim.evidence, report: b64url(Buffer.concat([magic, rep, pub]))}};
  };
  const plain = sha256Hex("plaintext model"), sealed = sha256Hex("sealed model");
  const runtimeWith = (model) => Buffer.from(JSON.stringify({model, nonce: simNonce, purpose: "sealsum-serve-attestation-v1", tls_spki_sha256: null}));
  const withModel = await resigned(runtimeWith({sealed_sha256: sealed, sha256: plain}));
  const pinned = (models, extra = {}) => ({nonce: simNonce, measurements: [simMeasurement], models, allowSimulated: true, ...extra});
  const base = await V.verifyAnswer(withModel, pinned([]));
  expect("re-signed simulated: accepted, model read from the runtime data, no model check without pins",
         base.accepted && base.model.sha256 === plain && base.model.sealed === sealed && !byName(base).model_allowed, JSON.stringify(base.checks));
  for (const [what, pin] of [["plaintext sha256", plain], ["sealed_sha256", sealed]]) {
    const r = await V.verifyAnswer(withModel, pinned(["11".repeat(32), pin]));
    expect("model pin matching " + what + ": accepted", r.accepted && passes(byName(r), "model_allowed"), JSON.stringify(r.checks));
  }
  const other = await V.verifyAnswer(withModel, pinned([sha256Hex("another model")]));
  expect("a model pin matching neither digest: refused model_allowed",
         !other.accepted && fails(byName(other), "model_allowed") && other.checks.filter((c) => !c.passed).length === 1, JSON.stringify(other.checks));
  const devModel = await resigned(runtimeWith({sealed_sha256: null, sha256: plain}));
  const dm = await V.verifyAnswer(devModel, pinned([plain]));
  const dmOther = await V.verifyAnswer(devModel, pinned([sealed]));
  expect("plaintext --dev model (sealed_sha256 null): its sha256 pin accepted, another refused",
         dm.accepted && !dmOther.accepted && fails(byName(dmOther), "model_allowed"), JSON.stringify([dm.checks, dmOther.checks]));
  const noModel = await resigned(Buffer.from(JSON.stringify({nonce: simNonce, purpose: "sealsum-serve-attestation-v1", tls_spki_sha256: null})));
  const nm = await V.verifyAnswer(noModel, pinned([plain]));
  expect("runtime data without a model, model pinned: refused model_allowed",
         !nm.accepted && fails(byName(nm), "model_allowed") && /names no model/.test(byName(nm).model_allowed.detail), JSON.stringify(nm.checks));
  const badModel = await V.verifyAnswer(await resigned(runtimeWith({sealed_sha256: null, sha256: "abc"})), pinned([]));
  expect("a malformed model member fails instead of passing", !badModel.accepted && fails(byName(badModel), "parse"),
         JSON.stringify(badModel.checks));
  const v1 = await V.verifyAnswer(await resigned(runtimeWith({sealed_sha256: null, sha256: plain}), (rep) => { rep[0x30] = 1; }), pinned([plain]));
  expect("re-signed simulated at VMPL 1: only vmpl fails",
         !v1.accepted && v1.checks.filter((c) => !c.passed).map((c) => c.name).join() === "vmpl", JSON.stringify(v1.checks));
  const mig = await V.verifyAnswer(await resigned(runtimeWith({sealed_sha256: null, sha256: plain}), (rep) => { rep[0x0A] |= 0x04; }), pinned([plain]));
  expect("re-signed simulated with MIGRATE_MA: only migrate_ma_disabled fails",
         !mig.accepted && mig.checks.filter((c) => !c.passed).map((c) => c.name).join() === "migrate_ma_disabled", JSON.stringify(mig.checks));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
