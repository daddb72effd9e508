// The Kubernetes cases of validate_test.mjs: every manifest in deploy/k8s/ against the v1.30.0
// schemas, structural checks of the confidential deployment, and broken copies that must be
// rejected. k8sCases(ctx) reports through ctx.expect / ctx.expectRejected and returns the parsed
// objects by "Kind/name".
// The manifests are ordinary block YAML with comments (what kubectl and katapolicygen users read
// and edit), parsed here with npm's `yaml` in YAML 1.1 mode, the dialect Kubernetes' decoder
// implements (so `defaultMode: 0400` is octal 256 here as it is in the cluster).
import fs from "node:fs";
import path from "node:path";
import {k8sValidators} from "./schemas.mjs";
import * as C from "./checks.mjs";

const POLICY_ANNOTATION = "io.katacontainers.config.agent.policy";

// The checks of the whole set of objects (by "Kind/name"); returns problems.
export function deploymentSetProblems(objs) {
  const p = [];
  const get = (k) => objs[k] || (p.push(`${k} is missing`), null);
  const dep = get("Deployment/sealsum"), svc = get("Service/sealsum"), hpa = get("HorizontalPodAutoscaler/sealsum");
  const sa = get("ServiceAccount/sealsum"), kbs = get("StatefulSet/sealsum-kbs"), job = get("Job/sealsum-batch");
  if (!dep || !svc || !hpa || !sa || !kbs || !job) return p;
  for (const o of Object.values(objs)) {
    if (o.kind === "Ingress") p.push(`Ingress/${o.metadata?.name}: a TLS-terminating ingress breaks the attested channel`);
    for (const [where, spec] of C.podSpecs(o)) p.push(...C.podProblems(where, spec));
    if (POLICY_ANNOTATION in (o.spec?.template?.metadata?.annotations || {})) {
      p.push(`${o.kind}/${o.metadata.name}: ${POLICY_ANNOTATION} committed; katapolicygen generates it at deploy time`);
    }
  }
  // Service: TCP LoadBalancer on 8443 selecting the serve pods.
  if (svc.spec?.type !== "LoadBalancer") p.push(`Service/sealsum: type ${svc.spec?.type}, not LoadBalancer`);
  for (const port of svc.spec?.ports || []) if ((port.protocol || "TCP") !== "TCP") p.push(`Service/sealsum: ${port.protocol} port`);
  if (!(svc.spec?.ports || []).some((x) => x.port === 8443)) p.push("Service/sealsum: no port 8443");
  const podLabels = dep.spec?.template?.metadata?.labels || {};
  for (const [k, v] of Object.entries(svc.spec?.selector || {})) {
    if (podLabels[k] !== v) p.push(`Service/sealsum: selector ${k}=${v} does not match the Deployment's pods`);
  }
  // Serve pods: readiness on /healthz over HTTPS (or TCP), workload identity.
  const c = dep.spec?.template?.spec?.containers?.[0] || {};
  const rp = c.readinessProbe || {};
  if (!(rp.tcpSocket?.port === 8443 || (rp.httpGet?.path === "/healthz" && rp.httpGet?.scheme === "HTTPS"))) {
    p.push("Deployment/sealsum: readinessProbe is neither HTTPS /healthz nor TCP 8443");
  }
  for (const [kind, o] of [["Deployment", dep], ["Job", job]]) {
    const t = o.spec?.template;
    if (t?.metadata?.labels?.["azure.workload.identity/use"] !== "true") p.push(`${kind}: no workload identity label`);
    if (t?.spec?.serviceAccountName !== sa.metadata?.name) p.push(`${kind}: serviceAccountName is not ${sa.metadata?.name}`);
  }
  if (!sa.metadata?.annotations?.["azure.workload.identity/client-id"]) p.push("ServiceAccount: no workload identity client-id");
  // HPA: the Deployment, on CPU.
  const ref = hpa.spec?.scaleTargetRef || {};
  if (ref.kind !== "Deployment" || ref.name !== dep.metadata.name) p.push("HPA: does not target Deployment/sealsum");
  if (!(hpa.spec?.metrics || []).some((m) => m.type === "Resource" && m.resource?.name === "cpu")) p.push("HPA: no cpu metric");
  if (!(hpa.spec?.minReplicas >= 1 && hpa.spec?.maxReplicas >= hpa.spec?.minReplicas)) p.push("HPA: bad replica bounds");
  // Broker: one replica with a volume claim template mounted by its container.
  if (kbs.spec?.replicas !== 1) p.push(`StatefulSet/sealsum-kbs: replicas ${kbs.spec?.replicas}, not 1`);
  const claims = (kbs.spec?.volumeClaimTemplates || []).map((v) => v.metadata?.name);
  if (claims.length !== 1) p.push("StatefulSet/sealsum-kbs: expected one volumeClaimTemplate");
  const kc = kbs.spec?.template?.spec?.containers?.[0] || {};
  if (!(kc.volumeMounts || []).some((m) => claims.includes(m.name))) p.push("StatefulSet/sealsum-kbs: store volume not mounted");
  if ((kc.command || [])[0] !== "/usr/local/bin/sealsum-kbs" || (kc.args || [])[0] !== "serve") {
    p.push("StatefulSet/sealsum-kbs: does not run `sealsum-kbs serve`");
  }
  // The enclave's pods run the TEE binary (the image holds sealsum-serve only).
  for (const [name, o] of [["Deployment/sealsum", dep], ["Job/sealsum-batch", job]]) {
    for (const c of o.spec?.template?.spec?.containers || []) {
      if ((c.command || [])[0] !== "/usr/local/bin/sealsum-serve") p.push(`${name}/${c.name}: command is not sealsum-serve`);
    }
  }
  const keyVol = (kbs.spec?.template?.spec?.volumes || []).find((v) => v.secret);
  if (keyVol && keyVol.secret.defaultMode !== 0o400) p.push(`broker key mode ${keyVol.secret.defaultMode?.toString(8)}, not 0400`);
  // Job: indexed, one shard per completion.
  const js = job.spec || {};
  if (js.completionMode !== "Indexed") p.push(`Job: completionMode ${js.completionMode}, not Indexed`);
  if (!(js.completions >= 1 && js.parallelism >= 1 && js.parallelism <= js.completions)) p.push("Job: bad completions/parallelism");
  const ja = js.template?.spec?.containers?.[0]?.args || [];
  const i = ja.indexOf("--shard-count");
  if (i < 0 || Number(ja[i + 1]) !== js.completions) p.push("Job: --shard-count differs from completions");
  if (!["Never", "OnFailure"].includes(js.template?.spec?.restartPolicy)) p.push("Job: restartPolicy must be Never or OnFailure");
  return p;
}

export function k8sCases({root, schemaDir, expect, expectRejected}) {
  const validate = k8sValidators(schemaDir);
  const dir = path.join(root, "deploy/k8s");
  const objs = {};
  const YAML_VERSION = {version: "1.1"};  // as Kubernetes' decoder reads YAML (0400 is octal)
  return import("yaml").then(({default: YAML}) => {
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort()) {
      const docs = YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), "utf8"), YAML_VERSION);
      const problems = [];
      for (const d of docs) {
        if (d.errors.length) { problems.push(`${f}: ${d.errors[0].message}`); continue; }
        const o = d.toJS();
        if (o === null) continue;
        problems.push(...validate(o).map((e) => `${o.kind}/${o.metadata?.name}${e}`));
        objs[`${o.kind}/${o.metadata?.name}`] = o;
      }
      expect(`k8s/${f} validates against the Kubernetes v1.30.0 schemas (${docs.length} object(s))`, problems);
    }
    expect("k8s: confidential pods, TCP LoadBalancer, HPA, one-replica broker, indexed Job", deploymentSetProblems(objs));

    const spec = (o) => o.spec.template.spec;
    const mutants = [
      ["runtimeClassname misspelt (schema)", "Deployment/sealsum", (o) => {
        spec(o).runtimeClassname = spec(o).runtimeClassName; delete spec(o).runtimeClassName; }, true],
      ["runtimeClassName runc", "Deployment/sealsum", (o) => { spec(o).runtimeClassName = "runc"; }],
      ["Service type ClusterIP", "Service/sealsum", (o) => { o.spec.type = "ClusterIP"; }],
      ["Service UDP port", "Service/sealsum", (o) => { o.spec.ports[0].protocol = "UDP"; }],
      ["broker with 2 replicas", "StatefulSet/sealsum-kbs", (o) => { o.spec.replicas = 2; }],
      ["the full sealsum CLI in the TEE pod", "Deployment/sealsum", (o) => {
        spec(o).containers[0].command = ["/usr/local/bin/sealsum"]; }],
      ["the broker's binary in the TEE pod", "Deployment/sealsum", (o) => {
        spec(o).containers[0].command = ["/usr/local/bin/sealsum-kbs"]; }],
      ["image by tag", "Deployment/sealsum", (o) => { spec(o).containers[0].image = "myregistry.azurecr.io/sealsum:latest"; }],
      ["root user", "Deployment/sealsum", (o) => {
        spec(o).securityContext.runAsUser = 0; delete spec(o).containers[0].securityContext.runAsUser; }],
      ["writable root filesystem", "Job/sealsum-batch", (o) => {
        spec(o).containers[0].securityContext.readOnlyRootFilesystem = false; }],
      ["plain HTTP readiness probe", "Deployment/sealsum", (o) => {
        spec(o).containers[0].readinessProbe.httpGet.scheme = "HTTP"; }],
      ["SAS in args", "Deployment/sealsum", (o) => { spec(o).containers[0].args.push("https://a/c?sv=1&sig=x"); }],
      ["committed policy annotation", "Deployment/sealsum", (o) => {
        o.spec.template.metadata.annotations = {[POLICY_ANNOTATION]: "cGFja2FnZQ=="}; }],
      ["Job not indexed", "Job/sealsum-batch", (o) => { delete o.spec.completionMode; }],
      ["unknown field in Service (schema)", "Service/sealsum", (o) => { o.spec.tlsTermination = "edge"; }, true],
    ];
    for (const [name, key, mutate, schemaOnly] of mutants) {
      const copy = structuredClone(objs);
      mutate(copy[key]);
      expectRejected(`k8s: ${name}`, schemaOnly ? validate(copy[key]) : deploymentSetProblems(copy));
    }
    {
      const copy = structuredClone(objs);
      copy["Ingress/sealsum"] = {kind: "Ingress", metadata: {name: "sealsum"}};
      expectRejected("k8s: an Ingress in front of sealsum", deploymentSetProblems(copy));
    }
    return objs;
  });
}
