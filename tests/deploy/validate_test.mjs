// Offline validation of deploy/: ARM templates (aci_cases.mjs) and Kubernetes manifests
// (k8s_cases.mjs) against the JSON schemas in FIXTURES/schemas, structural checks (checks.mjs),
// and broken copies that must be rejected (so the checks can fail); then, with BIN_DIR (the build's
// tools/cli, holding sealsum-serve and sealsum-kbs), every --flag of the deployed commands must be
// one that the binary the container runs (its command[0]'s name in BIN_DIR) lists in --help, and
// deploy/README.md must have its two guides and never run a policy generator with --debug-mode.
//   node validate_test.mjs REPO_ROOT FIXTURES [BIN_DIR]
// Prints one line per case and "N passed, N failed, N skipped"; exits 1 on any failure.
import fs from "node:fs";
import path from "node:path";
import {spawnSync} from "node:child_process";
import {aciCases} from "./aci_cases.mjs";
import {k8sCases} from "./k8s_cases.mjs";

const [root, fixtures, binDir] = process.argv.slice(2);
if (!root || !fixtures) {
  console.error("usage: node validate_test.mjs REPO_ROOT FIXTURES [BIN_DIR]");
  process.exit(2);
}
let passed = 0, failed = 0, skipped = 0;
function report(ok, line) {
  if (ok) passed++; else failed++;
  console.log((ok ? "ok   " : "FAIL ") + line);
}
const ctx = {
  root,
  schemaDir: path.join(fixtures, "schemas"),
  readJson: (p) => JSON.parse(fs.readFileSync(path.join(root, p), "utf8")),
  expect: (name, problems) => report(problems.length === 0,
    name + (problems.length ? "\n       " + problems.slice(0, 12).join("\n       ") : "")),
  expectRejected: (name, problems) => report(problems.length > 0,
    "rejects " + name + (problems.length ? ` (${problems[0]})` : " :: accepted")),
};

const {single} = aciCases(ctx);
const objs = await k8sCases(ctx);

// Flags: "PROGRAM SUB..." --help must list every --flag the deployment passes to SUB. Returns
// null when SUB is not a command of that binary, else the list of unknown flags.
function unknownFlags(program, argv) {
  const words = [];
  for (const a of argv) { if (a.startsWith("--")) break; words.push(a); }
  const help = spawnSync(path.join(binDir, path.basename(program)), [...words, "--help"], {encoding: "utf8"});
  const text = (help.stdout || "") + (help.stderr || "");
  if (help.status !== 0 || !/--\w/.test(text)) return null;
  return argv.filter((a) => a.startsWith("--"))
    .filter((f) => !new RegExp(`(^|[\\s,\\[(])${f}([\\s=,\\])]|$)`, "m").test(text)).map((f) => `unknown flag ${f}`);
}
function flagCase(label, program, argv) {
  const words = argv.slice(0, argv.findIndex((a) => a.startsWith("--")));
  const flags = argv.filter((a) => a.startsWith("--"));
  const name = path.basename(program || "?");
  const missing = unknownFlags(program || "?", argv);
  if (missing === null) {
    skipped++;
    console.log(`skip ${label}: \`${name} ${words.join(" ")}\` is not in this build; its flags ${flags.join(" ")} are not checked`);
  } else {
    ctx.expect(`${label}: ${name} ${words.join(" ")} knows ${flags.join(" ")}`, missing);
  }
}
if (binDir) {
  const full = single.resources[0].properties.containers[0].properties.command;
  const [program, cmd] = [full[0], full.slice(1)];
  flagCase("aci/sealsum.json command", program, cmd);
  for (const [key, o] of Object.entries(objs)) {
    const spec = o.spec?.template?.spec;
    for (const c of [...(spec?.initContainers || []), ...(spec?.containers || [])]) {
      flagCase(`k8s ${key}/${c.name}`, (c.command || [])[0], c.args || []);
    }
  }
  ctx.expectRejected("an invented serve flag", unknownFlags(program, [...cmd, "--no-such-flag-xyz", "1"]) || []);
} else {
  skipped++;
  console.log("skip flag checks: no BIN_DIR given");
}

// README: both guides, and no policy generator run with --debug-mode.
const readme = fs.readFileSync(path.join(root, "deploy/README.md"), "utf8");
const guides = ["Deploy on Azure C-ACI", "Deploy on AKS"].filter((h) => !new RegExp(`^#+ ${h}\\s*$`, "m").test(readme));
ctx.expect("deploy/README.md has the sections Deploy on Azure C-ACI and Deploy on AKS", guides.map((h) => `no "${h}"`));
const debugRuns = readme.split("\n").filter((l) => /az confcom \w*policygen/.test(l) && /--debug-mode/.test(l));
ctx.expect("deploy/README.md never runs acipolicygen/katapolicygen with --debug-mode", debugRuns);

console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
