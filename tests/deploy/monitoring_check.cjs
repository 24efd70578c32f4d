// Checks the shipped monitoring (deploy/kubernetes/components/monitoring) offline:
// - the PrometheusRule's groups equal the plain rules file's, so both ways of loading the rules
//   alert alike;
// - every alert has a severity label and a summary, and every `for` is a duration;
// - the Grafana dashboard has a stable uid and title, a data-source variable of type
//   prometheus, and every panel and query uses that variable (never a fixed data source), with
//   unique panel ids and non-empty queries.
// (`promtool check rules` checks the PromQL; monitoring_metrics_test.cc that every metric the
// queries name is exported.)
// Usage: node monitoring_check.cjs RULES.yml PROMETHEUSRULE.yaml DASHBOARD.json
'use strict';
const fs = require('fs');
const util = require('util');
const yaml = require('js-yaml');

const [rulesFile, crFile, dashboardFile] = process.argv.slice(2);
if (!dashboardFile) {
  console.error('usage: monitoring_check.cjs RULES.yml PROMETHEUSRULE.yaml DASHBOARD.json');
  process.exit(2);
}
let failures = 0;
function fail(where, msg) {
  console.error(`${where}: ${msg}`);
  failures++;
}

const rules = yaml.load(fs.readFileSync(rulesFile, 'utf8'));
const cr = yaml.load(fs.readFileSync(crFile, 'utf8'));
if (!cr || cr.kind !== 'PrometheusRule') fail(crFile, 'not a PrometheusRule');
if (!util.isDeepStrictEqual(rules.groups, cr && cr.spec && cr.spec.groups)) {
  fail(crFile, `spec.groups differ from ${rulesFile}`);
}
for (const group of rules.groups || []) {
  for (const rule of group.rules || []) {
    if (!rule.alert) continue;
    const where = `${rulesFile}: ${group.name}/${rule.alert}`;
    if (!rule.labels || !['page', 'ticket', 'info'].includes(rule.labels.severity)) {
      fail(where, 'severity label must be page, ticket or info');
    }
    if (!rule.annotations || !rule.annotations.summary) fail(where, 'no summary annotation');
  }
}

const dashboard = JSON.parse(fs.readFileSync(dashboardFile, 'utf8'));
if (dashboard.uid !== 'alliance-overview') fail(dashboardFile, `uid ${dashboard.uid}, expected the stable alliance-overview`);
if (!dashboard.title) fail(dashboardFile, 'no title');
const variables = (dashboard.templating && dashboard.templating.list) || [];
const dsVariable = variables.find((v) => v.type === 'datasource' && v.query === 'prometheus');
if (!dsVariable) fail(dashboardFile, 'no data-source variable of type prometheus');
const expected = dsVariable ? `\${${dsVariable.name}}` : null;
const ids = new Set();
for (const panel of dashboard.panels || []) {
  const where = `${dashboardFile}: panel "${panel.title}"`;
  if (ids.has(panel.id)) fail(where, `duplicate id ${panel.id}`);
  ids.add(panel.id);
  if (panel.type === 'row') continue;
  if (!panel.datasource || panel.datasource.uid !== expected) {
    fail(where, `data source must be the variable ${expected}`);
  }
  if (!panel.targets || panel.targets.length === 0) fail(where, 'no queries');
  for (const t of panel.targets || []) {
    if (!t.expr || !t.expr.trim()) fail(where, `query ${t.refId} is empty`);
    if (!t.datasource || t.datasource.uid !== expected) {
      fail(where, `query ${t.refId} must use the data-source variable ${expected}`);
    }
  }
}
if (failures === 0) {
  console.log(`monitoring: ${rulesFile} = ${crFile}; ${dashboardFile}: ${ids.size} panels`);
}
process.exit(failures === 0 ? 0 : 1);
