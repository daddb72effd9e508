#!/usr/bin/env python3
"""Writes the libFuzzer seed corpora: OUT_DIR/<target>/<name>, one directory per *_fuzz target.

Usage: tests/fuzz/seeds.py OUT_DIR        (run by tools/fuzz.sh; stdlib only)

Seeds are of two kinds:
  - built here from scratch: small, well-formed inputs of each format (a minimal sentencepiece
    ModelProto, a safetensors file, a torch-style zip, a pickle, CBOR, JSON requests, key files,
    ...), so each fuzzer starts past its parser's first checks;
  - copied at run time from the shared fixtures ($SEALSUM_FIXTURES, else ../shared beside the
    repository), when present: real attestation reports, certificates, configs, small tokenizers and
    a tiny checkpoint. Nothing from the fixtures is ever stored in the repository. A missing fixture
    directory is an error (the fuzz stage runs where the fixtures are, like the tests).

Seed files are kept small (the biggest fixtures, e.g. the 2 MB tokenizer.json files, are left out)
because libFuzzer's default -max_len follows the largest seed and large inputs slow every run.
The corpora directories are then grown by the fuzzers themselves; they live in the build directory.
"""
import base64
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile

MAX_SEED = 256 << 10  # fixture files above this are not used as seeds


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: seeds.py OUT_DIR", file=sys.stderr)
        return 2
    out = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    fixtures = os.environ.get("SEALSUM_FIXTURES") or os.path.join(root, "..", "shared")
    if not os.path.isdir(fixtures):
        print(f"seeds.py: fixtures directory {fixtures} not found; set SEALSUM_FIXTURES", file=sys.stderr)
        return 1
    counts = {}

    def put(target: str, name: str, data) -> None:
        if isinstance(data, str):
            data = data.encode()
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1

    def fx(rel: str) -> bytes:
        """A fixture's bytes; a missing one is an error (the fixture set is fixed)."""
        p = os.path.join(fixtures, rel)
        with open(p, "rb") as f:
            data = f.read()
        if len(data) > MAX_SEED:
            raise SystemExit(f"seeds.py: fixture {rel} is {len(data)} bytes, over the seed limit")
        return data

    # ---- tools/cli/bench_corpus ------------------------------------------------------------------
    put("bench_corpus_fuzz", "lines.jsonl", '{"id": "a", "document": "One. Two."}\n\n{"document": "x\\n\\u00e9"}\r\n')
    put("bench_corpus_fuzz", "bad.jsonl", '{"document": 1}\n["document"]\n{"document": "open')

    # ---- tokenizer/ --------------------------------------------------------------------------
    spm = spm_model_proto(["<pad>", "</s>", "<unk>", "\u2581", "\u2581Hello", "\u2581w", "or", "ld", "x",
                           "<extra_id_0>", "a", "b"])
    put("spm_proto_fuzz", "minimal.model", spm)
    put("spm_proto_fuzz", "charsmap.model", spm_model_proto(["<pad>", "</s>", "<unk>", "\u2581a"], charsmap=b"\x00" * 8))

    uni_json = {
        "added_tokens": [{"id": 0, "content": "<pad>", "special": True}, {"id": 1, "content": "</s>", "special": True},
                         {"id": 2, "content": "<unk>", "special": True}],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Replace", "pattern": {"String": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True},
        "post_processor": {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}},
                                                                    {"SpecialToken": {"id": "</s>", "type_id": 0}}]},
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True},
        "model": {"type": "Unigram", "unk_id": 2, "vocab": [["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["\u2581", -2.0],
                                                            ["\u2581Hello", -3.0], ["w", -4.0], ["rld", -4.5], ["x", -5.0]]},
    }
    put("unigram_json_fuzz", "minimal.json", json.dumps(uni_json))

    for i, text in enumerate(corpus_texts(fixtures, 6)):
        put("unigram_encode_fuzz", f"text{i}.txt", text)
        put("bpe_fuzz", f"text{i}.txt", b"\x02" + text.encode())
        put("normalizer_fuzz", f"text{i}.txt", b"\x07" + text.encode())
    put("unigram_encode_fuzz", "specials.txt", "<extra_id_0> </s> <pad> \u00e9\u0301 \uff21 \t\n  x")
    put("bpe_fuzz", "tiny-random-bart.json", b"\x00" + fx("models/tiny-random-bart/tokenizer.json"))
    put("bpe_fuzz", "tiny-random-bart.vocab-merges", b"\x01" + fx("models/tiny-random-bart/vocab.json") + b"\x00" +
        fx("models/tiny-random-bart/merges.txt"))
    put("bpe_fuzz", "small.vocab-merges", b"\x01" + b'{"a":0,"b":1,"ab":2,"\\u0120":3}\x00#version: 0.2\na b\n')
    put("bpe_fuzz", "specials.txt", b"\x02" + "<s>x</s> <mask> don't . ? \u00e9\xf0\x9f\x98\x80".encode() + b"\xff")
    put("normalizer_fuzz", "charsmap-split", bytes([0x80 | 7]) + struct.pack("<I", 4) + b"\x00" * 12 + b"abc  \xef\xbc\xa1")

    # ---- secure/ -----------------------------------------------------------------------------
    put("keys_fuzz", "jwk.json", '{"kty":"oct","alg":"A256GCM","kid":"acme-docs-2026","k":"' + "A" * 42 + 'E"}')
    put("keys_fuzz", "jwk-min.json", '{ "k" : "' + "_-" * 21 + 'A" , "kid":"sha256:0123456789abcdef"}')
    put("encoding_fuzz", "std-padded", b"\x00Zm9vYmE=")
    put("encoding_fuzz", "url-canonical", bytes([1 + 3 + 27]) + b"-_-_Zm9vYg")
    put("encoding_fuzz", "pem-lines", bytes([2 + 9]) + b"Zm9v\r\nYmFy\n")
    put("encoding_fuzz", "hex", b"\x00" + b"00ff7Fab")
    put("sealed_header_fuzz", "hello", "hello, world")
    put("sealed_header_fuzz", "bytes", bytes(range(256)))
    put("output_seal_fuzz", "plaintext.json", '{"mode":"plaintext"}')
    put("output_seal_fuzz", "sealed.json", '{"mode":"sealed","consumer":"auditor","key":{"kty":"OKP","crv":"X25519",'
        '"x":"' + "A" * 43 + '"}}')
    put("output_seal_fuzz", "sealed-output.json", '{"v":1,"consumer":"fuzz","epk":{"kty":"OKP","crv":"X25519","x":"'
        + "B" * 43 + '"},"iv":"AAAAAAAAAAAAAAAA","ct":"AAAA","tag":"AAAAAAAAAAAAAAAAAAAAAA"}')

    put("report_fuzz", "milan.hex", fx("attestation/virtee-milan/report_milan.hex"))
    put("report_fuzz", "aci-milan.bin", fx("attestation/azure-aci-milan/snp_report.bin"))
    put("cert_fuzz", "vcek_milan.der", fx("attestation/virtee-milan/vcek_milan.der"))
    put("cert_fuzz", "cert_chain_milan", fx("attestation/virtee-milan/cert_chain_milan"))
    for gen in ("milan", "genoa", "turin"):
        put("cert_fuzz", f"ask_{gen}.pem", fx(f"attestation/amd-roots/{gen}/ask.pem"))
    put("cert_fuzz", "host_amd_certificate.json", fx("attestation/azure-aci-milan/uvm_host_amd_certificate.json"))
    # Chain bundles in other orders and with another product's certificates (the leaf is the first one).
    milan = {w: fx(f"attestation/amd-roots/milan/{w}.pem") for w in ("ark", "ask")}
    genoa = {w: fx(f"attestation/amd-roots/genoa/{w}.pem") for w in ("ark", "ask")}
    put("cert_fuzz", "bundle_ark_ask", milan["ark"] + milan["ask"])
    put("cert_fuzz", "bundle_mixed", genoa["ark"] + milan["ask"] + genoa["ask"] + milan["ark"] + milan["ask"])
    put("policy_fuzz", "empty.json", "{}")
    put("policy_fuzz", "strict.json", json.dumps({
        "allow_debug": False, "max_vmpl": 0, "min_report_version": 2, "min_guest_svn": 2,
        "min_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115, "fmc": 0},
        "measurements": ["51068107cdc7ee3d89c7821b05bca6147eb77b2005ae759050fc049b65a1b0beabc65a9d857acecf23225f5ec76849f5"],
        "host_data": ["cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c"],
        "report_data": "00" * 64, "require_runtime_data": True, "require_uvm_endorsement": True,
        "uvm_feed": "ContainerPlat-AMD-UVM", "allow_vlek": False}))
    put("policy_fuzz", "bad.json", '{"measurements": ["zz"], "min_tcb": {"snp": 300}, "unknown": 1}')
    put("cose_fuzz", "uvm_reference_info.bin", fx("attestation/azure-aci-milan/body.uvm_reference_info.bin"))
    put("cose_fuzz", "maa-request.json", fx("attestation/azure-cleanroom-maa/maa-request.json"))
    put("cose_fuzz", "cbor-map", cbor_sample())
    put("keyrelease_fuzz", "runtime_data.json", b"\x01" + fx("attestation/azure-aci-milan/runtime_data.json"))
    put("keyrelease_fuzz", "jwks", b"\x01" + fx("attestation/azure-cleanroom-maa/public-key-jwks"))
    put("keyrelease_fuzz", "refusal.json", b"\x02" + b'{"error":"policy","message":"measurement not allowed"}')
    put("keyrelease_fuzz", "policy.json", b"\x03" + b'{"version":"1.0.0","anyOf":[{"authority":"https://maa.example",'
        b'"allOf":[{"claim":"x-ms-sevsnpvm-is-debuggable","equals":"false"}]}]}')
    put("keyrelease_fuzz", "jws", b"\x04" + b"eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln")
    put("keyrelease_fuzz", "akv.json", b"\x05" + b'{"value":"eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.c2ln"}')
    put("keyrelease_fuzz", "request.json", b"\x00" + b'{"kid":"acme-docs-2026","evidence":"AAAA","nonce":"abc"}')

    # CCE policies: the shared allow-all ones (base64 and decoded), the repository's safe sample and
    # small hand-made ones reaching the scanner's corners (raw strings, escapes, bodies, else, sets).
    aci_policy = fx("attestation/azure-aci-milan/uvm_security_policy.base64")
    put("cce_policy_fuzz", "aci.base64", aci_policy)
    put("cce_policy_fuzz", "aci.rego", base64.b64decode(aci_policy))
    for line in fx("attestation/azure-cleanroom-maa/values.txt").decode().splitlines():
        if line.startswith("ccepolicy: "):
            put("cce_policy_fuzz", "cleanroom.base64", line[len("ccepolicy: "):])
    with open(os.path.join(root, "tests", "fixtures", "cce", "safe_policy.rego"), "rb") as f:
        safe = f.read()
    put("cce_policy_fuzz", "safe.rego", safe)
    put("cce_policy_fuzz", "safe.base64", base64.encodebytes(safe))
    put("cce_policy_fuzz", "corners.rego", 'package policy\nimport future.keywords.in\n# c\napi_svn := "0.1.0"\n'
        'default exec_in_container := {"allowed": false}\nexec_in_container := {"allowed": true} { input.x == 1 }'
        ' else := false\nx := {`raw\nkey`: [1, -2.5e3, null, {"a\\u005f": true},], "s": {1, 2}}\n'
        'containers := [{"exec_processes": [c | c := data.x[_]], "allow_elevated": true}]\n'
        'exec_external.allowed := true\ny[z] { z := f(1) }\n  + 1\n')

    # ---- weights/, engine/ -------------------------------------------------------------------
    t5cfg = fx("models/t5/flan-t5-small.config.json")
    bartcfg = fx("models/bart/distilbart-cnn-6-6.config.json")
    put("model_config_fuzz", "t5.json", b"\x00" + t5cfg)
    put("model_config_fuzz", "bart.json", b"\x01" + bartcfg)
    put("model_config_fuzz", "tiny-t5.json", b"\x00" + fx("models/tiny-random-t5/config.json"))
    put("model_config_fuzz", "tiny-bart.json", b"\x01" + fx("models/tiny-random-bart/config.json"))
    put("generation_config_fuzz", "flan-t5", halves(t5cfg, fx("models/t5/flan-t5-small.generation_config.json")))
    put("generation_config_fuzz", "distilbart", halves(bartcfg, fx("models/bart/distilbart-cnn-6-6.generation_config.json")))
    put("generation_config_fuzz", "t5-small", halves(fx("models/t5/t5-small.config.json"), b"{}"))
    body = model_file_sample(json.loads(fx("models/tiny-random-t5/config.json")))
    put("model_file_fuzz", "tiny-t5.body", body)  # the target appends the SHA-256 trailer itself
    put("model_file_fuzz", "tiny-t5.sealsum", body + hashlib.sha256(body).digest())

    # ---- tools/convert/ ----------------------------------------------------------------------
    put("safetensors_fuzz", "two-tensors", safetensors_sample())
    put("safetensors_fuzz", "empty-header", struct.pack("<Q", 2) + b"{}")
    ckpt = fx("models/tiny-random-bart/pytorch_model.bin")
    put("zip_fuzz", "tiny-random-bart.bin", ckpt)
    put("zip_fuzz", "synthetic.zip", torch_zip_sample())
    with zipfile.ZipFile(io.BytesIO(ckpt)) as z:
        put("pickle_fuzz", "tiny-random-bart.pkl", z.read("pytorch_model/data.pkl"))
    put("pickle_fuzz", "synthetic.pkl", torch_pickle_sample())

    # ---- server/ -----------------------------------------------------------------------------
    put("serve_api_fuzz", "text.json", '{"text":"The warning begins at 22:00 GMT.","num_beams":4,"max_length":64,'
        '"min_length":5,"length_penalty":2.0,"no_repeat_ngram_size":3,"early_stopping":true,"truncate":false}')
    put("serve_api_fuzz", "document.json", '{"document":"doc-1","max_new_tokens":32,"repetition_penalty":1.2,'
        '"early_stopping":"never"}')
    put("serve_api_fuzz", "envelope", 'SEALSUM-DOCUMENT-V1\n{"mode":"plaintext"}\nSome text.')
    put("serve_api_fuzz", "measurements", ",".join(["ab" * 48, "00" * 48]))
    put("batch_fuzz", "plain.json", '{"format":"sealsum-summary-v1","document":"doc-1","summary":"A summary.",'
        '"truncated":false}')
    b64 = lambda n: base64.urlsafe_b64encode(bytes(range(n))).decode().rstrip("=")
    put("batch_fuzz", "sealed.json", json.dumps({"format": "sealsum-summary-v1", "document": "doc-1", "sealed_summary": {
        "alg": "X25519-HKDF-SHA256-A256GCM", "consumer": "auditor", "context": "document:doc-1", "epk": b64(32),
        "iv": b64(12), "ciphertext": b64(256), "tag": b64(16), "padding": "bucket-v1"}}))

    for t in sorted(counts):
        print(f"seeds: {t}: {counts[t]}")
    return 0


def corpus_texts(fixtures: str, n: int):
    """The first n documents of the XSum sample, cut to 1 KiB each."""
    texts = []
    with open(os.path.join(fixtures, "corpus", "xsum-sample.jsonl"), encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["document"][:1024])
            if len(texts) == n:
                break
    return texts


def halves(a: bytes, b: bytes) -> bytes:
    """Pads a and b with JSON whitespace to one length so generation_config_fuzz's split falls between them."""
    n = max(len(a), len(b))
    return a + b" " * (n - len(a)) + b + b" " * (n - len(b))


def pb_varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_field(num: int, wire: int, payload: bytes) -> bytes:
    key = pb_varint((num << 3) | wire)
    if wire == 2:
        return key + pb_varint(len(payload)) + payload
    return key + payload


def spm_model_proto(pieces, charsmap: bytes = b"") -> bytes:
    """A sentencepiece ModelProto: pieces (1: piece, 2: score, 3: type), trainer_spec (2) with the
    unigram model type and special ids, normalizer_spec (3) with name / charsmap / dummy prefix."""
    out = bytearray()
    for i, p in enumerate(pieces):
        typ = 2 if p == "<unk>" else 3 if p in ("<pad>", "</s>") else 4 if p.startswith("<extra") else 1
        body = pb_field(1, 2, p.encode()) + pb_field(2, 5, struct.pack("<f", -float(i))) + pb_field(3, 0, pb_varint(typ))
        out += pb_field(1, 2, body)
    trainer = (pb_field(3, 0, pb_varint(1)) + pb_field(40, 0, pb_varint(2)) + pb_field(41, 0, pb_varint(0xFFFFFFFFFFFFFFFF))
               + pb_field(42, 0, pb_varint(1)) + pb_field(43, 0, pb_varint(0)))
    out += pb_field(2, 2, trainer)
    norm = pb_field(1, 2, b"nmt_nfkc") + pb_field(3, 0, pb_varint(1)) + pb_field(4, 0, pb_varint(1)) + pb_field(5, 0, pb_varint(1))
    if charsmap:
        norm += pb_field(2, 2, struct.pack("<I", len(charsmap)) + charsmap)
    out += pb_field(3, 2, norm)
    return bytes(out)


def model_file_sample(config) -> bytes:
    """A sealsum model file (weights/model_file.cpp's layout) without its SHA-256 trailer: preamble,
    sorted compact JSON header, data section of two 64-byte-aligned tensors and a tied alias."""
    tensors = [{"name": "shared.weight", "dtype": "f32", "shape": [2, 3], "offset": 0, "nbytes": 24},
               {"name": "tokenizer.spiece", "dtype": "u8", "shape": [5], "offset": 64, "nbytes": 5}]
    header = {"format": "sealsum-model", "version": 1, "architecture": "t5", "config": config,
              "generation_config": {}, "tokenizer": {"kind": "spm", "files": [{"name": "spiece.model",
                                                                               "tensor": "tokenizer.spiece"}]},
              "tensors": tensors, "aliases": {"lm_head.weight": "shared.weight"}, "source": {"seed": "tests/fuzz"}}
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    out = bytearray(b"SEALSUMM" + struct.pack("<IIQ", 1, 0, len(h)) + h)
    out += b"\x00" * (-len(out) % 64)
    data = bytearray(struct.pack("<6f", 1, 2, 3, 4, 5, 6))
    data += b"\x00" * (64 - len(data)) + b"hello"
    data += b"\x00" * (-len(data) % 64)
    return bytes(out + data)


def safetensors_sample() -> bytes:
    header = {"__metadata__": {"format": "pt"},
              "a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
              "b.bias": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]}}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + struct.pack("<6f", 1, 2, 3, 4, 5, 6) + b"\x00\x3c" * 4


def torch_pickle_sample() -> bytes:
    """A torch-style state dict pickle (protocol 2) built opcode by opcode: an OrderedDict of two
    tensors made by torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)."""
    P = pickle
    out = bytearray(P.PROTO + b"\x02")
    out += P.GLOBAL + b"collections\nOrderedDict\n" + P.EMPTY_TUPLE + P.REDUCE + P.BINPUT + b"\x00" + P.MARK

    def tensor(name: str, key: str, shape, stride):
        t = bytearray(P.BINUNICODE + struct.pack("<I", len(name)) + name.encode())
        t += P.GLOBAL + b"torch._utils\n_rebuild_tensor_v2\n" + P.MARK
        # persistent id tuple
        t += P.MARK + P.BINUNICODE + struct.pack("<I", 7) + b"storage"
        t += P.GLOBAL + b"torch\nFloatStorage\n"
        t += P.BINUNICODE + struct.pack("<I", len(key)) + key.encode()
        t += P.BINUNICODE + struct.pack("<I", 3) + b"cpu"
        n = 1
        for s in shape:
            n *= s
        t += P.BININT + struct.pack("<i", n) + P.TUPLE + P.BINPERSID
        t += P.BININT1 + b"\x00"
        t += P.MARK + b"".join(P.BININT + struct.pack("<i", s) for s in shape) + P.TUPLE
        t += P.MARK + b"".join(P.BININT + struct.pack("<i", s) for s in stride) + P.TUPLE
        t += P.NEWFALSE
        t += P.GLOBAL + b"collections\nOrderedDict\n" + P.EMPTY_TUPLE + P.REDUCE
        t += P.TUPLE + P.REDUCE
        return bytes(t)

    out += tensor("encoder.weight", "0", [2, 3], [3, 1])
    out += tensor("encoder.bias", "1", [3], [1])
    out += P.SETITEMS + P.STOP
    return bytes(out)


def torch_zip_sample() -> bytes:
    """A torch zip checkpoint: archive/data.pkl plus stored (uncompressed) storages archive/data/0, 1."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", torch_pickle_sample())
        z.writestr("archive/version", "3\n")
        z.writestr("archive/data/0", struct.pack("<6f", 1, 2, 3, 4, 5, 6))
        z.writestr("archive/data/1", struct.pack("<3f", 7, 8, 9))
    return buf.getvalue()


def cbor_sample() -> bytes:
    """A COSE_Sign1-shaped CBOR value: tag 18 [bstr(protected map), {}, bstr payload, bstr signature]."""
    protected = bytes([0xA1, 0x01, 0x38, 0x22])  # {1: -35} (ES384)
    return (bytes([0xD2, 0x84, 0x44]) + protected + bytes([0xA1, 0x04, 0x42]) + b"k1" + bytes([0x45]) + b"hello"
            + bytes([0x58, 0x60]) + b"\x00" * 96)


if __name__ == "__main__":
    sys.exit(main())
