// The web page's attestation verifier (see server/web_page.h), in JavaScript on WebCrypto. The page
// inlines this file (index.html's SEALSUM_VERIFY_JS marker); tests/web/verify_test.mjs runs this
// file under Node against the real SEV-SNP fixtures.
//
// What it checks, for GET /v1/attestation's answer (server/serve_attest.h), with the user's pins
// (expect: measurements, hostData, models; the same client policy semantics as `sealsum verify`):
//   report_format        1184-byte SNP report, version >= 2, SIGNATURE_ALGO 1 (ECDSA P-384/SHA-384)
//   signature            real: the report's ECDSA signature under the VCEK/VLEK public key;
//                        simulated: the self-signature under the key the evidence carries (which
//                        proves nothing about hardware; see secure/attest/simulated.h)
//   certificate_chain    real: VCEK/VLEK <- ASK/ASVK <- ARK, each RSASSA-PSS/SHA-384 (salt 48),
//                        each valid now, and the ARK's SubjectPublicKeyInfo hashes to one of AMD's
//                        roots in ARK_PINS (filled from secure/attest/amd_roots.inc, as certs.cpp is)
//   debug_disallowed     POLICY bit 19 (DEBUG) clear
//   migrate_ma_disabled  POLICY bit 18 (MIGRATE_MA) clear
//   vmpl                 VMPL = 0 (the maximum the client policy allows)
//   report_data_binding  REPORT_DATA = SHA-256(runtime data) || 32 zero bytes
//   nonce_binding        the runtime data names the nonce this page just drew
//   measurement_allowed  MEASUREMENT is in the user's pinned list
//   host_data_pinned     when the evidence carries an Azure UVM endorsement or a non-zero HOST_DATA:
//                        HOST_DATA pins are given (on ACI the MEASUREMENT is Microsoft's utility VM,
//                        not the workload); the same rule as secure/attest/verifier_checks.cpp
//   host_data_allowed    only with HOST_DATA pins: HOST_DATA (report offset 0xC0) is one of them
//   model_allowed        only with model pins: the runtime data's model.sha256 or model.sealed_sha256
//                        is one of them (without pins the page warns that the model is not pinned)
// Not checked here: the TCB against the VCEK's extensions, a minimum TCB, the UVM endorsement's
// COSE signature and its MEASUREMENT (its presence, like a non-zero HOST_DATA, only makes a HOST_DATA
// pin mandatory), and the TLS key of the connection: a page cannot see it, so it cannot tell a relay
// from the server.
// Parsers are bounded: every DER length is checked against its buffer and a malformed input
// (including a malformed model member) fails a check instead of throwing.
const SealsumVerify = (() => {
  "use strict";
  const REPORT_SIZE = 0x4A0, SIGNED = 0x2A0, SIM_MAGIC = "SEALSUM-SIMULATED-TEE-EVIDENCE-1";
  // SHA-256 of each pinned ARK's SubjectPublicKeyInfo (hex) -> product. The marker is replaced when
  // the page is assembled (server/web_page.cpp) by the pins of secure/attest/amd_roots.inc, the ones
  // the C++ verifier uses; this file itself pins nothing, so unfilled it trusts no root.
  const ARK_PINS = {/*@SEALSUM_AMD_ROOTS@*/};
  const subtle = globalThis.crypto.subtle;
  const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, "0")).join("");
  function b64ToBytes(s) {
    s = s.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    const bin = atob(s);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }
  const sha = async (alg, u8) => new Uint8Array(await subtle.digest(alg, u8));
  const isHex = (s, digits) => typeof s === "string" && s.length === digits && /^[0-9a-f]+$/.test(s);
  // The user's pins, lower-cased; `bad` names the first one that is not `digits` hex digits.
  function pinList(list, digits) {
    const pins = (list || []).map((p) => String(p).trim().toLowerCase()).filter((p) => p !== "");
    return {pins, bad: pins.find((p) => !isHex(p, digits))};
  }
  // The runtime data's model member as {sha256, sealed}, or null when absent (a server that
  // predates model binding); throws on a malformed member.
  function modelOf(rd) {
    if (rd.model === undefined) return null;
    const m = rd.model;
    if (!m || typeof m !== "object" || !isHex(m.sha256, 64) || !(m.sealed_sha256 === null || isHex(m.sealed_sha256, 64))) {
      throw new Error("runtime data: malformed model member");
    }
    return {sha256: m.sha256, sealed: m.sealed_sha256};
  }

  // One DER TLV at `off` of `buf`: {tag, start, body, end}; throws on anything that overruns `limit`.
  function tlv(buf, off, limit = buf.length) {
    if (off + 2 > limit) throw new Error("DER: truncated header");
    const tag = buf[off];
    let len = buf[off + 1], body = off + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n < 1 || n > 3 || body + n > limit) throw new Error("DER: bad length");
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[body + i];
      body += n;
    }
    if (body + len > limit) throw new Error("DER: length past the end");
    return {tag, start: off, body, end: body + len};
  }
  function children(buf, node) {
    const out = [];
    for (let off = node.body; off < node.end;) {
      const c = tlv(buf, off, node.end);
      out.push(c);
      off = c.end;
    }
    return out;
  }
  function derTime(buf, node) {
    const s = new TextDecoder().decode(buf.slice(node.body, node.end));
    const m = node.tag === 0x17 ? /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s)
                                : /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw new Error("DER: bad time");
    let y = parseInt(m[1], 10);
    if (node.tag === 0x17) y += y < 50 ? 2000 : 1900;
    return new Date(Date.UTC(y, m[2] - 1, m[3], m[4], m[5], m[6]));
  }
  // An X.509 certificate's signed bytes, signature, validity and SubjectPublicKeyInfo.
  function certificate(der) {
    const top = tlv(der, 0);
    if (top.tag !== 0x30 || top.end !== der.length) throw new Error("certificate: not one DER SEQUENCE");
    const [tbs, , sig] = children(der, top);
    if (!tbs || !sig || sig.tag !== 0x03) throw new Error("certificate: malformed");
    const f = children(der, tbs);
    const i = f.length > 0 && f[0].tag === 0xA0 ? 1 : 0;  // optional [0] version
    if (f.length < i + 6) throw new Error("certificate: TBSCertificate too short");
    const validity = children(der, f[i + 3]);
    if (validity.length !== 2) throw new Error("certificate: malformed validity");
    const spki = f[i + 5];
    return {tbs: der.slice(tbs.start, tbs.end), signature: der.slice(sig.body + 1, sig.end),
            notBefore: derTime(der, validity[0]), notAfter: derTime(der, validity[1]),
            spki: der.slice(spki.start, spki.end)};
  }
  function pemCertificates(text) {
    const out = [];
    const re = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g;
    for (let m; (m = re.exec(text || "")) !== null;) out.push(b64ToBytes(m[1]));
    return out;
  }
  async function pssVerifies(issuerSpki, cert) {
    const key = await subtle.importKey("spki", issuerSpki, {name: "RSA-PSS", hash: "SHA-384"}, false, ["verify"]);
    return subtle.verify({name: "RSA-PSS", saltLength: 48}, key, cert.signature, cert.tbs);
  }
  // SNP signatures: r and s as 72-byte little-endian fields; WebCrypto wants 48-byte big-endian r || s.
  function p1363(report) {
    const out = new Uint8Array(96);
    for (let i = 0; i < 48; i++) {
      out[47 - i] = report[SIGNED + i];
      out[95 - i] = report[SIGNED + 72 + i];
    }
    return out;
  }
  async function ecdsaVerifies(format, keyBytes, report, message) {
    const key = await subtle.importKey(format, keyBytes, {name: "ECDSA", namedCurve: "P-384"}, false, ["verify"]);
    return subtle.verify({name: "ECDSA", hash: "SHA-384"}, key, p1363(report), message);
  }

  async function chainCheck(evidence, now) {
    if (!evidence.signing_cert) return [false, "the evidence carries no VCEK/VLEK certificate"];
    // signing_cert is base64url of the certificate file's bytes: DER, or PEM text (Azure's host JSON).
    const raw = b64ToBytes(evidence.signing_cert);
    const text = new TextDecoder().decode(raw.slice(0, 11));
    const signing = text === "-----BEGIN " ? pemCertificates(new TextDecoder().decode(raw))[0] : raw;
    const chain = pemCertificates(evidence.cert_chain);
    if (!signing || chain.length !== 2) return [false, "expected a VCEK/VLEK and an ASK/ASVK + ARK chain"];
    const [leaf, ask, ark] = [certificate(signing), certificate(chain[0]), certificate(chain[1])];
    const product = ARK_PINS[hex(await sha("SHA-256", ark.spki))];
    if (!product) return [false, "the ARK is not one of AMD's pinned roots", null];
    for (const [name, c] of [["ARK", ark], ["ASK", ask], ["VCEK", leaf]]) {
      if (now < c.notBefore || now > c.notAfter) return [false, name + " is not valid at " + now.toISOString()];
    }
    if (!(await pssVerifies(ark.spki, ark))) return [false, "the ARK's self-signature does not verify"];
    if (!(await pssVerifies(ark.spki, ask))) return [false, "the ASK is not signed by the ARK"];
    if (!(await pssVerifies(ask.spki, leaf))) return [false, "the VCEK is not signed by the ASK"];
    return [true, "VCEK <- ASK <- ARK-" + product + " (pinned)", leaf.spki];
  }

  // answer: the parsed /v1/attestation body; expect: {nonce, measurements: [96 hex], hostData:
  // [64 hex], models: [64 hex], allowSimulated, now}. Never throws: a failure is a failed check.
  async function verifyAnswer(answer, expect) {
    const checks = [];
    const check = (name, passed, detail) => checks.push({name, passed: !!passed, detail});
    const result = {accepted: false, simulated: false, measurement: "", hostData: "", model: null, tlsKey: null, checks};
    try {
      const runtime = b64ToBytes(answer.runtime_data);
      const rd = JSON.parse(new TextDecoder().decode(runtime));
      result.tlsKey = rd.tls_spki_sha256 || null;
      result.model = modelOf(rd);
      let bytes = b64ToBytes(answer.evidence.report);
      const simulated = new TextDecoder().decode(bytes.slice(0, 32)) === SIM_MAGIC;
      let pub = null;
      if (simulated) {
        pub = bytes.slice(32 + REPORT_SIZE);
        bytes = bytes.slice(32, 32 + REPORT_SIZE);
      }
      result.simulated = simulated;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const formatOk = bytes.length === REPORT_SIZE && view.getUint32(0, true) >= 2 && view.getUint32(0x34, true) === 1 &&
                       (!simulated || pub.length === 97);
      check("report_format", formatOk, formatOk ? "SNP report v" + view.getUint32(0, true) : "not an SNP report");
      if (!formatOk) return result;
      result.measurement = hex(bytes.slice(0x90, 0xC0));
      const signed = bytes.slice(0, SIGNED);
      if (simulated) {
        const msg = new Uint8Array([...new TextEncoder().encode(SIM_MAGIC), ...signed, ...pub]);
        check("signature", await ecdsaVerifies("raw", pub, bytes, msg), "self-signed SIMULATED evidence");
        check("certificate_chain", expect.allowSimulated,
              expect.allowSimulated ? "none: SIMULATED evidence accepted for development only"
                                    : "SIMULATED evidence has no AMD certificate chain");
      } else {
        const [ok, detail, leafSpki] = await chainCheck(answer.evidence, expect.now || new Date());
        check("certificate_chain", ok, detail);
        const sigOk = ok && await ecdsaVerifies("spki", leafSpki, bytes, signed);
        check("signature", sigOk, sigOk ? "ECDSA P-384 under the VCEK" : "not verified");
      }
      const policy = view.getUint32(0x08, true);  // POLICY's low 32 bits hold both flags
      const debug = (policy >>> 19) & 1, migrate = (policy >>> 18) & 1;
      check("debug_disallowed", !debug, debug ? "the guest policy allows debugging" : "debug off");
      check("migrate_ma_disabled", !migrate,
            migrate ? "POLICY bit 18 (MIGRATE_MA) is set: a migration agent could export the guest" : "no migration agent");
      const vmpl = view.getUint32(0x30, true);
      check("vmpl", vmpl === 0, vmpl === 0 ? "VMPL 0"
            : "VMPL " + vmpl + ": the report comes from a less privileged level than 0, the most the policy allows");
      const digest = await sha("SHA-256", runtime);
      const reportData = bytes.slice(0x50, 0x90);
      const bound = hex(reportData.slice(0, 32)) === hex(digest) && reportData.slice(32).every((b) => b === 0);
      check("report_data_binding", bound, bound ? "REPORT_DATA = SHA-256(runtime data)" : "REPORT_DATA does not bind the runtime data");
      check("nonce_binding", rd.nonce === expect.nonce, rd.nonce === expect.nonce ? "answers this page's nonce" : "stale or foreign nonce");
      const pins = (expect.measurements || []).map((m) => m.toLowerCase());
      check("measurement_allowed", pins.includes(result.measurement),
            pins.length === 0 ? "no measurement pinned" : pins.includes(result.measurement) ? "pinned" : "not in the pinned list");
      result.hostData = hex(bytes.slice(0xC0, 0xE0));
      const host = pinList(expect.hostData, 64);
      const hostDataSet = /[^0]/.test(result.hostData);
      if (answer.evidence.uvm_endorsement || hostDataSet) {
        check("host_data_pinned", host.pins.length > 0, host.pins.length > 0
              ? "HOST_DATA pinned"
              : (answer.evidence.uvm_endorsement
                  ? "evidence comes from Azure Container Instances, where MEASUREMENT is Microsoft's utility VM shared by " +
                    "every container group"
                  : "the report carries HOST_DATA " + result.hostData) +
                "; pin HOST_DATA (sealsum policy hostdata)");
      }
      if (host.pins.length > 0) {
        const ok = !host.bad && host.pins.includes(result.hostData);
        check("host_data_allowed", ok, host.bad ? "HOST_DATA pin " + host.bad + " is not 64 hex digits"
              : "HOST_DATA " + result.hostData + (ok ? " is pinned" : " is not in the pinned list"));
      }
      const models = pinList(expect.models, 64), m = result.model;
      if (models.pins.length > 0) {
        const hit = m && models.pins.find((p) => p === m.sha256 || p === m.sealed);
        check("model_allowed", !models.bad && hit,
              models.bad ? "model pin " + models.bad + " is not 64 hex digits"
              : !m ? "the runtime data names no model, so the server does not prove which model reads the document"
              : hit ? "model " + (hit === m.sha256 ? "sha256 " : "sealed_sha256 ") + hit + " is pinned"
              : "model sha256 " + m.sha256 + (m.sealed ? ", sealed_sha256 " + m.sealed : "") + " is not in the pinned list");
      }
    } catch (e) {
      check("parse", false, "malformed attestation answer: " + e.message);
    }
    result.accepted = checks.length > 0 && checks.every((c) => c.passed);
    return result;
  }
  return {verifyAnswer, certificate, tlv};
})();
if (typeof module !== "undefined") module.exports = SealsumVerify;
