// Checks that the Secrets the operations guide tells an operator to create are the ones the
// pods read. It takes the shell block after `<!-- secret-recipe -->` in the guide, runs each
// kubectl line with --dry-run=client (offline; the files it names are stand-ins made in a
// temporary folder) and checks, for every rendered overlay given:
// - the recipe creates the overlay's namespace before any Secret in it;
// - every file path a container reads (a --flag=/path argument, an env value, or a value of an
//   envFrom ConfigMap) under the mount of a Secret volume is a key of that Secret, and every
//   secretKeyRef and KEDA secretTargetRef names a key the Secret has;
// Secrets the overlay generates itself (dev) count as created, with their own keys.
// Usage: node secret_recipe_check.cjs --kubectl PATH DOC FILE...
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const {spawnSync} = require('child_process');
const yaml = require('js-yaml');

const argv = process.argv.slice(2);
let kubectl = 'kubectl';
if (argv[0] === '--kubectl') {
  kubectl = path.resolve(argv[1]);
  argv.splice(0, 2);
}
const [doc, ...files] = argv;
if (!doc || files.length === 0) {
  console.error('usage: secret_recipe_check.cjs --kubectl PATH DOC FILE...');
  process.exit(2);
}

let failures = 0;
function fail(where, msg) {
  console.error(`${where}: ${msg}`);
  failures++;
}

// The recipe: the first ```sh block after the marker.
function recipeLines(text) {
  const at = text.indexOf('<!-- secret-recipe -->');
  if (at < 0) return null;
  const block = text.slice(at).match(/```sh\n([\s\S]*?)```/);
  if (!block) return null;
  return block[1].split('\n').map((l) => l.trim()).filter((l) => l.startsWith('kubectl '));
}

// Each line run offline; the objects it would create, in order.
function runRecipe(lines) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-recipe-'));
  const created = [];
  for (const line of lines) {
    const words = line.split(/\s+/).slice(1);
    for (const w of words) {
      const m = w.match(/^--from-file=(?:[^=]+=)?(.+)$/);
      if (m) {
        fs.mkdirSync(path.dirname(path.join(dir, m[1])), {recursive: true});
        fs.writeFileSync(path.join(dir, m[1]), 'stand-in\n');
      }
    }
    const run = spawnSync(kubectl, [...words, '--dry-run=client', '-o', 'json'],
                          {cwd: dir, encoding: 'utf8', env: {...process.env, KUBECONFIG: '/dev/null'}});
    if (run.status !== 0) {
      fail(doc, `"${line}" fails: ${run.error || (run.stderr || '').trim()}`);
      continue;
    }
    created.push(JSON.parse(run.stdout));
  }
  fs.rmSync(dir, {recursive: true, force: true});
  return created;
}

const lines = recipeLines(fs.readFileSync(doc, 'utf8'));
if (!lines || lines.length === 0) {
  console.error(`${doc}: no kubectl lines in a sh block after <!-- secret-recipe -->`);
  process.exit(1);
}
const recipe = runRecipe(lines);

function podSpecs(docs) {
  const specs = [];
  for (const d of docs) {
    const t = d.spec && (d.spec.template || (d.spec.jobTemplate && d.spec.jobTemplate.spec.template));
    if (t && t.spec) specs.push({owner: `${d.kind}/${d.metadata.name}`, spec: t.spec});
  }
  return specs;
}

for (const file of files) {
  const failuresBefore = failures;
  const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d && d.kind);
  const nsObject = docs.find((d) => d.kind === 'Namespace');
  if (!nsObject) {
    fail(file, 'no Namespace object');
    continue;
  }
  const ns = nsObject.metadata.name;
  // Secrets: those the overlay generates, then those the recipe creates in its namespace.
  const secrets = new Map();
  for (const s of docs.filter((d) => d.kind === 'Secret')) {
    secrets.set(s.metadata.name, new Set(Object.keys({...s.data, ...s.stringData})));
  }
  let namespaceMade = false;
  for (const o of recipe) {
    if (o.kind === 'Namespace' && o.metadata.name === ns) namespaceMade = true;
    if (o.kind !== 'Secret' || o.metadata.namespace !== ns) continue;
    if (!namespaceMade && !docs.some((d) => d.kind === 'Secret' && d.metadata.name === o.metadata.name)) {
      fail(file, `the recipe creates Secret ${o.metadata.name} before namespace ${ns} exists`);
    }
    if (!secrets.has(o.metadata.name)) {
      secrets.set(o.metadata.name, new Set(Object.keys(o.data || {})));
    }
  }
  const needKey = (where, name, key) => {
    if (!secrets.has(name)) {
      fail(file, `${where} reads Secret ${name}, which neither the overlay nor the recipe creates in ${ns}`);
    } else if (!secrets.get(name).has(key)) {
      fail(file, `${where} reads key "${key}" of Secret ${name}, which has ${[...secrets.get(name)].join(', ') || 'no keys'}`);
    }
  };
  const configMaps = new Map(docs.filter((d) => d.kind === 'ConfigMap').map((c) => [c.metadata.name, c.data || {}]));
  for (const {owner, spec} of podSpecs(docs)) {
    const secretVolumes = new Map();
    for (const v of spec.volumes || []) {
      if (v.secret) secretVolumes.set(v.name, v.secret);
    }
    for (const c of [...(spec.initContainers || []), ...(spec.containers || [])]) {
      const where = `${owner} container ${c.name}`;
      const values = [];
      for (const a of [...(c.command || []), ...(c.args || [])]) {
        const m = String(a).match(/^--[^=]+=(.*)$/);
        values.push(m ? m[1] : String(a));
      }
      for (const e of c.env || []) {
        if (e.value !== undefined) values.push(String(e.value));
        const ref = e.valueFrom && e.valueFrom.secretKeyRef;
        if (ref) needKey(where, ref.name, ref.key);
      }
      for (const from of c.envFrom || []) {
        if (from.configMapRef && configMaps.has(from.configMapRef.name)) {
          values.push(...Object.values(configMaps.get(from.configMapRef.name)).map(String));
        }
      }
      for (const m of c.volumeMounts || []) {
        const secret = secretVolumes.get(m.name);
        if (!secret) continue;
        const prefix = m.mountPath.replace(/\/$/, '') + '/';
        for (const v of values.filter((x) => x.startsWith(prefix))) {
          let key = v.slice(prefix.length);
          const item = (secret.items || []).find((i) => i.path === key);
          if (secret.items && !item) {
            fail(file, `${where} reads ${v}, which no item of Secret ${secret.secretName} maps to`);
            continue;
          }
          if (item) key = item.key;
          needKey(`${where} (${v})`, secret.secretName, key);
        }
      }
    }
  }
  for (const auth of docs.filter((d) => d.kind === 'TriggerAuthentication')) {
    for (const ref of (auth.spec && auth.spec.secretTargetRef) || []) {
      needKey(`TriggerAuthentication/${auth.metadata.name}`, ref.name, ref.key);
    }
  }
  if (failures === failuresBefore) console.log(`secret-recipe: ${file}: every Secret the pods read is created with its keys`);
}
process.exit(failures === 0 ? 0 : 1);
