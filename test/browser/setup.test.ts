import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/backends.ts';
import {
  buildDashboard,
  hasChromium,
  launchBrowser,
  NO_CHROMIUM,
  newPage,
  pageProblems,
  screenshot,
} from '../support/browser.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

if (!hasChromium) console.warn(NO_CHROMIUM);

describe.skipIf(!hasChromium)('first owner through the one-time set-up link', () => {
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

  it('says an owner is missing, creates one from the link, and signs them in', async () => {
    const token = tg.tollgate.setupToken;
    expect(token).toBeTruthy();
    const { page, context } = await newPage(browser, tg.url);
    await page.goto('/keys');
    await page.waitForURL(/\/sign-in\?redirect=/);
    await page.getByText('No owner yet').waitFor();
    await screenshot(page, 'sign-in', { docs: true });

    await page.goto(`/setup?token=${token}`);
    await page.getByRole('textbox', { name: 'Your name' }).fill('Olive Owner');
    await page.getByRole('textbox', { name: 'Email' }).fill('olive@example.com');
    await page.getByRole('textbox', { name: 'Password', exact: true }).fill('short');
    await page.getByRole('textbox', { name: 'Repeat the password' }).fill('short');
    await page.getByRole('button', { name: 'Create account and sign in' }).click();
    await page.getByText('Use at least 10 characters').waitFor();
    await page.getByRole('textbox', { name: 'Password', exact: true }).fill('olive-password-1');
    await page.getByRole('textbox', { name: 'Repeat the password' }).fill('olive-password-1');
    await page.getByRole('button', { name: 'Create account and sign in' }).click();
    await page.getByRole('heading', { name: 'Welcome, Olive Owner' }).waitFor();
    await screenshot(page, 'overview-empty');

    // The link works once.
    const again = await page.request.post('/api/auth/setup', {
      data: { token, email: 'mallory@example.com', password: 'mallory-password' },
    });
    expect(again.status()).toBeGreaterThanOrEqual(400);
    expect(pageProblems(page)).toEqual([]);
    await context.close();
  }, 60_000);
});
