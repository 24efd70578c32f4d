// Chromium for the browser tests: Debian's /usr/bin/chromium (ALLIANCE_CHROMIUM) driven headless by
// playwright-core (installed by scripts/browser-tests.sh, found through ALLIANCE_PLAYWRIGHT), pages
// that record every console error and uncaught exception, sign-in through the form, and
// screenshots saved as artifacts.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { artifactsDir } from './stack.mjs';

const playwrightPath = process.env.ALLIANCE_PLAYWRIGHT;
if (!playwrightPath) throw new Error('ALLIANCE_PLAYWRIGHT is not set: run the tests with scripts/browser-tests.sh');
const { chromium } = await import(pathToFileURL(playwrightPath).href);

// Bounds of the waits on the page: the page answers from loopback services.
export const UI_TIMEOUT_MS = 5000;

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.ALLIANCE_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
  });
}

// A new page in its own context (own cookies) that records console errors and page errors in
// page.problems. Chromium itself reports a failed HTTP response as a console error ("Failed to
// load resource: ... 401"); a test that provokes one on purpose names its URL in
// expectedFailures (regular expressions), and only those are let through. The viewport is a
// laptop's unless given (TABLET for the tablet-width checks).
export const LAPTOP = { width: 1280, height: 860 };
export const TABLET = { width: 768, height: 1024 };
export async function openPage(browser, { expectedFailures = [], viewport = LAPTOP } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.problems = [];
  page.expectedFailures = [...expectedFailures];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const url = message.location()?.url ?? '';
    const expected = /^Failed to load resource/.test(message.text()) &&
      page.expectedFailures.some((re) => re.test(url));
    if (!expected) page.problems.push(`console error: ${message.text()} (${url})`);
  });
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  return page;
}

// The test id selector of the page contract (docs/dashboard.md).
export const byTestId = (id) => `[data-testid="${id}"]`;

// Signs in through the form with `key` (an entry of stack.keys, or a raw string).
export async function signIn(page, stack, key) {
  await page.goto(`${stack.baseUrl}/#/signin`);
  await page.locator(byTestId('signin-key')).fill(typeof key === 'string' ? key : key.key);
  await page.locator(byTestId('signin-submit')).click();
}

// The session cookie of the page's context, or undefined.
export async function sessionCookie(page) {
  const cookies = await page.context().cookies();
  return cookies.find((c) => c.name === 'alliance_session');
}

// Saves a screenshot as <artifacts>/<name>.png: the full page, or only the viewport.
export async function screenshot(page, name, { fullPage = true } = {}) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

// The data-alert-id of every inbox item, in page order.
export function inboxAlertIds(page) {
  return page.locator(`${byTestId('inbox-alert')}`).evaluateAll(
    (items) => items.map((item) => item.getAttribute('data-alert-id')));
}
