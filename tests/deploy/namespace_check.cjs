// Checks that every rendered overlay lands in one namespace and that KEDA can find what it
// scales: a namespaced object without the overlay's namespace is created in whatever namespace
// kubectl points at (KEDA then never sees the worker), so
// - each file holds exactly one Namespace object, the overlay's namespace;
// - every namespaced object (all kinds but the cluster-scoped ones below) carries it;
// - every ScaledObject's scaleTargetRef (a Deployment unless it says otherwise) exists in that
//   namespace, with the named envSourceContainerName, and no HorizontalPodAutoscaler of the
//   overlay targets the same workload (KEDA makes its own; two would fight);
// - every trigger's authenticationRef names a TriggerAuthentication of the overlay.
// Usage: node namespace_check.cjs FILE...
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');

const CLUSTER_SCOPED = new Set([
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass',
  'StorageClass', 'PersistentVolume', 'IngressClass', 'ClusterTriggerAuthentication',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'APIService',
]);

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: namespace_check.cjs FILE...');
  process.exit(2);
}

let failures = 0;
function fail(where, msg) {
  console.error(`${where}: ${msg}`);
  failures++;
}

for (const file of files) {
  const failuresBefore = failures;
  const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d && d.kind);
  const namespaces = docs.filter((d) => d.kind === 'Namespace').map((d) => d.metadata.name);
  if (namespaces.length !== 1) {
    fail(file, `expected one Namespace object, found ${namespaces.length}`);
    continue;
  }
  const ns = namespaces[0];
  const named = (kind, name) =>
      docs.find((d) => d.kind === kind && d.metadata && d.metadata.name === name);
  for (const d of docs) {
    if (CLUSTER_SCOPED.has(d.kind)) continue;
    const got = d.metadata && d.metadata.namespace;
    if (got !== ns) {
      fail(file, `${d.kind}/${d.metadata.name} is in namespace ${got || '(none)'}, not ${ns}`);
    }
  }
  for (const so of docs.filter((d) => d.kind === 'ScaledObject')) {
    const where = `${file}: ScaledObject/${so.metadata.name}`;
    const ref = (so.spec && so.spec.scaleTargetRef) || {};
    const kind = ref.kind || 'Deployment';
    const target = named(kind, ref.name);
    if (!target) {
      fail(where, `scales ${kind}/${ref.name}, which the overlay does not define`);
      continue;
    }
    if (target.metadata.namespace !== so.metadata.namespace) {
      fail(where, `scales ${kind}/${ref.name} in another namespace`);
    }
    const containers = (target.spec.template.spec.containers || []).map((c) => c.name);
    if (ref.envSourceContainerName && !containers.includes(ref.envSourceContainerName)) {
      fail(where, `envSourceContainerName ${ref.envSourceContainerName} is not a container of ` +
                      `${ref.name} (${containers.join(', ')})`);
    }
    for (const hpa of docs.filter((d) => d.kind === 'HorizontalPodAutoscaler')) {
      const t = hpa.spec.scaleTargetRef;
      if (t.kind === kind && t.name === ref.name) {
        fail(where, `HorizontalPodAutoscaler/${hpa.metadata.name} scales ${ref.name} too`);
      }
    }
    for (const trigger of so.spec.triggers || []) {
      const auth = trigger.authenticationRef;
      if (!auth) continue;
      const authKind = auth.kind || 'TriggerAuthentication';
      if (authKind === 'TriggerAuthentication' && !named(authKind, auth.name)) {
        fail(where, `trigger ${trigger.name} uses TriggerAuthentication/${auth.name}, ` +
                        'which the overlay does not define');
      }
    }
  }
  if (failures === failuresBefore) console.log(`namespaces: ${file}: every object in ${ns}`);
}
process.exit(failures === 0 ? 0 : 1);
