// The screenshots of docs/dashboard.md (run by scripts/dashboard-screenshots.sh, which starts the
// demo stack): signs in to the served dashboard in Debian's chromium (headless, playwright-core)
// and saves viewport-sized PNGs of the sign-in form, the caseload, the alert inbox and one
// dyad's page at laptop width, and the caseload at tablet width. Fixed locale and time zone, so
// only the demo's data changes them.
// Usage: node dashboard-screenshots.mjs URL KEY_FILE OUT_DIR
// Environment: ALLIANCE_PLAYWRIGHT (playwright-core's index.mjs), ALLIANCE_CHROMIUM.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [baseUrl, keyFile, outDir] = process.argv.slice(2);
if (!baseUrl || !keyFile || !outDir) {
  console.error('usage: dashboard-screenshots.mjs URL KEY_FILE OUT_DIR');
  process.exit(2);
}
const { chromium } = await import(pathToFileURL(process.env.ALLIANCE_PLAYWRIGHT).href);
const key = fs.readFileSync(keyFile, 'utf8').trim();
const LAPTOP = { width: 1280, height: 800 };
const TABLET = { width: 768, height: 1024 };
const WAIT_MS = 15000; // every wait is bounded: the page answers from loopback services
// th-01 / cl-004: the demo's V-shaped rupture that was repaired (scripts/demo.sh).
const DYAD = '#/dyads/th-01/cl-004';

const byTestId = (id) => `[data-testid="${id}"]`;
const problems = [];

async function newPage(browser, viewport) {
  const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(e.message));
  return page;
}

async function shot(page, name) {
  // Nothing focused or hovered, no caret: the picture is of the content.
  await page.evaluate(() => document.activeElement?.blur());
  await page.mouse.move(0, 0);
  const file = path.join(outDir, `dashboard-${name}.png`);
  await page.screenshot({ path: file, caret: 'hide', animations: 'disabled' });
  console.log(`${file}: ${fs.statSync(file).size} bytes`);
}

async function signIn(page) {
  await page.goto(`${baseUrl}/#/signin`);
  await page.locator(byTestId('signin-key')).fill(key);
  await page.locator(byTestId('signin-submit')).click();
  await page.locator(byTestId('caseload-row')).first().waitFor();
  await page.locator(`${byTestId('connection-status')}[data-state="live"]`).waitFor({ state: 'attached' });
}

// The caseload with every sparkline drawn (they load a few at a time after the table).
async function caseload(page) {
  await page.goto(`${baseUrl}/#/caseload`);
  await page.locator(byTestId('caseload-row')).first().waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('td[data-spark]')]
    .every((td) => td.querySelector('svg')), null, { timeout: WAIT_MS });
}

fs.mkdirSync(outDir, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.ALLIANCE_CHROMIUM ?? '/usr/bin/chromium', headless: true, timeout: 30000,
});
try {
  const page = await newPage(browser, LAPTOP);
  await page.goto(`${baseUrl}/`);
  await page.locator(byTestId('signin-form')).waitFor();
  await shot(page, 'signin');
  await signIn(page);
  await caseload(page);
  await shot(page, 'caseload');
  await page.goto(`${baseUrl}/#/inbox`);
  await page.locator(byTestId('inbox-alert')).first().waitFor();
  await shot(page, 'inbox');
  await page.goto(`${baseUrl}/${DYAD}`);
  await page.locator(`${byTestId('dyad-chart')} canvas`).first().waitFor();
  await page.locator(byTestId('dyad-sessions')).waitFor();
  await shot(page, 'dyad');

  const tablet = await newPage(browser, TABLET);
  await signIn(tablet);
  await caseload(tablet);
  await shot(tablet, 'caseload-tablet');
} finally {
  await browser.close();
}
if (problems.length) {
  console.error(`the page logged errors:\n${problems.join('\n')}`);
  process.exit(1);
}
