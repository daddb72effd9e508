// The Azure Container Instances cases of validate_test.mjs: the ARM templates in deploy/aci/
// against the ARM schemas, structural checks, and broken copies that must be rejected.
// aciCases(ctx) reports through ctx.expect / ctx.expectRejected; returns the parsed single-group
// template and parameters (the Kubernetes and flag checks compare against its command).
import {armValidators} from "./schemas.mjs";
import * as C from "./checks.mjs";

export function aciCases({schemaDir, readJson, expect, expectRejected}) {
  const clone = (x) => structuredClone(x);
  const arm = armValidators(schemaDir);
  const single = readJson("deploy/aci/sealsum.json");
  const singleParams = readJson("deploy/aci/sealsum.parameters.json");
  const ngroups = readJson("deploy/aci/sealsum-ngroups.json");
  const ngroupsParams = readJson("deploy/aci/sealsum-ngroups.parameters.json");

  function armProblems(t, params, where) {
    const p = [...arm.template(t).map((e) => `${where} template${e}`)];
    for (const r of t.resources) p.push(...arm.resource(r).map((e) => `${where} ${r.type}${e}`));
    p.push(...C.armParameterProblems(where, t, params));
    return p;
  }
  function singleProblems(t, params) {
    const cg = t.resources.find((r) => r.type === "Microsoft.ContainerInstance/containerGroups");
    if (!cg) return ["no containerGroups resource"];
    const p = [];
    if (cg.apiVersion !== "2023-05-01") p.push(`containerGroups apiVersion ${cg.apiVersion}`);
    p.push(...C.identityProblems("containerGroups.identity", cg.identity));
    p.push(...C.confidentialGroupProblems("containerGroups", t, params, cg.properties));
    return p;
  }
  function ngroupsProblems(t, params, reference) {
    const profile = t.resources.find((r) => r.type === "Microsoft.ContainerInstance/containerGroupProfiles");
    const ng = t.resources.find((r) => r.type.toLowerCase() === "microsoft.containerinstance/ngroups");
    if (!profile || !ng) return ["containerGroupProfiles or ngroups resource missing"];
    const p = [];
    for (const r of [profile, ng]) if (r.apiVersion !== "2024-11-01-preview") p.push(`${r.type} apiVersion ${r.apiVersion}`);
    p.push(...C.confidentialGroupProblems("containerGroupProfiles", t, params, profile.properties));
    p.push(...C.identityProblems("ngroups.identity", ng.identity));
    const ref = reference.resources.find((r) => r.type === "Microsoft.ContainerInstance/containerGroups").properties;
    // Same container and volumes as the single group: one CCE policy, one HOST_DATA for all replicas.
    for (const k of ["containers", "volumes", "confidentialComputeProperties", "imageRegistryCredentials", "osType"]) {
      if (JSON.stringify(profile.properties[k]) !== JSON.stringify(ref[k])) p.push(`profile ${k} differs from sealsum.json's`);
    }
    const ep = ng.properties?.elasticProfile;
    if (C.armValue(t, params, ep?.desiredCount) === undefined) p.push("ngroups desiredCount does not resolve");
    const stub = ng.properties?.containerGroupProfiles?.[0];
    if (!String(stub?.resource?.id).includes("containerGroupProfiles")) p.push("ngroups does not reference the profile");
    if (!stub?.networkProfile?.loadBalancer?.backendAddressPools?.length) p.push("ngroups has no load balancer pool");
    return p;
  }

  expect("aci/sealsum.json validates against the ARM schemas", armProblems(single, singleParams, "sealsum.json"));
  expect("aci/sealsum.json is confidential, pinned, secret-free", singleProblems(single, singleParams));
  expect("aci/sealsum-ngroups.json validates against the ARM schemas",
         armProblems(ngroups, ngroupsParams, "sealsum-ngroups.json"));
  expect("aci/sealsum-ngroups.json: confidential profile identical to sealsum.json's, N replicas",
         ngroupsProblems(ngroups, ngroupsParams, single));

  // Broken copies must be rejected.
  const cgOf = (t) => t.resources[0].properties;
  const mutants = [
    ["sku Confidentail (schema)", (t) => { cgOf(t).sku = "Confidentail"; }, (t, p) => armProblems(t, p, "m")],
    ["sku Standard", (t) => { cgOf(t).sku = "Standard"; }, singleProblems],
    ["no ccePolicy", (t) => { delete cgOf(t).confidentialComputeProperties; }, singleProblems],
    ["misspelt confidentialComputePropertiez", (t) => {
      cgOf(t).confidentialComputePropertiez = cgOf(t).confidentialComputeProperties;
      delete cgOf(t).confidentialComputeProperties; }, singleProblems],
    ["image by tag :latest", (t, p) => { p.parameters.image.value = "myregistry.azurecr.io/sealsum:latest"; }, singleProblems],
    ["SAS on the command line", (t) => {
      cgOf(t).containers[0].properties.command.push("https://a.blob.core.windows.net/c?sv=2022&sig=abc"); }, singleProblems],
    ["SAS as a plain env value", (t) => {
      cgOf(t).containers[0].properties.environmentVariables[0] = {name: "SEALSUM_DOCUMENTS_SAS", value: "sv=1&sig=x"}; },
     singleProblems],
    ["secure parameter given in clear", (t, p) => { p.parameters.documentsSas = {value: "sv=1&sig=x"}; },
     (t, p) => C.armParameterProblems("m", t, p)],
    ["UDP port", (t) => { cgOf(t).ipAddress.ports[0].protocol = "UDP"; }, singleProblems],
    ["a concat() expression in the command", (t) => {
      cgOf(t).containers[0].properties.command[3] = "[concat('/models/', parameters('sealedModelPath'))]"; }, singleProblems],
    ["--dev in the command", (t) => { cgOf(t).containers[0].properties.command.push("--dev"); }, singleProblems],
    ["the full sealsum CLI as the command", (t) => {
      cgOf(t).containers[0].properties.command[0] = "/usr/local/bin/sealsum"; }, singleProblems],
    ["a debug-mode ccePolicy", (t, p) => {
      p.parameters.ccePolicy.value = Buffer.from("package policy\nallow_dump_stacks := true\n").toString("base64"); },
     singleProblems],
    ["an allow-all ccePolicy", (t, p) => {
      p.parameters.ccePolicy.value = Buffer.from('package policy\nmount_device := {"allowed": true}\n').toString("base64"); },
     singleProblems],
    ["registry password", (t) => { cgOf(t).imageRegistryCredentials[0].password = "x"; }, singleProblems],
  ];
  for (const [name, mutate, check] of mutants) {
    const t = clone(single), p = clone(singleParams);
    mutate(t, p);
    expectRejected(`aci: ${name}`, check(t, p));
  }
  {
    const t = clone(ngroups);
    t.resources[0].properties.containers[0].properties.command.push("--threads", "8");
    expectRejected("ngroups: profile command differs from sealsum.json", ngroupsProblems(t, ngroupsParams, single));
  }

  return {single, singleParams};
}
