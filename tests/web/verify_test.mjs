// The web page's attestation verifier (server/web_verify.cpp), run under Node's WebCrypto against
// real SEV-SNP evidence from the fixtures and simulated evidence from a live `sealsum serve --dev`.
//   node verify_test.mjs REPO_ROOT FIXTURES SIMULATED_ANSWER.json NONCE MEASUREMENT
// Prints one line per case and "N passed, N failed"; exits 1 on any failure.
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import {webcrypto} from "node:crypto";

const [root, fixtures, simAnswerPath, simNonce, simMeasurement] = process.argv.slice(2);
if (!globalThis.crypto) globalThis.crypto = webcrypto;
const source = fs.readFileSync(path.join(root, "server/web_verify.cpp"), "utf8");
const m = /R"SEALSUMJS\(([\s\S]*)\)SEALSUMJS"/.exec(source);
if (!m) throw new Error("no SEALSUMJS block in server/web_verify.cpp");
const sandbox = {globalThis: {crypto: globalThis.crypto}, atob, TextDecoder, TextEncoder, Uint8Array, DataView, Date,
                 module: {exports: null}};
vm.runInNewContext(m[1], sandbox);
const V = sandbox.module.exports;

let passed = 0, failed = 0;
function expect(name, cond, detail) {
  if (cond) passed++; else failed++;
  console.log((cond ? "ok   " : "FAIL ") + name + (cond ? "" : " :: " + detail));
}
const fx = (p) => fs.readFileSync(path.join(fixtures, p));
const b64url = (u8) => Buffer.from(u8).toString("base64url");
const byName = (r) => Object.fromEntries(r.checks.map((c) => [c.name, c]));
const hexOf = (u8) => Buffer.from(u8).toString("hex");

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
// Real evidence from Azure Container Instances, as `sealsum serve --host-amd-cert` sends it: the
// VCEK's PEM text (base64url) from the host certificate JSON, and the runtime data REPORT_DATA binds.
{
  const host = JSON.parse(fx("attestation/azure-aci-milan/uvm_host_amd_certificate.json"));
  const aci = new Uint8Array(fx("attestation/azure-aci-milan/snp_report.bin"));
  const answer = {runtime_data: b64url(fx("attestation/azure-aci-milan/runtime_data.json")),
                  evidence: {report: b64url(aci), signing_cert: b64url(Buffer.from(host.vcekCert)), cert_chain: host.certificateChain}};
  const r = byName(await V.verifyAnswer(answer, {nonce: undefined, measurements: [hexOf(aci.slice(0x90, 0xC0))], now: when}));
  for (const c of ["certificate_chain", "signature", "report_data_binding", "measurement_allowed"]) {
    expect("azure-aci-milan " + c, r[c] && r[c].passed, JSON.stringify(r[c]));
  }
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
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
