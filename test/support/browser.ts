import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Browser tests drive Debian's Chromium with playwright-core; no browser is ever downloaded.
 * `.ci/run` installs the `chromium` package. Without it, the browser suites are skipped and say why.
 */
export const CHROMIUM = process.env.TOLLGATE_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const NO_CHROMIUM = `browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Every page a browser test visits is photographed here (git-ignored). */
export const SCREENSHOT_DIR = path.join(ROOT, '.tmp', 'screenshots');
/** The pictures the README and docs/dashboard.md show; refreshed with TOLLGATE_UPDATE_SCREENSHOTS=1. */
const DOCS_SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');

/**
 * Chromium on a machine without internet access hangs on its background services unless they
 * are all turned off. Playwright gives every launch a fresh temporary profile (--user-data-dir).
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** Builds web/dist when it is missing or older than web/src (a no-op most of the time). */
export function buildDashboard(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-web.mjs'), '--if-stale'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
}

/** A signed-out browser window at desktop size, allowed to use the clipboard. */
export async function newPage(
  browser: Browser,
  baseURL: string,
  viewport = { width: 1280, height: 860 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport, locale: 'en-US', timezoneId: 'UTC' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  context.setDefaultTimeout(15_000);
  // Anything the dashboard's content security policy blocks is a problem the test reports.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(
        `Content security policy violation: ${event.effectiveDirective} blocked ${event.blockedURI || 'inline code'} (${event.sourceFile}:${event.lineNumber})`,
      );
    });
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (401|402|403|404|409)/.test(message.text())) {
      problems.push(message.text());
    }
  });
  (page as Page & { problems?: string[] }).problems = problems;
  return { context, page };
}

/** Errors the page threw or logged; a test ends by expecting none. */
export function pageProblems(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByRole('textbox', { name: 'Password' }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-user').waitFor();
}

/**
 * Saves a picture of the page under .tmp/screenshots; with `docs` and
 * TOLLGATE_UPDATE_SCREENSHOTS=1 also under docs/screenshots for the README.
 */
export async function screenshot(page: Page, name: string, options: { docs?: boolean } = {}): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // Let charts and transitions settle.
  await page.waitForTimeout(400);
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  // Notifications of earlier steps would cover the page.
  await page.screenshot({ path: file, fullPage: true, style: '.mantine-Notifications-root { display: none; }' });
  if (options.docs && process.env.TOLLGATE_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
    copyFileSync(file, path.join(DOCS_SCREENSHOTS, `${name}.png`));
  }
}

/** Chooses an option of a Mantine Select (a combobox) by its visible text. */
export async function choose(page: Page, label: string | RegExp, option: string | RegExp): Promise<void> {
  await page.getByRole('combobox', { name: label }).click();
  await page.getByRole('option', { name: option }).first().click();
}
