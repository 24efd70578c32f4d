// Starts what the browser tests run against: a redis-server on a free loopback port and the real
// alliance-worker, alliance-intake and alliance-insights (insights serving the dashboard from
// --web_root), with an API key file holding keys for two tenants. Submissions and gRPC reads go
// through the built alliancectl. Every wait is bounded; every child is killed when the test
// process exits, whatever way it ends.
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const binDir = process.env.ALLIANCE_BIN_DIR;
const webRoot = process.env.ALLIANCE_WEB_ROOT;
export const artifactsDir = process.env.ALLIANCE_ARTIFACTS ?? path.join(os.tmpdir(), 'alliance-browser');

// The keys of the key file (common/auth.h format: only their SHA-256 is written).
export const keys = {
  readerA: { id: 'dash-a', key: 'browser-test-reader-clinic-a-1f9c', tenant: 'clinic-a', scopes: ['read', 'watch'] },
  submitA: { id: 'submit-a', key: 'browser-test-submit-clinic-a-77e2', tenant: 'clinic-a', scopes: ['submit'] },
  readerB: { id: 'dash-b', key: 'browser-test-reader-clinic-b-c403', tenant: 'clinic-b', scopes: ['read', 'watch'] },
  submitB: { id: 'submit-b', key: 'browser-test-submit-clinic-b-5ad1', tenant: 'clinic-b', scopes: ['submit'] },
};

const children = new Set();
function killChildren() {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killChildren);
// A runner that interrupts or times out the tests sends a signal, which skips 'exit'.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killChildren();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

const givenPorts = new Set();
// A port the kernel picks for 127.0.0.1, never the same one twice in this process.
async function freePort() {
  for (let attempt = 0; attempt < 100; ++attempt) {
    const port = await new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address();
        server.close(() => resolve(port));
      });
    });
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
  throw new Error('no free port');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves once 127.0.0.1:port accepts a connection; rejects after timeoutMs or when `child`
// exits first.
async function waitForPort(port, child, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${child.name} exited (${child.exitCode}) before port ${port} opened; see ${child.log}`);
    const open = await new Promise((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms${child ? `; see ${child.log}` : ''}`);
}

// Waits for `child` to exit, at most timeoutMs; true when it did.
function waitForExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => { clearTimeout(timer); resolve(true); });
  });
}

// SIGTERM, then SIGKILL when it has not exited within timeoutMs.
async function stopChild(child, timeoutMs = 10000) {
  if (!child) return;
  child.kill('SIGTERM');
  if (!(await waitForExit(child, timeoutMs))) {
    child.kill('SIGKILL');
    await waitForExit(child, 5000);
  }
  children.delete(child);
}

export class Stack {
  // name: a label for the logs folder (artifacts/<name>-logs).
  constructor(name) {
    this.name = name;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `alliance-browser-${name}-`));
    this.logDir = path.join(artifactsDir, `${name}-logs`);
    fs.rmSync(this.logDir, { recursive: true, force: true });  // this run's logs only
    this.partitions = 2;
  }

  spawnLogged(name, binary, args) {
    fs.mkdirSync(this.logDir, { recursive: true });
    const log = path.join(this.logDir, `${name}.log`);
    const fd = fs.openSync(log, 'a');
    const child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    child.name = name;
    child.log = log;
    children.add(child);
    child.once('exit', () => children.delete(child));
    // A child never keeps the test process alive: its 'exit' handler above kills it.
    child.unref();
    return child;
  }

  // Starts everything; on a failure, stops what started and rethrows.
  async start() {
    try {
      await this.startAll();
    } catch (error) {
      await this.stop();
      throw error;
    }
    return this;
  }

  async startAll() {
    this.redisPort = await freePort();
    this.intakePort = await freePort();
    this.insightsPort = await freePort();
    this.httpPort = await freePort();
    this.keyFile = path.join(this.dir, 'api-keys.json');
    const entries = Object.values(keys).map((k) => ({
      id: k.id, sha256: createHash('sha256').update(k.key).digest('hex'), tenant: k.tenant, scopes: k.scopes,
    }));
    fs.writeFileSync(this.keyFile, JSON.stringify({ keys: entries }) + '\n');

    this.redis = this.spawnLogged('redis', 'redis-server', [
      '--port', String(this.redisPort), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning']);
    await waitForPort(this.redisPort, this.redis, 10000);
    const common = [`--redis_port=${this.redisPort}`, `--partitions=${this.partitions}`];
    this.worker = this.spawnLogged('worker', path.join(binDir, 'alliance-worker'),
      [...common, `--worker_id=browser-${this.name}`]);
    this.intake = this.spawnLogged('intake', path.join(binDir, 'alliance-intake'),
      [...common, `--grpc_port=${this.intakePort}`, `--api_keys_file=${this.keyFile}`]);
    await this.startInsights();
    await waitForPort(this.intakePort, this.intake);
  }

  async startInsights() {
    this.insights = this.spawnLogged('insights', path.join(binDir, 'alliance-insights'), [
      `--redis_port=${this.redisPort}`, `--partitions=${this.partitions}`,
      `--grpc_port=${this.insightsPort}`, `--http_port=${this.httpPort}`,
      `--api_keys_file=${this.keyFile}`, ...(webRoot ? [`--web_root=${webRoot}`] : []),
      // A restart in the tests should not wait for the production drain bounds.
      '--shutdown_timeout=3s', '--watch_end_grace_ms=200']);
    await waitForPort(this.insightsPort, this.insights);
    await waitForPort(this.httpPort, this.insights);
  }

  // Stops insights (SIGTERM, bounded) and starts it again on the same ports.
  async restartInsights() {
    await stopChild(this.insights, 10000);
    await this.startInsights();
  }

  // Stops insights only (the page then sees it gone); startInsights() brings it back.
  async stopInsights() {
    await stopChild(this.insights, 10000);
  }

  get baseUrl() {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  // Runs alliancectl with `args` and the given key; resolves with stdout, rejects on a non-zero
  // exit (with its stderr).
  ctl(args, key, timeoutMs = 20000) {
    const env = { ...process.env, ALLIANCE_API_KEY: key.key };
    const all = [`--intake=127.0.0.1:${this.intakePort}`, `--insights=127.0.0.1:${this.insightsPort}`,
      '--timeout_ms=5000', ...args];
    return new Promise((resolve, reject) => {
      execFile(path.join(binDir, 'alliancectl'), all, { env, timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error) reject(new Error(`alliancectl ${args.join(' ')}: ${error.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  // alliancectl --json: one object per line.
  async ctlJson(args, key) {
    const out = await this.ctl(['--json', ...args], key);
    return out.split('\n').filter((line) => line.trim().startsWith('{')).map((line) => JSON.parse(line));
  }

  // Submits Feedback objects (alliancectl's JSON lines format, docs/insights.md) with `key`.
  async submit(feedback, key) {
    const file = path.join(this.dir, `submit-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
    fs.writeFileSync(file, feedback.map((f) => JSON.stringify(f)).join('\n') + '\n');
    return this.ctl(['submit', `--file=${file}`, '--summary'], key);
  }

  // Polls GetDyad (alliancectl dyad) until the dyad has applied `ratings` ratings; bounded.
  async waitForDyad(therapist, client, ratings, key, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    while (Date.now() < deadline) {
      try {
        const [dyad] = await this.ctlJson(['dyad', `--therapist=${therapist}`, `--client=${client}`], key);
        last = dyad;
        if (Number(dyad?.ratings_applied ?? 0) >= ratings) return dyad;
      } catch { /* not there yet */ }
      await sleep(100);
    }
    throw new Error(`dyad ${therapist}/${client} did not reach ${ratings} ratings within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }

  // Stops every process (bounded) and removes the working folder.
  async stop() {
    await Promise.all([this.insights, this.intake, this.worker].map((c) => stopChild(c, 10000)));
    await stopChild(this.redis, 5000);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// A submission in alliancectl's JSON lines format: an SRS whose four lines add up to `total`
// (in tenths, spread like tests/e2e's SrsFeedback), or a WAI-SR-T with every item at `item`.
export function srs(tenant, therapist, client, session, total, weeksAgo) {
  const tenths = Math.round(total * 10);
  const answers = [1, 2, 3, 4].map((i) => (Math.floor(tenths / 4) + (i <= tenths % 4 ? 1 : 0)) / 10);
  return rating(tenant, therapist, client, session, weeksAgo, 'client', 'srs', answers);
}

export function waiT(tenant, therapist, client, session, item, weeksAgo) {
  return rating(tenant, therapist, client, session, weeksAgo, 'therapist', 'wai-sr-t', Array(12).fill(item));
}

function rating(tenant, therapist, client, session, weeksAgo, rater, instrument, answers) {
  const time = new Date(Date.now() - weeksAgo * 7 * 86400 * 1000);
  time.setUTCMilliseconds(0);
  return {
    idempotency_id: `${client}-${session}-${rater}`, tenant_id: tenant, therapist_id: therapist,
    client_id: client, session_id: `s${session}`, session_number: session,
    session_time: time.toISOString().replace('.000Z', 'Z'), rater, instrument_id: instrument, answers,
  };
}
