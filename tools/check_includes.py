#!/usr/bin/env python3
"""The include rules of README.md's "Layout", checked (ctest sealsum_include_rules).

  1. <openssl/...> only in secure/ (everywhere else: tests, tools, server). server/ reaches OpenSSL
     only through <httplib.h>, which is fine; anything else goes through secure/'s opaque APIs.
  2. <httplib.h> only in server/.
  3. One way down (production files; *_test.cpp, *_fuzz.cpp, *_testutil.h and *_testing.h are
     exempt from this rule only):
       engine/: kernels < ops < layers < models < decoding < the engine facade (engine/*.h|cpp);
                a layer includes only its own and lower layers; nothing of server/ or tools/
       common/: only common/
       tokenizer/, secure/: only themselves and common/ (nothing of engine/, server/, tools/,
                weights/, and not each other)
       weights/: nothing of engine/, server/, tools/
       server/: nothing of tools/
Usage: tools/check_includes.py [REPO_ROOT]   exit 1 and one line per violation when a rule is broken.
       tools/check_includes.py --self-test   checks the checker on a made-up tree with violations.
"""
import os
import re
import sys

# Known violations being fixed elsewhere. Each entry must still occur (the check fails when one no
# longer does, so the list is emptied as the fixes land). Empty: keep it that way.
EXPECTED_VIOLATIONS: set = set()

SCAN_DIRS = ["common", "tokenizer", "weights", "engine", "secure", "server", "tools", "tests"]
EXTS = (".cpp", ".h", ".inc", ".hpp", ".cc")
ENGINE_RANK = {"kernels": 0, "ops": 1, "layers": 2, "models": 3, "decoding": 4}
FACADE = 5
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def is_test(path):
    name = os.path.basename(path)
    return bool(re.search(r"_(test|fuzz)\.cpp$|_(testutil|testing)\.h$", name))


def engine_rank(path):
    parts = path.split("/")
    if parts[0] != "engine":
        return None
    if len(parts) == 2:
        return FACADE
    return ENGINE_RANK.get(parts[1], FACADE)


def layering(src, inc):
    """A reason string when `src` may not include project header `inc`, else None."""
    top, itop = src.split("/")[0], inc.split("/")[0]
    if top == "engine":
        if itop in ("server", "tools"):
            return "engine/ includes nothing of server/ or tools/"
        if itop == "engine":
            rs, ri = engine_rank(src), engine_rank(inc)
            if ri > rs:
                return "engine layers go one way: kernels < ops < layers < models < decoding < engine facade"
        return None
    if top == "common" and itop != "common":
        return "common/ includes only common/"
    if top in ("tokenizer", "secure") and itop not in (top, "common"):
        return f"{top}/ stands alone: it includes only {top}/ and common/"
    if top == "weights" and itop in ("engine", "server", "tools"):
        return "weights/ includes nothing of engine/, server/, tools/"
    if top == "server" and itop == "tools":
        return "server/ includes nothing of tools/"
    return None


def scan(root):
    violations = []
    seen_expected = set()
    for d in SCAN_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, d)):
            dirnames[:] = [x for x in dirnames if x not in ("node_modules",) and not x.startswith(".")]
            for fn in filenames:
                if not fn.endswith(EXTS):
                    continue
                full = os.path.join(dirpath, fn)
                src = os.path.relpath(full, root).replace(os.sep, "/")
                with open(full, encoding="utf-8", errors="replace") as fh:
                    for lineno, line in enumerate(fh, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        kind, inc = m.groups()
                        where = f"{src}:{lineno}: #include {kind}{inc}{'>' if kind == '<' else chr(34)}"
                        if kind == "<" and inc.startswith("openssl/") and not src.startswith("secure/"):
                            violations.append(f"{where}: OpenSSL only in secure/ (use secure/'s APIs; "
                                              "server/ gets TLS through httplib)")
                        if inc == "httplib.h" and not src.startswith("server/"):
                            violations.append(f"{where}: cpp-httplib only in server/")
                        if kind == '"' and not is_test(src):
                            reason = layering(src, inc)
                            if reason:
                                if (src, inc) in EXPECTED_VIOLATIONS:
                                    seen_expected.add((src, inc))
                                else:
                                    violations.append(f"{where}: {reason}")
    for src, inc in sorted(EXPECTED_VIOLATIONS - seen_expected):
        violations.append(f"{src}: no longer includes {inc}: remove it from EXPECTED_VIOLATIONS in "
                          "tools/check_includes.py")
    return violations


def self_test():
    """The checker on a made-up tree: every rule must fire, exemptions and expected entries must not."""
    import tempfile
    files = {
        "server/a.cpp": "#include <openssl/ssl.h>\n#include <httplib.h>\n",   # 1 (openssl)
        "tools/cli/b.cpp": "#include <httplib.h>\n",                          # 2
        "engine/ops/c.h": '#include "engine/layers/x.h"\n',                  # 3
        "secure/d.cpp": '#include "engine/engine.h"\n',                      # 4
        "tokenizer/e.cpp": '#include "secure/digest.h"\n',                   # 5
        "server/f.cpp": '#include "tools/cli/command.h"\n',                  # 6
        "engine/ops/c_test.cpp": '#include "engine/engine.h"\n',             # exempt (test)
        "engine/models/m.cpp": '#include "engine/layers/x.h"\n',             # fine (downward)
        "engine/models/seq2seq.h": '#include "engine/decoding/generation.h"\n',  # expected
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
            open(os.path.join(tmp, rel), "w").write(text)
        got = scan(tmp)
        want = 6 if EXPECTED_VIOLATIONS else 7
        if len(got) != want:
            print(f"self-test: expected {want} violations, got {len(got)}:\n" + "\n".join(got))
            return 1
        if EXPECTED_VIOLATIONS:
            os.remove(os.path.join(tmp, "engine/models/seq2seq.h"))
            stale = scan(tmp)
            if not any("remove it from EXPECTED_VIOLATIONS" in v for v in stale):
                print("self-test: a stale expected violation was not reported")
                return 1
    print("include rules self-test: ok")
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    violations = scan(os.path.abspath(root))
    for v in violations:
        print(v)
    if violations:
        print(f"include rules: {len(violations)} violation(s) (rules: tools/check_includes.py, README.md Layout)")
        return 1
    print("include rules: ok" + (f" ({len(EXPECTED_VIOLATIONS)} expected violation(s) pending other branches)"
                                  if EXPECTED_VIOLATIONS else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
