// Checks that the rendered manifests and the binaries agree. For every container whose command
// is one of our binaries (/usr/local/bin/alliance-*), using the binary's own `--helpfull`:
// - every --flag in command/args and every ALLIANCE_* env var (env and envFrom ConfigMaps) is a
//   flag the binary defines, and the binary accepts the values (it is run with them and
//   --helpfull, which parses everything and exits before serving);
// - every container sets --listen_host (flag or env) to an address outside loopback: the
//   binaries default to 127.0.0.1, and probes, Services and Prometheus reach the pod IP;
// - the gRPC probes target the effective --health_port, which is a declared container port;
//   liveness asks for service "liveness" and readiness for "" ;
// - the Prometheus annotation and the `metrics` port equal --metrics_port;
// - --grpc_port is the `grpc` container port, --http_port the `http` one, and Services target
//   declared ports;
// - terminationGracePeriodSeconds exceeds preStop sleep + the drain flag (--shutdown_timeout);
// - a gRPC server sets its connection-age flag so clients rebalance across pods.
// Usage: node manifest_flags_check.cjs (--bin-dir DIR | --as NAME=PATH)... [--only NAME] FILE...
'use strict';
const fs = require('fs');
const path = require('path');
const {spawnSync} = require('child_process');
const yaml = require('js-yaml');

const args = {binDir: null, as: new Map(), only: null, files: []};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--bin-dir') args.binDir = process.argv[++i];
  else if (a === '--as') {
    const [name, p] = process.argv[++i].split('=');
    args.as.set(name, p);
  } else if (a === '--only') args.only = process.argv[++i];
  else args.files.push(a);
}
if (args.files.length === 0) {
  console.error('usage: manifest_flags_check.cjs (--bin-dir DIR | --as NAME=PATH)... FILE...');
  process.exit(2);
}

let failures = 0;
function fail(where, msg) {
  console.error(`${where}: ${msg}`);
  failures++;
}

// Flags a binary defines, with their defaults, from `--helpfull`.
const helpCache = new Map();
function binaryFlags(binPath) {
  if (helpCache.has(binPath)) return helpCache.get(binPath);
  const r = spawnSync(binPath, ['--helpfull'], {encoding: 'utf8', timeout: 20000, env: {}});
  const text = `${r.stdout}\n${r.stderr}`;
  const flags = new Map();
  const re = /^\s+--([A-Za-z0-9_]+) \(([\s\S]*?)\);\s+default: ([^;]*);/gm;
  let m;
  while ((m = re.exec(text)) !== null) flags.set(m[1], m[3].replace(/^"(.*)"$/, '$1'));
  helpCache.set(binPath, flags);
  return flags;
}

function resolveBinary(name) {
  if (args.as.has(name)) return args.as.get(name);
  if (args.binDir) return path.join(args.binDir, name);
  return null;
}

// "20s", "1m30s", "1500ms" (absl durations) or a bare number of seconds.
function seconds(value) {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)/g;
  let m;
  let matched = '';
  while ((m = re.exec(value)) !== null) {
    matched += m[0];
    total += Number(m[1]) * {h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9}[m[2]];
  }
  return matched === value && value !== '' ? total : NaN;
}

const docs = [];
for (const f of args.files) {
  for (const d of yaml.loadAll(fs.readFileSync(f, 'utf8'))) if (d) docs.push({file: f, doc: d});
}

let containersChecked = 0;
for (const {file, doc} of docs) {
  if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(doc.kind)) continue;
  const pod = doc.spec.template.spec;
  const annotations = (doc.spec.template.metadata || {}).annotations || {};
  const configMaps = new Map(
    docs.filter((x) => x.file === file && x.doc.kind === 'ConfigMap')
      .map((x) => [x.doc.metadata.name, x.doc.data || {}]));
  for (const c of pod.containers) {
    const command = [...(c.command || []), ...(c.args || [])];
    const exe = command.length ? path.basename(command[0]) : '';
    if (!exe.startsWith('alliance')) continue;
    if (args.only && exe !== args.only) continue;
    const where = `${path.basename(file)}: ${doc.kind}/${doc.metadata.name}/${c.name} (${exe})`;
    const binPath = resolveBinary(exe);
    if (!binPath || !fs.existsSync(binPath)) {
      fail(where, `binary ${exe} is missing (${binPath || 'no path given'}); build it first`);
      continue;
    }
    containersChecked++;
    const flags = binaryFlags(binPath);
    if (flags.size === 0) {
      fail(where, `${binPath} --helpfull listed no flags`);
      continue;
    }
    // Effective values: command line > environment > default.
    const env = {};
    for (const from of c.envFrom || []) {
      if (from.configMapRef) {
        const data = configMaps.get(from.configMapRef.name);
        if (!data) fail(where, `envFrom ConfigMap ${from.configMapRef.name} is not in the render`);
        Object.assign(env, data || {});
      }
    }
    for (const e of c.env || []) env[e.name] = e.value !== undefined ? e.value : '';
    const effective = new Map(flags);
    for (const [k, v] of Object.entries(env)) {
      if (!k.startsWith('ALLIANCE_')) continue;
      const flag = k.slice('ALLIANCE_'.length).toLowerCase();
      if (!flags.has(flag)) fail(where, `env ${k}: ${exe} has no flag --${flag}`);
      else effective.set(flag, v);
    }
    const flagArgs = [];
    for (const a of command.slice(1)) {
      const m = a.match(/^--?([A-Za-z0-9_]+)(?:=(.*))?$/);
      if (!m) {
        fail(where, `argument '${a}' is not a --flag=value`);
        continue;
      }
      if (!flags.has(m[1])) fail(where, `${exe} does not define --${m[1]}`);
      else effective.set(m[1], m[2] === undefined ? 'true' : m[2]);
      flagArgs.push(a);
    }
    // The binary itself must accept the values (absl parses all flags before --helpfull).
    const run = spawnSync(binPath, [...flagArgs, '--helpfull'],
                          {encoding: 'utf8', timeout: 20000, env});
    const out = `${run.stdout}\n${run.stderr}`;
    if (/ERROR:|invalid value|Illegal value|Unknown command line flag/i.test(out)) {
      fail(where, `${exe} rejects the manifest's flags/env: ${out.split('\n')
        .filter((l) => /ERROR|invalid|Illegal|Unknown/i.test(l)).join(' | ')}`);
    }
    // Bind address: explicit, and reachable from outside the container.
    if (!flags.has('listen_host')) {
      fail(where, `${exe} defines no --listen_host`);
    } else if (!flagArgs.some((a) => /^--?listen_host=/.test(a)) && !('ALLIANCE_LISTEN_HOST' in env)) {
      fail(where, `--listen_host is not set: ${exe} binds its default ` +
                  `${flags.get('listen_host')}, which probes cannot reach`);
    } else if (/^(127\.|::1$|\[::1\]$|localhost$)/i.test(effective.get('listen_host'))) {
      fail(where, `--listen_host=${effective.get('listen_host')} is loopback: probes, Services ` +
                  'and Prometheus reach the pod IP');
    }
    const ports = new Map((c.ports || []).map((p) => [p.name, p.containerPort]));
    const portNumbers = new Set((c.ports || []).map((p) => p.containerPort));
    // Health port and probes.
    const health = Number(effective.get('health_port'));
    if (!(health > 0)) fail(where, `--health_port is ${effective.get('health_port')}: probes need it`);
    else if (!portNumbers.has(health)) fail(where, `health port ${health} is not a container port`);
    for (const [probeName, service] of [['livenessProbe', 'liveness'], ['readinessProbe', '']]) {
      const probe = c[probeName];
      if (!probe || !probe.grpc) {
        fail(where, `${probeName} must be a native gRPC probe`);
        continue;
      }
      const port = typeof probe.grpc.port === 'string' ? ports.get(probe.grpc.port) : probe.grpc.port;
      if (port !== health) fail(where, `${probeName} port ${probe.grpc.port} != --health_port ${health}`);
      if ((probe.grpc.service || '') !== service) {
        fail(where, `${probeName} asks for service '${probe.grpc.service || ''}', expected '${service}'`);
      }
    }
    // Metrics.
    const metrics = Number(effective.get('metrics_port'));
    if (!(metrics > 0)) fail(where, '--metrics_port is not set');
    if (ports.get('metrics') !== metrics) fail(where, `container port 'metrics' != --metrics_port ${metrics}`);
    if (Number(annotations['prometheus.io/port']) !== metrics) {
      fail(where, `prometheus.io/port ${annotations['prometheus.io/port']} != --metrics_port ${metrics}`);
    }
    // gRPC serving port and Services.
    if (flags.has('grpc_port')) {
      const grpc = Number(effective.get('grpc_port'));
      if (ports.get('grpc') !== grpc) fail(where, `container port 'grpc' != --grpc_port ${grpc}`);
      const age = [...flags.keys()].find((k) => /^max_connection_age(_ms|_seconds)?$/.test(k));
      if (!age) fail(where, `${exe} serves gRPC but defines no --max_connection_age flag`);
      else if (!(seconds(effective.get(age)) > 0) && !(Number(effective.get(age)) > 0)) {
        fail(where, `--${age} is ${effective.get(age)}: connections never rebalance across pods`);
      }
    }
    // HTTP (FHIR) port: declared as the `http` container port when the binary serves one.
    if (flags.has('http_port')) {
      const http = Number(effective.get('http_port'));
      if (http > 0 && ports.get('http') !== http) fail(where, `container port 'http' != --http_port ${http}`);
      if (!(http > 0) && ports.has('http')) fail(where, `container port 'http' declared but --http_port is ${http}`);
    }
    // Graceful shutdown fits the grace period.
    const drainFlag = [...flags.keys()].find((k) => /^(shutdown_timeout|drain_timeout)(_ms|_seconds)?$/.test(k));
    const grace = pod.terminationGracePeriodSeconds === undefined ? 30 : pod.terminationGracePeriodSeconds;
    if (drainFlag) {
      let drain = seconds(effective.get(drainFlag));
      if (drainFlag.endsWith('_ms')) drain = Number(effective.get(drainFlag)) / 1000;
      const pre = c.lifecycle && c.lifecycle.preStop && c.lifecycle.preStop.exec ?
        Number(c.lifecycle.preStop.exec.command.slice(-1)[0]) || 0 : 0;
      if (!(drain >= 0)) fail(where, `cannot read --${drainFlag}=${effective.get(drainFlag)}`);
      else if (!(grace > pre + drain)) {
        fail(where, `terminationGracePeriodSeconds ${grace} <= preStop ${pre}s + --${drainFlag} ${drain}s`);
      }
    }
    for (const {doc: svc} of docs.filter((x) => x.file === file && x.doc.kind === 'Service')) {
      const sel = svc.spec.selector || {};
      const labels = doc.spec.template.metadata.labels || {};
      if (!Object.keys(sel).length || !Object.entries(sel).every(([k, v]) => labels[k] === v)) continue;
      for (const p of svc.spec.ports) {
        const target = p.targetPort === undefined ? p.port : p.targetPort;
        const ok = typeof target === 'string' ? ports.has(target) : portNumbers.has(target);
        if (!ok) fail(where, `Service ${svc.metadata.name} targets port ${target}, not declared`);
      }
    }
  }
}
console.log(`flags: ${containersChecked} containers checked, ${failures} problems`);
process.exit(failures === 0 && containersChecked > 0 ? 0 : 1);
