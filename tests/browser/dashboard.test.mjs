// The dashboard in a real browser against the real services (docs/dashboard.md, "Browser tests"):
// the caseload lists the seeded cohort, a rupture submitted over gRPC reaches the open inbox
// within 2 s, an acknowledgement made on the page is what gRPC reads, the dyad chart carries the
// instrument's cutoff and the rupture marker, another tenant's dyad shows nothing of it, and no
// page logs a console error; at tablet width (768 px) the caseload's client link and flags, the
// inbox and the chart stay on screen and the chart follows the window. Screenshots: caseload,
// inbox, dyad, and each at tablet width.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  TABLET, byTestId, inboxAlertIds, launchChromium, openPage, screenshot, signIn,
} from './browser.mjs';
import { Stack, keys, srs, waiT } from './stack.mjs';

// clinic-a: three dyads of two therapists; cl-2 has three steady sessions and gets its rupture
// in a test (38, 38.5, 38 then 28.5: below the SRS cutoff of 36 and a reliable drop, as in
// tests/e2e/pipeline_test.cc). clinic-b: one dyad with a rupture of its own.
const cohortA = [
  ...[38, 38.4, 38.2, 38.6].map((t, i) => srs('clinic-a', 'th-1', 'cl-1', i + 1, t, 5 - i)),
  ...[1, 2, 3, 4].map((s) => waiT('clinic-a', 'th-1', 'cl-1', s, 4, 6 - s)),
  ...[38, 38.5, 38].map((t, i) => srs('clinic-a', 'th-1', 'cl-2', i + 1, t, 4 - i)),
  ...[37, 37.5].map((t, i) => srs('clinic-a', 'th-2', 'cl-3', i + 1, t, 3 - i)),
];
const cohortB = [38, 38.5, 38, 27.3].map((t, i) => srs('clinic-b', 'th-9', 'cl-9', i + 1, t, 5 - i));
const ruptureA = srs('clinic-a', 'th-1', 'cl-2', 4, 28.5, 1);

let stack;
let browser;
let page;

before(async () => {
  stack = new Stack('dashboard');
  await stack.start();
  await stack.submit(cohortA, keys.submitA);
  await stack.submit(cohortB, keys.submitB);
  await Promise.all([
    stack.waitForDyad('th-1', 'cl-1', 8, keys.readerA),
    stack.waitForDyad('th-1', 'cl-2', 3, keys.readerA),
    stack.waitForDyad('th-2', 'cl-3', 2, keys.readerA),
    stack.waitForDyad('th-9', 'cl-9', 4, keys.readerB),
  ]);
  browser = await launchChromium();
  page = await openPage(browser);
  await signIn(page, stack, keys.readerA);
  await page.locator(byTestId('caseload-table')).waitFor();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the caseload lists the tenant\'s cohort and nothing else', async () => {
  await page.goto(`${stack.baseUrl}/#/caseload`);
  const rows = page.locator(byTestId('caseload-row'));
  await rows.nth(2).waitFor();
  const dyads = await rows.evaluateAll((items) => items.map(
    (row) => `${row.getAttribute('data-therapist')}/${row.getAttribute('data-client')}`));
  assert.deepEqual([...dyads].sort(), ['th-1/cl-1', 'th-1/cl-2', 'th-2/cl-3']);
  await screenshot(page, 'caseload');
  assert.deepEqual(page.problems, []);
});

let ruptureId;

test('a rupture submitted over gRPC appears in the open inbox within 2 s', async (t) => {
  await page.goto(`${stack.baseUrl}/#/inbox`);
  // The list is in the page (hidden while empty) and the live stream is open.
  await page.locator(byTestId('inbox-list')).waitFor({ state: 'attached' });
  await page.locator(`${byTestId('connection-status')}[data-state="live"]`).waitFor({ state: 'attached' });
  const before = new Set(await inboxAlertIds(page));
  await stack.submit([ruptureA], keys.submitA);
  const submitted = Date.now();
  // Bounded at 2 s from the submission's acknowledgement: the worker, the alert stream, the
  // SSE fan-out and the page's rendering together.
  await page.waitForFunction((known) => [...document.querySelectorAll('[data-testid="inbox-alert"]')]
    .some((el) => !known.includes(el.getAttribute('data-alert-id'))), [...before], { timeout: 2000 });
  t.diagnostic(`shown ${Date.now() - submitted} ms after the intake's answer`);
  const fresh = (await inboxAlertIds(page)).filter((id) => !before.has(id));
  // It is the rupture gRPC reports for cl-2's fourth session (and whatever else is new is an
  // alert gRPC lists too).
  const alerts = await stack.ctlJson(['alerts', '--all_pages'], keys.readerA);
  const rupture = alerts.find((a) => a.client_id === 'cl-2' && a.kind === 'ALERT_KIND_RUPTURE');
  assert.ok(rupture, JSON.stringify(alerts));
  assert.equal(rupture.session_number, 4);
  ruptureId = rupture.alert_id;
  assert.ok(fresh.includes(ruptureId), `new inbox items ${fresh}, rupture ${ruptureId}`);
  for (const id of fresh) assert.ok(alerts.some((a) => a.alert_id === id), `${id} is not an alert of the tenant`);
  const text = await page.locator(`${byTestId('inbox-alert')}[data-alert-id="${ruptureId}"]`).innerText();
  assert.match(text, /cl-2/);
  await screenshot(page, 'inbox');
  assert.deepEqual(page.problems, []);
});

test('an acknowledgement made on the page is what gRPC reads', async () => {
  assert.ok(ruptureId, 'needs the rupture of the previous test');
  const item = page.locator(`${byTestId('inbox-alert')}[data-alert-id="${ruptureId}"]`);
  const answer = page.waitForResponse((r) => r.url().endsWith(`/api/v1/alerts/${ruptureId}/acknowledge`));
  await item.locator(byTestId('alert-ack')).click();
  assert.equal((await answer).status(), 200);
  // Over gRPC (alliancectl alerts --status=acknowledged), bounded.
  const deadline = Date.now() + 5000;
  let acknowledged = [];
  while (Date.now() < deadline) {
    acknowledged = await stack.ctlJson(['alerts', '--status=acknowledged'], keys.readerA);
    if (acknowledged.some((a) => a.alert_id === ruptureId)) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const alert = acknowledged.find((a) => a.alert_id === ruptureId);
  assert.ok(alert, `not acknowledged over gRPC: ${JSON.stringify(acknowledged)}`);
  assert.equal(alert.status, 'ALERT_STATUS_ACKNOWLEDGED');
  // The page acts as the signed-in key.
  assert.equal(alert.acknowledged_by, keys.readerA.id, JSON.stringify(alert));
  await page.locator(`${byTestId('inbox-alert')}[data-alert-id="${ruptureId}"][data-status="acknowledged"]`).waitFor();
  assert.deepEqual(page.problems, []);
});

// Polls alliancectl alerts (gRPC) until the alert `id` is there with `status`; bounded.
async function grpcAlertWithStatus(id, status) {
  const deadline = Date.now() + 5000;
  let alerts = [];
  while (Date.now() < deadline) {
    alerts = await stack.ctlJson(['alerts', `--status=${status}`], keys.readerA);
    const alert = alerts.find((a) => a.alert_id === id);
    if (alert) return alert;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`alert ${id} not ${status} over gRPC: ${JSON.stringify(alerts)}`);
}

test('a snooze and a resolve made on the page are what gRPC reads', async () => {
  assert.ok(ruptureId, 'needs the rupture of an earlier test');
  const item = page.locator(`${byTestId('inbox-alert')}[data-alert-id="${ruptureId}"]`);
  await item.locator(byTestId('alert-snooze')).click();
  await item.locator(byTestId('snooze-reason')).fill('talk it through at the next session');
  const snoozed = page.waitForResponse((r) => r.url().endsWith(`/api/v1/alerts/${ruptureId}/snooze`));
  await item.locator(byTestId('snooze-submit')).click();
  assert.equal((await snoozed).status(), 200);
  const alert = await grpcAlertWithStatus(ruptureId, 'snoozed');
  assert.equal(alert.snoozed_by, keys.readerA.id, JSON.stringify(alert));
  assert.ok(Date.parse(alert.snoozed_until) > Date.now(), JSON.stringify(alert));
  await page.locator(`${byTestId('inbox-alert')}[data-alert-id="${ruptureId}"][data-status="snoozed"]`).waitFor();

  const resolved = page.waitForResponse((r) => r.url().endsWith(`/api/v1/alerts/${ruptureId}/resolve`));
  await item.locator(byTestId('alert-resolve')).click();
  assert.equal((await resolved).status(), 200);
  assert.equal((await grpcAlertWithStatus(ruptureId, 'resolved')).resolved_by, keys.readerA.id);
  await page.locator(`${byTestId('inbox-alert')}[data-alert-id="${ruptureId}"][data-status="resolved"]`).waitFor();
  assert.deepEqual(page.problems, []);
});

test('the dyad chart has the instrument\'s cutoff, both raters\' series and the rupture marker', async () => {
  assert.ok(ruptureId, 'needs the rupture of the previous test');
  await page.goto(`${stack.baseUrl}/#/dyads/th-1/cl-2`);
  await page.locator(byTestId('dyad-chart')).waitFor();
  await page.locator(byTestId('dyad-sessions')).waitFor();
  await page.waitForFunction(() => window.allianceChartData?.markers?.length > 0);
  const chart = await page.evaluate(() => window.allianceChartData);

  // The API's view of the same dyad and instrument (header key, as any client would ask).
  const api = async (route) => {
    const response = await fetch(`${stack.baseUrl}${route}`, { headers: { authorization: `Bearer ${keys.readerA.key}` } });
    assert.equal(response.status, 200, route);
    return response.json();
  };
  const { instruments } = await api('/api/v1/instruments');
  const instrument = instruments.find((i) => i.id === 'srs');
  const { points } = await api('/api/v1/dyads/th-1/cl-2/timeline');
  const client = points.filter((p) => p.rater === 'RATER_CLIENT');
  assert.deepEqual(client.map((p) => p.total), [38, 38.5, 38, 28.5]);

  // The chart is in POMP (percent of maximum possible), so client and therapist instruments
  // share an axis: one point per client session at the API's POMP, the cutoff as POMP of the
  // instrument's total cutoff (SRS: 36 of 40 = 90), the band the baseline ± the reliable change
  // threshold (Jacobson & Truax: 1.96 · SD · √2 · √(1 − r), DOMAIN.md) from the instrument's own
  // figures, and the rupture at session 4 on the client's point.
  const totalMin = instrument.totalMin ?? 0;
  const span = instrument.totalMax - totalMin;
  const pomp = (x) => (100 * (x - totalMin)) / span;
  const near = (a, b) => Math.abs(a - b) < 1e-9;
  assert.deepEqual(chart.series.client.map((p) => p.session), [1, 2, 3, 4]);
  chart.series.client.forEach((p, i) => assert.ok(near(p.value, client[i].pomp), JSON.stringify(p)));
  assert.equal(instrument.totalCutoff.value, 36);
  assert.ok(near(chart.cutoff, pomp(instrument.totalCutoff.value)), `cutoff ${chart.cutoff}`);
  const { dyad } = await api('/api/v1/dyads/th-1/cl-2');
  const series = dyad.series.find((x) => x.rater === 'RATER_CLIENT');
  assert.equal(series.hasBaseline, true);
  const rc = (1.96 * instrument.populationSd * Math.SQRT2 * Math.sqrt(1 - instrument.reliability) * 100) / span;
  assert.ok(rc > 0);
  assert.equal(chart.rciBand.length, 2);
  assert.ok(near(chart.rciBand[0], pomp(series.baseline) - rc) && near(chart.rciBand[1], pomp(series.baseline) + rc),
    `rciBand ${chart.rciBand}, baseline ${series.baseline}, rc ${rc}`);
  assert.deepEqual(chart.series.therapist, [], 'cl-2 has no therapist ratings');

  const ruptures = chart.markers.filter((m) => m.kind === 'rupture');
  assert.equal(ruptures.length, 1, JSON.stringify(chart.markers));
  assert.equal(ruptures[0].session, 4);
  assert.ok(near(ruptures[0].value, client[3].pomp), JSON.stringify(ruptures[0]));
  assert.equal(chart.markers.length, 1, JSON.stringify(chart.markers));

  const sessions = await page.locator(byTestId('dyad-sessions')).innerText();
  assert.match(sessions, /28\.5/);
  await screenshot(page, 'dyad');
  assert.deepEqual(page.problems, []);
});

test('a dyad of both raters charts the therapist\'s series too', async () => {
  await page.goto(`${stack.baseUrl}/#/dyads/th-1/cl-1`);
  await page.locator(byTestId('dyad-chart')).waitFor();
  await page.waitForFunction(() => window.allianceChartData?.series?.therapist?.length === 4);
  const chart = await page.evaluate(() => window.allianceChartData);
  assert.equal(chart.series.client.length, 4);
  assert.deepEqual(chart.markers, []);
  assert.deepEqual(page.problems, []);
});

// Fails unless `box` (a boundingBox, viewport coordinates) lies within 0..width horizontally.
function assertWithin(box, width, what) {
  assert.ok(box, `${what}: not rendered`);
  assert.ok(box.x >= 0 && box.x + box.width <= width + 0.5, `${what} is off-screen at ${width} px: ${JSON.stringify(box)}`);
}

test('at tablet width the caseload\'s client link and flags, the inbox and the chart stay on screen', async () => {
  const tablet = await openPage(browser, { viewport: TABLET });
  const { width } = TABLET;
  const noSidewaysScroll = async (view) => assert.equal(
    await tablet.evaluate(() => document.documentElement.scrollWidth), width, `${view} scrolls sideways`);
  await signIn(tablet, stack, keys.readerA);
  // The first row (sorted by flags, most first) has flags: cl-2 is below the SRS cutoff.
  const row = tablet.locator(byTestId('caseload-row')).first();
  await row.waitFor();
  const flags = row.locator('[data-flag]');
  assert.ok(await flags.count() > 0, 'the first caseload row has no flags');
  assertWithin(await row.locator('a').first().boundingBox(), width, 'client link');
  for (const flag of await flags.all()) {
    assertWithin(await flag.boundingBox(), width, `flag ${await flag.getAttribute('data-flag')}`);
  }
  await noSidewaysScroll('caseload');
  await screenshot(tablet, 'caseload-tablet', { fullPage: false });

  await tablet.goto(`${stack.baseUrl}/#/inbox`);
  const item = tablet.locator(byTestId('inbox-alert')).first();
  await item.waitFor();
  assertWithin(await item.boundingBox(), width, 'inbox item');
  assertWithin(await item.locator(byTestId('alert-resolve')).boundingBox(), width, 'resolve button');
  await noSidewaysScroll('inbox');
  await screenshot(tablet, 'inbox-tablet', { fullPage: false });

  await tablet.goto(`${stack.baseUrl}/#/dyads/th-1/cl-1`);
  const canvas = tablet.locator(`${byTestId('dyad-chart')} canvas`).first();
  await canvas.waitFor();
  const chartBox = await tablet.locator(byTestId('dyad-chart')).boundingBox();
  const drawn = await canvas.boundingBox();
  assert.ok(drawn.width <= width, `canvas ${drawn.width} px wide in a ${width} px viewport`);
  assertWithin(drawn, width, 'chart canvas');
  assert.ok(drawn.x + drawn.width <= chartBox.x + chartBox.width, `canvas ${JSON.stringify(drawn)} sticks out of its box ${JSON.stringify(chartBox)}`);
  // The session table scrolls inside its own box, if at all.
  assertWithin(await tablet.locator('.table-wrap').filter({ has: tablet.locator(byTestId('dyad-sessions')) }).boundingBox(),
    width, 'session table box');
  await noSidewaysScroll('dyad');
  await screenshot(tablet, 'dyad-tablet', { fullPage: false });

  // The chart follows the window: wider at 1024 px, back within 768 px again.
  const canvasWidth = () => tablet.evaluate(() => document.querySelector('[data-testid="dyad-chart"] canvas').getBoundingClientRect().width);
  await tablet.setViewportSize({ width: 1024, height: TABLET.height });
  await tablet.waitForFunction((w) => document.querySelector('[data-testid="dyad-chart"] canvas').getBoundingClientRect().width > w, drawn.width);
  assert.ok(await canvasWidth() <= 1024);
  await tablet.setViewportSize(TABLET);
  await tablet.waitForFunction((w) => document.querySelector('[data-testid="dyad-chart"] canvas').getBoundingClientRect().width <= w, drawn.width);
  assertWithin(await canvas.boundingBox(), width, 'chart canvas after resizing');
  assert.deepEqual(tablet.problems, []);
  await tablet.context().close();
});

test('another tenant\'s dyad URL shows nothing of it', async () => {
  const other = await openPage(browser, { expectedFailures: [/\/api\/v1\/dyads\/th-9\/cl-9/] });
  await signIn(other, stack, keys.readerA);
  await other.locator(byTestId('caseload-table')).waitFor();
  const bodies = [];
  other.on('response', async (response) => {
    if (response.url().includes('/api/v1/')) bodies.push(await response.text().catch(() => ''));
  });
  const answers = [/\/th-9\/cl-9$/, /\/th-9\/cl-9\/timeline$/].map(
    (route) => other.waitForResponse((r) => route.test(r.url())));
  await other.goto(`${stack.baseUrl}/#/dyads/th-9/cl-9`);
  for (const answer of await Promise.all(answers)) {
    assert.ok([403, 404].includes(answer.status()), `${answer.url()}: ${answer.status()}`);
  }
  // The page renders what it got (two frames after the answers).
  await other.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await other.locator(byTestId('dyad-chart')).waitFor({ state: 'detached' });
  // Nothing of clinic-b reached the page: no score, no series, no alert.
  for (const body of bodies) assert.ok(!body.includes('clinic-b') && !body.includes('27.3'), body);
  const chart = await other.evaluate(() => window.allianceChartData ?? null);
  const points = chart ? chart.series.client.length + chart.series.therapist.length + chart.markers.length : 0;
  assert.equal(points, 0, JSON.stringify(chart));
  assert.doesNotMatch(await other.locator('body').innerText(), /27\.3/);
  assert.deepEqual(other.problems, []);
  await other.context().close();
});
