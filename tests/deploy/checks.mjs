// Structural checks of deploy/ that the schemas cannot express (PROVENANCE.md, note 4: most ARM
// objects accept unknown properties, so required confidential settings are checked here).
// Each function returns a list of problems ("where: what"); empty means the check passed.
// Pure functions of their arguments: no file or network access.

export const DIGEST_IMAGE = /^[a-z0-9.-]+(:[0-9]+)?\/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$/;
const PARAM_REF = /^\[parameters\('([A-Za-z0-9_]+)'\)\]$/;
// Values that must never sit on a measured command line: SAS query strings, bearer tokens, keys.
const SECRETISH = /(\bsig=|[?&]sv=|[?&]se=|bearer\s|token=|accountkey=|password=|-----begin)/i;

export const IMAGE_PROGRAMS = ["/usr/local/bin/sealsum-serve", "/usr/local/bin/sealsum-kbs"];

function imageProblems(where, image) {
  const p = [];
  if (typeof image !== "string") return [`${where}: image is not a string`];
  if (/:latest(@|$)/.test(image)) p.push(`${where}: image ${image} uses :latest`);
  if (!DIGEST_IMAGE.test(image)) p.push(`${where}: image ${image} is not pinned by @sha256:<64 hex> digest`);
  return p;
}

function commandProblems(where, argv) {
  const p = [];
  if (!Array.isArray(argv) || argv.length === 0) return [`${where}: command is not an exec-form array`];
  argv.forEach((a, i) => {
    if (typeof a !== "string") p.push(`${where}[${i}]: not a string`);
    else if (SECRETISH.test(a)) p.push(`${where}[${i}]: looks like a secret or SAS on the command line`);
  });
  if (["sh", "/bin/sh", "bash", "/bin/bash"].includes(argv[0])) p.push(`${where}: runs a shell`);
  if (argv.includes("--dev")) p.push(`${where}: --dev (simulated TEE) in a deployment`);
  return p;
}

// CCE / Kata policy text (Rego). Rejects what `--debug-mode` or an allow-all policy turns on.
export function policyProblems(where, rego) {
  const p = [];
  const rules = [
    [/allow_dump_stacks\s*:=\s*true/, "allow_dump_stacks := true (debug mode)"],
    [/allow_runtime_logging\s*:=\s*true/, "allow_runtime_logging := true (debug mode)"],
    [/allow_properties_access\s*:=\s*true/, "allow_properties_access := true (debug mode)"],
    [/"exec_processes"\s*:\s*\[[^\]]*"\/bin\/(ba)?sh"/, "exec_processes allows a shell (debug mode)"],
    [/:=\s*\{\s*"allowed"\s*:\s*true\s*\}/, "an allow-all rule ({\"allowed\": true})"],
  ];
  for (const [re, what] of rules) if (re.test(rego)) p.push(`${where}: policy has ${what}`);
  return p;
}

// Resolves "[parameters('x')]" against the parameters file, then the template default.
// Returns undefined for a parameter with neither; other expressions are returned unchanged.
export function armValue(template, params, v) {
  const m = typeof v === "string" ? PARAM_REF.exec(v) : null;
  if (!m) return v;
  const given = params?.parameters?.[m[1]];
  if (given && "value" in given) return given.value;
  return template.parameters?.[m[1]]?.defaultValue;
}

export function armParameterProblems(where, template, params) {
  const p = [];
  const declared = template.parameters || {};
  for (const name of Object.keys(params.parameters || {})) {
    if (!(name in declared)) p.push(`${where}: parameter ${name} is not declared by the template`);
  }
  for (const [name, d] of Object.entries(declared)) {
    const given = params.parameters?.[name];
    if (!given && !("defaultValue" in d)) p.push(`${where}: required parameter ${name} is missing`);
    if (d.type === "securestring" || d.type === "secureObject") {
      if ("defaultValue" in d) p.push(`${where}: secure parameter ${name} has a default value in the template`);
      if (given && "value" in given) p.push(`${where}: secure parameter ${name} is given in clear; use a Key Vault reference`);
    }
  }
  return p;
}

// The confidential settings of one container group (or profile) properties object.
export function confidentialGroupProblems(where, template, params, props) {
  const p = [];
  const val = (v) => armValue(template, params, v);
  if (props?.sku !== "Confidential") p.push(`${where}: sku is ${props?.sku}, not Confidential`);
  const cce = props?.confidentialComputeProperties;
  if (!cce || !("ccePolicy" in cce)) p.push(`${where}: confidentialComputeProperties.ccePolicy is missing`);
  else {
    const policy = val(cce.ccePolicy);
    if (typeof policy !== "string") p.push(`${where}: ccePolicy does not resolve to a string`);
    else if (policy !== "") p.push(...policyProblems(`${where}.ccePolicy`, Buffer.from(policy, "base64").toString("utf8")));
  }
  const containers = props?.containers || [];
  if (containers.length === 0) p.push(`${where}: no containers`);
  for (const c of [...containers, ...(props?.initContainers || [])]) {
    const cw = `${where}.containers[${c.name}]`;
    const cp = c.properties || {};
    p.push(...imageProblems(cw, val(cp.image)));
    (cp.command || []).forEach((a, i) => {
      if (typeof a === "string" && a.startsWith("[") && !PARAM_REF.test(a)) {
        p.push(`${cw}.command[${i}]: an ARM expression other than [parameters('x')] (acipolicygen must resolve it)`);
      }
    });
    p.push(...commandProblems(`${cw}.command`, (cp.command || []).map(val)));
    if (val((cp.command || [])[0]) !== "/usr/local/bin/sealsum-serve") {
      p.push(`${cw}.command[0] is not /usr/local/bin/sealsum-serve (the TEE image holds that binary only)`);
    }
    for (const e of cp.environmentVariables || []) {
      if ("value" in e && (/(sas|token|key|secret|password)/i.test(e.name) || SECRETISH.test(String(val(e.value))))) {
        p.push(`${cw}.env ${e.name}: a secret given as value; use secureValue`);
      }
    }
    for (const port of cp.ports || []) {
      if ((port.protocol || "TCP") !== "TCP") p.push(`${cw}: port ${port.port} is not TCP`);
    }
  }
  const ports = props?.ipAddress?.ports || [];
  if (!ports.some((x) => x.port === 8443 && x.protocol === "TCP")) p.push(`${where}: ipAddress does not expose TCP 8443`);
  for (const cred of props?.imageRegistryCredentials || []) {
    if ("password" in cred || "username" in cred) p.push(`${where}: registry credential with a password; use the identity`);
    if (!cred.identity) p.push(`${where}: registry credential without a managed identity`);
  }
  return p;
}

export function identityProblems(where, identity) {
  if (identity?.type !== "UserAssigned") return [`${where}: identity type is ${identity?.type}, not UserAssigned`];
  const ids = Object.keys(identity.userAssignedIdentities || {});
  return ids.length === 1 ? [] : [`${where}: expected exactly one user-assigned identity, got ${ids.length}`];
}

// All pod specs of a Kubernetes object (Deployment, StatefulSet, Job), with a label.
export function podSpecs(doc) {
  const spec = doc.spec?.template?.spec;
  return spec ? [[`${doc.kind}/${doc.metadata?.name}`, spec]] : [];
}

export function podProblems(where, spec) {
  const p = [];
  if (spec.runtimeClassName !== "kata-cc-isolation") p.push(`${where}: runtimeClassName is ${spec.runtimeClassName}`);
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) p.push(`${where}: shares a host namespace`);
  const podSc = spec.securityContext || {};
  for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) {
    const cw = `${where}/${c.name}`;
    const sc = c.securityContext || {};
    p.push(...imageProblems(cw, c.image));
    p.push(...commandProblems(`${cw}.command+args`, [...(c.command || []), ...(c.args || [])]));
    // The TEE image holds sealsum-serve only; the broker's image sealsum-kbs only.
    if (!c.command || c.command.length !== 1 || !IMAGE_PROGRAMS.includes(c.command[0])) {
      p.push(`${cw}: command is not ["/usr/local/bin/sealsum-serve"] (or the broker's ["/usr/local/bin/sealsum-kbs"])`);
    }
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const uid = sc.runAsUser ?? podSc.runAsUser;
    if (nonRoot !== true) p.push(`${cw}: runAsNonRoot is not true`);
    if (!Number.isInteger(uid) || uid === 0) p.push(`${cw}: runAsUser is ${uid}, not a non-zero uid`);
    if (sc.readOnlyRootFilesystem !== true) p.push(`${cw}: readOnlyRootFilesystem is not true`);
    if (sc.allowPrivilegeEscalation !== false) p.push(`${cw}: allowPrivilegeEscalation is not false`);
    if (sc.privileged) p.push(`${cw}: privileged`);
    if (!(sc.capabilities?.drop || []).includes("ALL")) p.push(`${cw}: capabilities are not all dropped`);
    if (!c.resources?.requests?.cpu || !c.resources?.limits?.memory) p.push(`${cw}: no cpu request or memory limit`);
    for (const e of c.env || []) {
      if ("value" in e && /(sas|token|secret|password|key)/i.test(e.name)) p.push(`${cw}: env ${e.name} given in clear`);
    }
  }
  return p;
}
