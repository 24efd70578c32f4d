// The inbox across an insights restart, in a real browser (docs/dashboard.md, "Browser tests"):
// insights stops while the page is open, a rupture is raised while it is down, insights comes
// back; the page reconnects by itself (the session lives in Redis, the stream resumes from its
// last event id) and shows every alert exactly once, the missed one included, and a live one
// after it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { byTestId, inboxAlertIds, launchChromium, openPage, signIn } from './browser.mjs';
import { Stack, keys, srs } from './stack.mjs';

// A rupture at session 4 (38, 38.5, 38, then 28.5, as in tests/e2e/pipeline_test.cc), weekly
// up to this week: recent enough that no disengagement alert (14 days of silence after a
// rupture, analytics/rules.default.json) joins it.
const ruptureSeries = (therapist, client) =>
  [38, 38.5, 38, 28.5].map((t, i) => srs('clinic-a', therapist, client, i + 1, t, 3 - i));

let stack;
let browser;

before(async () => {
  stack = new Stack('reconnect');
  await stack.start();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

// Every alert of clinic-a over gRPC (alliancectl alerts), ids only, once there are `count`
// (polled, bounded: the worker writes the alert with the dyad's new state).
async function grpcAlertIds(count) {
  const deadline = Date.now() + 5000;
  let ids = [];
  while (Date.now() < deadline) {
    const alerts = await stack.ctlJson(['alerts', '--all_pages'], keys.readerA);
    ids = alerts.map((a) => a.alert_id).sort();
    if (ids.length >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(ids.length, count, `alerts over gRPC: ${ids}`);
  return ids;
}

// Waits (bounded) until the inbox holds exactly the alert ids `want`, then returns the ids it
// shows, duplicates included.
async function inboxShows(page, want, timeoutMs) {
  await page.waitForFunction((ids) => {
    const shown = [...document.querySelectorAll('[data-testid="inbox-alert"]')]
      .map((el) => el.getAttribute('data-alert-id'));
    return ids.every((id) => shown.includes(id));
  }, want, { timeout: timeoutMs });
  return inboxAlertIds(page);
}

test('after an insights restart the inbox reconnects and shows every alert exactly once', async () => {
  await stack.submit(ruptureSeries('th-1', 'cl-1'), keys.submitA);
  await stack.waitForDyad('th-1', 'cl-1', 4, keys.readerA);
  const first = await grpcAlertIds(1);

  // The page loses its stream while insights is down; Chromium logs the refused reconnects.
  const page = await openPage(browser, { expectedFailures: [/\/api\/v1\//] });
  await signIn(page, stack, keys.readerA);
  await page.locator(byTestId('caseload-table')).waitFor();
  await page.goto(`${stack.baseUrl}/#/inbox`);
  assert.deepEqual(await inboxShows(page, first, 5000), first);

  await stack.stopInsights();
  // Raised while insights is down: the page can only learn of it by resuming.
  await stack.submit(ruptureSeries('th-1', 'cl-2'), keys.submitA);
  await stack.startInsights();
  await stack.waitForDyad('th-1', 'cl-2', 4, keys.readerA);
  const second = await grpcAlertIds(2);
  // EventSource retries after the stream's `retry: 2000`, plus the page's own backoff.
  let shown = await inboxShows(page, second, 15000);
  // Still signed in (the session is in Redis, not in the process) and live again.
  await page.locator(`${byTestId('connection-status')}[data-state="live"]`).waitFor({ state: 'attached', timeout: 15000 });
  assert.equal(await page.locator(byTestId('signin-form')).count(), 0);

  // One more, live, after the reconnect: anything replayed twice would have come before it.
  await stack.submit(ruptureSeries('th-2', 'cl-3'), keys.submitA);
  await stack.waitForDyad('th-2', 'cl-3', 4, keys.readerA);
  const third = await grpcAlertIds(3);
  shown = await inboxShows(page, third, 5000);
  assert.deepEqual([...shown].sort(), third, `inbox ${shown}`);

  // Only the failed requests while insights was down were let through as console errors.
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
