// Sign-in in a real browser (docs/dashboard.md, "Sign-in" and "Browser tests"): a good key gets
// the HttpOnly session cookie, the readable sign-in hint cookie and the caseload, a wrong key
// an error and no cookie, sign-out ends the session and clears both; a first visit asks for no
// session (no 401, no console error at all), a stale hint costs one 401 and is cleared; no
// console errors on the way.
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

// The session API calls the page makes, as "METHOD path".
function recordSessionCalls(page) {
  const calls = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/session') calls.push(`${r.method()} /api/v1/session`);
  });
  return calls;
}

// The sign-in hint cookie of the page's context, or undefined.
async function hintCookie(page) {
  return (await page.context().cookies()).find((c) => c.name === 'alliance_signed_in');
}

test('a first visit shows the sign-in form without asking for a session: no console error at all', async () => {
  // No expected failures: a 401 here would be a console error, and fail the test.
  const page = await openPage(browser);
  const calls = recordSessionCalls(page);
  await page.goto(`${stack.baseUrl}/`);
  await page.locator(byTestId('signin-form')).waitFor();
  assert.equal(new URL(page.url()).hash, '#/signin');
  await page.goto(`${stack.baseUrl}/#/inbox`);
  await page.reload();
  await page.locator(byTestId('signin-form')).waitFor();
  assert.deepEqual(calls, []);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a wrong key shows an error and sets no cookie', async () => {
  const page = await openPage(browser);
  await page.goto(`${stack.baseUrl}/`);
  await page.locator(byTestId('signin-form')).waitFor();
  await screenshot(page, 'signin');
  // The 401 of POST /api/v1/session is the answer under test; Chromium logs it as a console error.
  page.expectedFailures.push(/\/api\/v1\/session$/);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST');
  await signIn(page, stack, 'not-a-key-of-this-clinic');
  assert.equal((await answer).status(), 401);
  await page.locator(byTestId('signin-error')).waitFor({ state: 'visible' });
  assert.notEqual((await page.locator(byTestId('signin-error')).innerText()).trim(), '');
  assert.equal(await sessionCookie(page), undefined);
  assert.equal(await hintCookie(page), undefined);
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
  // The page's scripts cannot read the cookie, only the hint (no secret, the same flags but
  // HttpOnly and expiry); the session is the key's.
  const hint = await hintCookie(page);
  assert.ok(hint, 'no alliance_signed_in cookie after signing in');
  assert.equal(hint.value, '1');
  assert.equal(hint.httpOnly, false);
  assert.equal(hint.sameSite, 'Strict');
  assert.equal(hint.path, '/');
  assert.ok(Math.abs(hint.expires - cookie.expires) <= 1, `${hint.expires} vs ${cookie.expires}`);
  assert.equal(await page.evaluate(() => document.cookie), 'alliance_signed_in=1');
  // A reload asks for the session once (the hint is there) and stays signed in.
  const calls = recordSessionCalls(page);
  await page.reload();
  await page.locator(byTestId('caseload-table')).waitFor();
  assert.deepEqual(calls, ['GET /api/v1/session']);
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
  assert.equal(await hintCookie(page), undefined);
  // The old cookie is dead on the server too.
  const status = await page.request.get(`${stack.baseUrl}/api/v1/session`, {
    headers: { cookie: `alliance_session=${cookie.value}` },
  });
  assert.equal(status.status(), 401);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a hint whose session is gone costs one 401, then the page clears it and shows sign-in', async () => {
  // A session that ended on the server while the browser kept its cookies (signed out
  // elsewhere, revoked key): the page asks once, is told 401, and forgets the hint.
  const old = await openPage(browser);
  await signIn(old, stack, keys.readerA);
  await old.locator(byTestId('caseload-table')).waitFor();
  const cookies = await old.context().cookies();
  await old.locator(byTestId('signout')).click();
  await old.locator(byTestId('signin-form')).waitFor();
  await old.context().close();

  const page = await openPage(browser, { expectedFailures: [/\/api\/v1\/session$/] });
  await page.context().addCookies(cookies);
  assert.ok(await hintCookie(page));
  const calls = recordSessionCalls(page);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/session'));
  await page.goto(`${stack.baseUrl}/#/caseload`);
  assert.equal((await answer).status(), 401);
  await page.locator(byTestId('signin-form')).waitFor();
  assert.equal(await hintCookie(page), undefined);
  // The next visit asks nothing.
  await page.goto(`${stack.baseUrl}/#/caseload`);
  await page.reload();
  await page.locator(byTestId('signin-form')).waitFor();
  assert.deepEqual(calls, ['GET /api/v1/session']);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
