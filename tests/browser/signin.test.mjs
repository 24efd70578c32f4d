// Sign-in in a real browser (docs/dashboard.md, "Sign-in" and "Browser tests"): a good key gets
// the HttpOnly session cookie and the caseload, a wrong key an error and no cookie, sign-out
// ends the session; no console errors on the way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { byTestId, launchChromium, openPage, screenshot, sessionCookie, signIn } from './browser.mjs';
import { Stack, keys } from './stack.mjs';

let stack;
let browser;

before(async () => {
  stack = new Stack('signin');
  await stack.start();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('a wrong key shows an error and sets no cookie', async () => {
  // The 401 of POST /api/v1/session is the answer under test; Chromium logs it as a console error.
  const page = await openPage(browser, { expectedFailures: [/\/api\/v1\/session$/] });
  await page.goto(`${stack.baseUrl}/`);
  await page.locator(byTestId('signin-form')).waitFor();
  await screenshot(page, 'signin');
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
  await signIn(page, stack, 'not-a-key-of-this-clinic');
  assert.equal((await answer).status(), 401);
  await page.locator(byTestId('signin-error')).waitFor({ state: 'visible' });
  assert.notEqual((await page.locator(byTestId('signin-error')).innerText()).trim(), '');
  assert.equal(await sessionCookie(page), undefined);
  await screenshot(page, 'signin-error');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a good key signs in with an HttpOnly SameSite=Strict cookie, and sign-out ends it', async () => {
  const page = await openPage(browser);
  await signIn(page, stack, keys.readerA);
  await page.locator(byTestId('caseload-table')).waitFor();
  const cookie = await sessionCookie(page);
  assert.ok(cookie, 'no alliance_session cookie after signing in');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/');
  assert.notEqual(cookie.value, keys.readerA.key);
  // The page's scripts cannot read the cookie; the session is the key's.
  assert.ok(!(await page.evaluate(() => document.cookie)).includes('alliance_session'));
  const session = await page.evaluate(async () => (await fetch('/api/v1/session')).json());
  assert.equal(session.tenantId, 'clinic-a');
  assert.equal(session.keyId, keys.readerA.id);
  // A write with the cookie but without the session's CSRF token is refused (403), with it
  // the request goes through to the alert lookup (404: no such alert).
  page.expectedFailures.push(/\/api\/v1\/alerts\/no-such-alert\/acknowledge$/);
  const writes = await page.evaluate(async (token) => {
    const post = (headers) => fetch('/api/v1/alerts/no-such-alert/acknowledge', {
      method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"actor":"dash-a"}',
    }).then((r) => r.status);
    return [await post({}), await post({ 'x-csrf-token': 'not-the-token' }), await post({ 'x-csrf-token': token })];
  }, session.csrfToken);
  assert.deepEqual(writes, [403, 403, 404]);

  await page.locator(byTestId('signout')).click();
  await page.locator(byTestId('signin-form')).waitFor();
  assert.equal(await sessionCookie(page), undefined);
  // The old cookie is dead on the server too.
  const status = await page.request.get(`${stack.baseUrl}/api/v1/session`, {
    headers: { cookie: `alliance_session=${cookie.value}` },
  });
  assert.equal(status.status(), 401);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
