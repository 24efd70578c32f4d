// Validates rendered Kubernetes manifests against JSON schemas with unknown fields rejected
// (the strictness `kubectl --validate=strict` applies). Schemas are built offline from the
// model metadata that the @kubernetes/client-node package generates from the Kubernetes
// OpenAPI document (property names, types, required fields), plus the KEDA CRD types of
// @kubernetes-models/keda for ScaledObject and TriggerAuthentication, and a strict hand-written
// schema of the Prometheus Operator's PrometheusRule.
// Usage: node k8s_schema_check.cjs --models DIR --keda DIR FILE.yaml...
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const Ajv = require('ajv');

function parseArgs(argv) {
  const out = {files: []};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--models') out.models = argv[++i];
    else if (argv[i] === '--keda') out.keda = argv[++i];
    else out.files.push(argv[i]);
  }
  if (!out.models || !out.keda || out.files.length === 0) {
    console.error('usage: k8s_schema_check.cjs --models DIR --keda DIR FILE...');
    process.exit(2);
  }
  return out;
}

// ---- Kubernetes core schemas from the generated client models ----------------------------

// Reads every model's attributeTypeMap (JSON in the generated .js) and its required
// properties (the .d.ts marks optional ones with `?`).
function loadModels(dir) {
  const models = new Map();
  for (const file of fs.readdirSync(dir)) {
    if (!file.endsWith('.js')) continue;
    const name = file.slice(0, -3);
    const js = fs.readFileSync(path.join(dir, file), 'utf8');
    const m = js.match(/\.attributeTypeMap = (\[[\s\S]*?\]);/);
    if (!m) continue;
    const attributes = JSON.parse(m[1]);
    const dts = fs.readFileSync(path.join(dir, name + '.d.ts'), 'utf8');
    const required = new Set();
    for (const line of dts.split('\n')) {
      const r = line.match(/^\s+'([^']+)':\s/);
      if (r) required.add(r[1]);
    }
    models.set(name, {attributes, required});
  }
  if (models.size < 500) throw new Error(`only ${models.size} models found in ${dir}`);
  return models;
}

function typeSchema(type, format) {
  if (type === 'string') return {type: 'string'};
  if (type === 'Date') return {type: 'string'};
  if (type === 'boolean') return {type: 'boolean'};
  if (type === 'number') {
    return format === 'int32' || format === 'int64' ? {type: 'integer'} : {type: 'number'};
  }
  if (type === 'IntOrString') return {type: ['integer', 'string']};
  if (type === 'any' || type === 'object') return {};
  let m = type.match(/^Array<(.+)>$/);
  if (m) return {type: 'array', items: typeSchema(m[1], '')};
  m = type.match(/^\{ \[key: string\]: (.+); \}$/);
  if (m) return {type: 'object', additionalProperties: typeSchema(m[1], '')};
  return {$ref: `#/definitions/${type}`};
}

function coreDefinitions(models) {
  const defs = {};
  for (const [name, model] of models) {
    const properties = {};
    const required = [];
    for (const a of model.attributes) {
      properties[a.baseName] = typeSchema(a.type, a.format);
      if (model.required.has(a.name)) required.push(a.baseName);
    }
    defs[name] = {type: 'object', properties, additionalProperties: false};
    if (required.length) defs[name].required = required;
  }
  return defs;
}

// apiVersion + kind -> model name: "apps/v1" Deployment -> V1Deployment, core "v1" Service ->
// V1Service (or CoreV1Event where the generator disambiguates).
function modelFor(models, apiVersion, kind) {
  const version = apiVersion.split('/').pop();
  const prefix = version.charAt(0).toUpperCase() + version.slice(1);
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const candidates = [`${prefix}${kind}`];
  if (group === '') candidates.unshift(`Core${prefix}${kind}`);
  for (const c of candidates) if (models.has(c)) return c;
  return null;
}

// ---- KEDA schemas from the CRD type declarations -----------------------------------------

// Turns the TypeScript type literal of a KEDA model (d.ts) into a strict JSON schema.
function parseTsType(src, pos) {
  const skip = () => {
    while (pos < src.length) {
      if (/\s/.test(src[pos])) pos++;
      else if (src.startsWith('/**', pos)) pos = src.indexOf('*/', pos) + 2;
      else break;
    }
  };
  function type() {
    skip();
    let schema;
    if (src[pos] === '{') schema = object();
    else if (src.startsWith('Array<', pos)) {
      pos += 6;
      const items = type();
      skip();
      pos++;  // '>'
      schema = {type: 'array', items};
    } else {
      const m = src.slice(pos).match(/^("[^"]*"|[A-Za-z_][\w.\[\]"]*)/);
      pos += m[0].length;
      const t = m[0];
      if (t === 'string') schema = {type: 'string'};
      else if (t === 'number') schema = {type: 'number'};
      else if (t === 'boolean') schema = {type: 'boolean'};
      else if (t.startsWith('"')) schema = {const: JSON.parse(t)};
      else if (t === 'IObjectMeta') schema = {$ref: '#/definitions/V1ObjectMeta'};
      else schema = {};
    }
    skip();
    while (src[pos] === '|') {  // unions: accept any member
      pos++;
      const other = type();
      schema = {anyOf: [schema, other]};
      skip();
    }
    return schema;
  }
  function object() {
    pos++;  // '{'
    const properties = {};
    const required = [];
    let additional = false;
    for (;;) {
      skip();
      if (src[pos] === '}') {
        pos++;
        break;
      }
      if (src[pos] === '[') {  // index signature [key: string]: T;
        pos = src.indexOf(']', pos) + 1;
        skip();
        pos++;  // ':'
        additional = type();
      } else {
        const m = src.slice(pos).match(/^"([^"]+)"(\?)?:/);
        if (!m) throw new Error(`cannot parse KEDA type near: ${src.slice(pos, pos + 60)}`);
        pos += m[0].length;
        properties[m[1]] = type();
        if (!m[2]) required.push(m[1]);
      }
      skip();
      if (src[pos] === ';' || src[pos] === ',') pos++;
    }
    const s = {type: 'object', properties, additionalProperties: additional};
    if (required.length) s.required = required;
    return s;
  }
  return type();
}

function kedaDefinitions(dir) {
  const defs = {};
  for (const kind of ['ScaledObject', 'TriggerAuthentication']) {
    const dts = fs.readFileSync(path.join(dir, 'keda.sh/v1alpha1', `${kind}.d.ts`), 'utf8');
    const start = dts.indexOf(`export interface I${kind} {`);
    if (start < 0) throw new Error(`no I${kind} in KEDA declarations`);
    defs[`KedaV1alpha1${kind}`] = parseTsType(dts, dts.indexOf('{', start));
  }
  return defs;
}

// ---- Prometheus Operator -----------------------------------------------------------------

// PrometheusRule (monitoring.coreos.com/v1), strictly: the fields of the Operator's CRD that a
// rule group may have. No npm package ships these types without fetching the CRD itself.
function prometheusOperatorDefinitions() {
  const labels = {type: 'object', additionalProperties: {type: 'string'}};
  const duration = {type: 'string', pattern: '^(0|([0-9]+(ms|s|m|h|d|w|y))+)$'};
  const rule = {
    type: 'object',
    additionalProperties: false,
    required: ['expr'],
    oneOf: [{required: ['alert']}, {required: ['record']}],
    properties: {
      alert: {type: 'string', minLength: 1},
      record: {type: 'string', minLength: 1},
      expr: {type: 'string', minLength: 1},
      for: duration,
      keep_firing_for: duration,
      labels,
      annotations: labels,
    },
  };
  const group = {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'rules'],
    properties: {
      name: {type: 'string', minLength: 1},
      interval: duration,
      limit: {type: 'integer'},
      partial_response_strategy: {type: 'string'},
      rules: {type: 'array', items: rule},
    },
  };
  return {
    MonitoringV1PrometheusRule: {
      type: 'object',
      additionalProperties: false,
      required: ['apiVersion', 'kind', 'metadata', 'spec'],
      properties: {
        apiVersion: {const: 'monitoring.coreos.com/v1'},
        kind: {const: 'PrometheusRule'},
        metadata: {$ref: '#/definitions/V1ObjectMeta'},
        spec: {
          type: 'object',
          additionalProperties: false,
          properties: {groups: {type: 'array', items: group}},
        },
      },
    },
  };
}

// ---- main --------------------------------------------------------------------------------

function main() {
  const args = parseArgs(process.argv.slice(2));
  const models = loadModels(args.models);
  const definitions = {
    ...coreDefinitions(models),
    ...kedaDefinitions(args.keda),
    ...prometheusOperatorDefinitions(),
  };
  const ajv = new Ajv({allErrors: true, strict: false});
  ajv.addSchema({$id: 'k8s', definitions});
  let failures = 0;
  let checked = 0;
  for (const file of args.files) {
    const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter((d) => d != null);
    for (const doc of docs) {
      const id = `${file}: ${doc.kind}/${doc.metadata && doc.metadata.name}`;
      if (typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string') {
        console.error(`${id}: missing apiVersion or kind`);
        failures++;
        continue;
      }
      let ref;
      if (doc.apiVersion === 'keda.sh/v1alpha1') ref = `KedaV1alpha1${doc.kind}`;
      else if (doc.apiVersion === 'monitoring.coreos.com/v1') ref = `MonitoringV1${doc.kind}`;
      else ref = modelFor(models, doc.apiVersion, doc.kind);
      if (!ref || !definitions[ref]) {
        console.error(`${id}: no schema for ${doc.apiVersion} ${doc.kind}`);
        failures++;
        continue;
      }
      const validate = ajv.getSchema(`k8s#/definitions/${ref}`);
      checked++;
      if (!validate(doc)) {
        failures++;
        for (const e of validate.errors) {
          const extra = e.params && e.params.additionalProperty;
          console.error(`${id}: ${e.instancePath || '/'} ${e.message}${extra ? ` '${extra}'` : ''}`);
        }
      }
    }
  }
  console.log(`schema: ${checked} objects checked, ${failures} invalid`);
  process.exit(failures === 0 && checked > 0 ? 0 : 1);
}

main();
