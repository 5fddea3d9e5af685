import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/backends.ts';
import { buildDashboard, hasChromium, launchBrowser, NO_CHROMIUM, newPage, pageProblems } from '../support/browser.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

if (!hasChromium) console.warn(NO_CHROMIUM);

/**
 * The built dashboard under its content security policy, in a real browser: Vite's output and
 * Mantine's run-time styles work, and script the page did not ship does not run.
 */
describe.skipIf(!hasChromium)('the dashboard under its content security policy', () => {
  let tg: RunningTollgate;
  let browser: Browser;

  beforeAll(async () => {
    buildDashboard();
    tg = await startTollgate({ dataDir: tempDir() });
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await tg?.close();
  });

  it('renders the built app and its styles with nothing blocked', async () => {
    const { page, context } = await newPage(browser, tg.url);
    const response = await page.goto('/sign-in');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // Mantine's styles were applied: the button is not the browser's default grey box.
    const background = await page
      .getByRole('button', { name: 'Sign in' })
      .evaluate((element) => getComputedStyle(element).backgroundColor);
    expect(background).not.toMatch(/^rgb\(2[34]\d, 2[34]\d, 2[34]\d\)$|^rgba\(0, 0, 0, 0\)$/);
    await page.waitForTimeout(300);
    expect(pageProblems(page)).toEqual([]);
    await context.close();
  });

  it('does not run an inline script injected into the page, and reports it', async () => {
    const { page, context } = await newPage(browser, tg.url);
    await page.goto('/sign-in');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
    });
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (window as { injected?: boolean }).injected)).toBeUndefined();
    expect(pageProblems(page).join('\n')).toMatch(/script-src/);
    await context.close();
  });

  it('cannot be framed by another page', async () => {
    const { page, context } = await newPage(browser, tg.url);
    await page.setContent(`<iframe id="framed" src="${tg.url}/sign-in" width="600" height="400"></iframe>`);
    await page.waitForTimeout(1000);
    const framed = page.frames().find((frame) => frame.url().startsWith(tg.url));
    const rendered = framed ? await framed.locator('button').count() : 0;
    expect(rendered).toBe(0);
    await context.close();
  });
});
