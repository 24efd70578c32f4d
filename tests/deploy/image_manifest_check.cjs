// Checks, offline, that the rendered manifests agree with the image deploy/Dockerfile builds. For
// every container that runs the Alliance image (image name ending in /alliance or equal to it):
// - the image is NAME:TAG with a tag of the agreed scheme: the project VERSION (a release, as
//   scripts/build-image.sh tags it), VERSION-g<commit> (a build), or a channel name such as dev;
//   a version-like tag other than the project VERSION fails;
// - command[0] is a binary the image holds: /usr/local/bin/<name>, where <name> is one the build
//   stage copies to /out/bin (its `for b in ...` list) and the runtime stage copies from there;
// - every containerPort and every probe port is EXPOSEd, and every EXPOSEd port is a container
//   port of some container (no stale EXPOSE);
// - the pod runs as the Dockerfile's numeric USER: runAsUser/runAsGroup (pod or container) and
//   fsGroup equal its uid/gid, runAsNonRoot is set, and the root filesystem is read-only;
// - every absolute path a flag or an ALLIANCE_* variable (env, or envFrom a ConfigMap of the
//   file) passes is either below a volumeMount or a path the runtime stage COPYs into the image
//   (e.g. --web_root=/usr/share/alliance/web); no volumeMount hides a path the image COPYs.
// Usage: node image_manifest_check.cjs --dockerfile FILE --cmake CMakeLists.txt RENDERED.yaml...
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');

const args = {dockerfile: null, cmake: null, files: []};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--dockerfile') args.dockerfile = process.argv[++i];
  else if (a === '--cmake') args.cmake = process.argv[++i];
  else args.files.push(a);
}
if (!args.dockerfile || !args.cmake || args.files.length === 0) {
  console.error('usage: image_manifest_check.cjs --dockerfile FILE --cmake FILE RENDERED.yaml...');
  process.exit(2);
}

let failures = 0;
function fail(where, msg) {
  console.error(`${where}: ${msg}`);
  failures++;
}

// --- The Dockerfile: stages as lists of [INSTRUCTION, rest] with continuation lines joined. ---
function parseDockerfile(text) {
  const joined = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n')
      .replace(/\\\n/g, ' ');
  const stages = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const ins = m[1].toUpperCase();
    const rest = m[2].trim();
    if (ins === 'FROM') {
      const as = /\s+AS\s+(\S+)\s*$/i.exec(rest);
      stages.push({name: as ? as[1] : String(stages.length), from: rest.split(/\s+/)[0], ins: []});
    } else if (stages.length) {
      stages[stages.length - 1].ins.push([ins, rest]);
    }
  }
  return stages;
}

const version = (/^project\(alliance VERSION ([0-9.]+)/m.exec(fs.readFileSync(args.cmake, 'utf8')) ||
                 [])[1];
if (!version) fail(args.cmake, 'no `project(alliance VERSION x.y.z)`');
const stages = parseDockerfile(fs.readFileSync(args.dockerfile, 'utf8'));
const runtime = stages[stages.length - 1];
if (!runtime) {
  console.error(`${args.dockerfile}: no FROM`);
  process.exit(1);
}
const df = args.dockerfile;
const exposed = new Set();
let user = null;
const copies = [];  // {from, src, dest}
for (const [ins, rest] of runtime.ins) {
  if (ins === 'EXPOSE') {
    for (const p of rest.split(/\s+/)) exposed.add(Number(p.replace(/\/tcp$/, '')));
  } else if (ins === 'USER') {
    user = rest;
  } else if (ins === 'COPY') {
    const words = rest.split(/\s+/);
    const from = (words.find((w) => w.startsWith('--from=')) || '').slice(7) || null;
    const paths = words.filter((w) => !w.startsWith('--'));
    copies.push({from, srcs: paths.slice(0, -1), dest: paths[paths.length - 1]});
  }
}
const um = /^(\d+):(\d+)$/.exec(user || '');
if (!um) fail(df, `the runtime stage's USER must be numeric uid:gid, is ${user}`);
const uid = um ? Number(um[1]) : null;
const gid = um ? Number(um[2]) : null;
if (uid === 0) fail(df, 'the runtime stage runs as root');

// Paths the runtime stage puts into the image (COPY destinations, without the trailing slash).
const imagePaths = copies.map((c) => c.dest.replace(/\/+$/, ''));
// Binaries in /usr/local/bin: those the stage copied from writes to /out/bin (`for b in ...`).
const binaries = new Set();
for (const c of copies) {
  if (!c.from || c.dest.replace(/\/+$/, '') !== '/usr/local/bin') continue;
  const stage = stages.find((s) => s.name === c.from);
  if (!stage) {
    fail(df, `COPY --from=${c.from}: no such stage`);
    continue;
  }
  for (const [ins, rest] of stage.ins) {
    if (ins !== 'RUN') continue;
    const loop = /for b in ([^;]+); do[^;]*\/out\/bin\/\$b/.exec(rest);
    if (loop && c.srcs.some((s) => s.replace(/\/+$/, '') === '/out/bin')) {
      for (const b of loop[1].trim().split(/\s+/)) binaries.add(b);
    }
  }
}
if (binaries.size === 0) fail(df, 'found no binaries copied to /usr/local/bin');

const under = (p, dir) => p === dir || p.startsWith(dir + '/');
const inImage = (p) => imagePaths.some((d) => under(p, d));

// --- The manifests ---
function podSpecs(doc) {
  const s = doc.spec || {};
  if (s.template && s.template.spec) return [s.template.spec];
  if (s.jobTemplate) return [s.jobTemplate.spec.template.spec];
  return [];
}
const TAG_CHANNEL = /^[a-z][a-z0-9-]*$/;
const VERSIONISH = /^v?\d+\.\d+(\.\d+)?/;
const containerPortsSeen = new Set();
let aContainers = 0;

for (const file of args.files) {
  const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d && d.kind);
  const configMaps = new Map(docs.filter((d) => d.kind === 'ConfigMap')
      .map((d) => [d.metadata.name, d.data || {}]));
  for (const doc of docs) {
    for (const spec of podSpecs(doc)) {
      const psc = spec.securityContext || {};
      for (const c of spec.containers || []) {
        const image = String(c.image || '');
        const m = /^(?:(.*)\/)?([^/:@]+)(?::([^@]+))?$/.exec(image);
        if (!m || m[2] !== 'alliance') continue;
        aContainers++;
        const where = `${file}: ${doc.kind}/${doc.metadata.name} container ${c.name}`;

        // Image name and tag.
        const tag = m[3];
        if (!tag) {
          fail(where, `image ${image} has no tag`);
        } else if (tag === version || new RegExp(`^${version}-g[0-9a-f]{7,40}$`).test(tag)) {
          // a release or a build of this version
        } else if (VERSIONISH.test(tag)) {
          fail(where, `image tag ${tag} is not the project VERSION ${version} (CMakeLists.txt)`);
        } else if (!TAG_CHANNEL.test(tag)) {
          fail(where, `image tag ${tag} is neither ${version}, ${version}-g<commit> nor a channel`);
        }

        // The binary.
        const cmd = (c.command || [])[0];
        const bm = /^\/usr\/local\/bin\/([^/]+)$/.exec(cmd || '');
        if (!bm || !binaries.has(bm[1])) {
          fail(where, `command ${cmd} is not a binary the image holds ` +
               `(/usr/local/bin/{${[...binaries].join(',')}})`);
        }

        // Ports.
        const named = new Map();
        for (const p of c.ports || []) {
          named.set(p.name, p.containerPort);
          containerPortsSeen.add(p.containerPort);
          if (!exposed.has(p.containerPort)) {
            fail(where, `containerPort ${p.containerPort} (${p.name}) is not EXPOSEd by ${df}`);
          }
        }
        for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          const probe = c[kind];
          if (!probe) continue;
          const h = probe.grpc || probe.httpGet || probe.tcpSocket;
          if (!h) continue;
          const port = typeof h.port === 'string' ? named.get(h.port) : h.port;
          if (!exposed.has(port)) fail(where, `${kind} port ${h.port} is not EXPOSEd by ${df}`);
        }

        // User, group, read-only root.
        const csc = c.securityContext || {};
        const runAsUser = csc.runAsUser ?? psc.runAsUser;
        const runAsGroup = csc.runAsGroup ?? psc.runAsGroup;
        if (runAsUser !== uid) fail(where, `runAsUser ${runAsUser} is not the image's USER uid ${uid}`);
        if (runAsGroup !== gid) fail(where, `runAsGroup ${runAsGroup} is not the image's gid ${gid}`);
        if (psc.fsGroup !== gid) fail(where, `fsGroup ${psc.fsGroup} is not the image's gid ${gid}`);
        if (!(csc.runAsNonRoot ?? psc.runAsNonRoot)) fail(where, 'runAsNonRoot is not set');
        if (csc.readOnlyRootFilesystem !== true) fail(where, 'readOnlyRootFilesystem is not true');

        // Mounts and the paths flags and variables pass.
        const mounts = (c.volumeMounts || []).map((v) => v.mountPath.replace(/\/+$/, ''));
        for (const mp of mounts) {
          for (const ip of imagePaths) {
            if (under(ip, mp)) fail(where, `volumeMount ${mp} hides ${ip}, which the image holds`);
          }
        }
        const values = [];
        for (const a of [...(c.command || []).slice(1), ...(c.args || [])]) {
          const fm = /^--([A-Za-z0-9_]+)=(.*)$/.exec(a);
          if (fm) values.push([`--${fm[1]}`, fm[2]]);
        }
        for (const e of c.env || []) {
          if (/^ALLIANCE_/.test(e.name) && typeof e.value === 'string') values.push([e.name, e.value]);
        }
        for (const ef of c.envFrom || []) {
          const data = ef.configMapRef && configMaps.get(ef.configMapRef.name);
          for (const [k, v] of Object.entries(data || {})) {
            if (/^ALLIANCE_/.test(k)) values.push([k, String(v)]);
          }
        }
        for (const [name, value] of values) {
          if (!value.startsWith('/')) continue;
          const p = value.replace(/\/+$/, '');
          if (!mounts.some((mp) => under(p, mp)) && !inImage(p)) {
            fail(where, `${name}=${value} is neither below a volumeMount nor a path the image ` +
                 `holds (${imagePaths.join(', ')})`);
          }
        }
      }
    }
  }
}
if (aContainers === 0) fail(args.files.join(' '), 'no container runs the alliance image');
for (const p of exposed) {
  if (!containerPortsSeen.has(p)) fail(df, `EXPOSE ${p} is no container's port in the manifests`);
}

if (failures) {
  console.error(`image-manifests: ${failures} disagreement(s)`);
  process.exit(1);
}
console.log(`image-manifests: ${aContainers} containers agree with ${df} ` +
            `(USER ${uid}:${gid}, ports ${[...exposed].sort((a, b) => a - b).join(' ')}, ` +
            `binaries ${[...binaries].join(' ')})`);
