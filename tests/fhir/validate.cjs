// Validates FHIR R4 JSON resources with FHIR.js (npm package `fhir`, pinned in
// tests/fhir/tools/package.json): its pre-parsed R4 (4.0.x) structure definitions check every
// element's name, type, cardinality and required bindings (errorOnUnexpected: unknown elements
// are errors). Three gaps of FHIR.js are covered here: it accepts a JSON number with a fraction
// where an integer type is due; its dateTime pattern is not anchored ("2026-13-45" or any number
// starting with four digits passes), so dateTime elements are checked with the anchored pattern
// of the FHIR specification; and it does not descend into nested Questionnaire(Response) items
// (a content reference), so those resources are validated a second time with every nested item
// lifted to the top level.
//
// Usage: node validate.cjs [--valid PATH]... [--invalid-manifest FILE]
//   --valid PATH             a .json file, or a folder whose *.json files must all be valid
//   --invalid-manifest FILE  {"file.json": {"fhir_valid": bool, ...}} beside the files: those
//                            with fhir_valid false must be rejected, the others accepted
// Exits 1 naming each file that was not judged as expected, with the validator's messages.
'use strict';
const fs = require('fs');
const path = require('path');
const { Fhir } = require('fhir');

const INTEGER_KEYS = new Set([
  'valueInteger', 'valuePositiveInt', 'valueUnsignedInt', 'total', 'count',
]);
// dateTime (and instant) elements of the resources Alliance reads and writes.
const DATE_TIME_KEYS = new Set([
  'authored', 'effectiveDateTime', 'issued', 'start', 'end', 'date', 'lastUpdated',
]);
// FHIR R4 dateTime, anchored (https://hl7.org/fhir/R4/datatypes.html#dateTime).
const DATE_TIME = new RegExp('^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)' +
  '(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:' +
  '([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$');

// FHIR.js leaves the integer types' fraction unchecked: a supplement, reported like its messages.
function integerMessages(node, where, out) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => integerMessages(v, `${where}[${i}]`, out));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      const at = `${where}.${key}`;
      if (INTEGER_KEYS.has(key) && typeof value === 'number' && !Number.isInteger(value)) {
        out.push({ location: at, severity: 'error', message: `integer expected, got ${value}` });
      }
      if (DATE_TIME_KEYS.has(key) && typeof value !== 'object' &&
          !(typeof value === 'string' && DATE_TIME.test(value))) {
        out.push({ location: at, severity: 'error', message: `invalid dateTime ${value}` });
      }
      integerMessages(value, at, out);
    }
  }
}

// Every item at any depth (item.item, item.answer.item), each without its nested items.
function liftItems(items, out) {
  if (!Array.isArray(items)) return out;
  for (const item of items) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      out.push(item);
      continue;
    }
    const copy = { ...item };
    delete copy.item;
    if (Array.isArray(item.answer)) {
      copy.answer = item.answer.map((a) => {
        if (a === null || typeof a !== 'object' || Array.isArray(a)) return a;
        const answer = { ...a };
        delete answer.item;
        liftItems(a.item, out);
        return answer;
      });
    }
    out.push(copy);
    liftItems(item.item, out);
  }
  return out;
}

// The Questionnaire(Response) resources in `resource` (itself or a Bundle's entries).
function itemResources(resource) {
  const found = [];
  const visit = (r) => {
    if (r === null || typeof r !== 'object') return;
    if ((r.resourceType === 'Questionnaire' || r.resourceType === 'QuestionnaireResponse') &&
        Array.isArray(r.item)) {
      found.push(r);
    }
    if (r.resourceType === 'Bundle' && Array.isArray(r.entry)) {
      r.entry.forEach((e) => e && visit(e.resource));
    }
  };
  visit(resource);
  return found;
}

function validateFile(fhir, file) {
  let resource;
  try {
    resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return [{ location: '', severity: 'error', message: `not JSON: ${e.message}` }];
  }
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource) ||
      typeof resource.resourceType !== 'string') {
    return [{ location: '', severity: 'error', message: 'not a FHIR resource (no resourceType)' }];
  }
  let messages;
  try {
    messages = fhir.validate(resource, { errorOnUnexpected: true }).messages;
  } catch (e) {
    return [{ location: '', severity: 'error', message: `validator threw: ${e.message}` }];
  }
  const errors = messages.filter((m) => m.severity === 'error' || m.severity === 'fatal');
  for (const r of itemResources(resource)) {
    const lifted = { ...r, item: liftItems(r.item, []) };
    for (const m of fhir.validate(lifted, { errorOnUnexpected: true }).messages) {
      if (m.severity === 'error' || m.severity === 'fatal') {
        errors.push({ ...m, location: `${m.location} (nested items lifted to the top)` });
      }
    }
  }
  integerMessages(resource, resource.resourceType, errors);
  return errors;
}

function describe(errors) {
  return errors.map((m) => `    ${m.resourceId ? m.resourceId + ' ' : ''}${m.location}: ${m.message}`)
    .join('\n');
}

function expand(p) {
  if (fs.statSync(p).isDirectory()) {
    return fs.readdirSync(p).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(p, f));
  }
  return [p];
}

function main(argv) {
  const valid = [];
  const manifests = [];
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--valid' && argv[i + 1]) valid.push(...expand(argv[i + 1]));
    else if (argv[i] === '--invalid-manifest' && argv[i + 1]) manifests.push(argv[i + 1]);
    else {
      console.error(`usage: node validate.cjs [--valid PATH]... [--invalid-manifest FILE]`);
      return 2;
    }
  }
  const fhir = new Fhir();
  let failures = 0;
  let checked = 0;
  for (const file of valid) {
    const errors = validateFile(fhir, file);
    checked++;
    if (errors.length > 0) {
      failures++;
      console.log(`INVALID (expected valid) ${file}\n${describe(errors)}`);
    } else {
      console.log(`valid ${file}`);
    }
  }
  for (const manifest of manifests) {
    const expectations = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    for (const [name, expect] of Object.entries(expectations)) {
      const file = path.join(path.dirname(manifest), name);
      const errors = validateFile(fhir, file);
      checked++;
      if (expect.fhir_valid === false && errors.length === 0) {
        failures++;
        console.log(`VALID (expected rejected) ${file}`);
      } else if (expect.fhir_valid !== false && errors.length > 0) {
        failures++;
        console.log(`INVALID (expected valid FHIR, refused by Alliance only) ${file}\n` +
                    describe(errors));
      } else {
        console.log(`${errors.length ? 'rejected' : 'valid FHIR'} as expected ${file}`);
      }
    }
  }
  if (checked === 0) {
    console.error('validate.cjs: no files to check');
    return 2;
  }
  console.log(`${checked - failures} passed, ${failures} failed`);
  return failures === 0 ? 0 : 1;
}

process.exit(main(process.argv.slice(2)));
