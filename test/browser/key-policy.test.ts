import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/backends.ts';
import {
  buildDashboard,
  choose,
  hasChromium,
  launchBrowser,
  NO_CHROMIUM,
  newPage,
  pageProblems,
  screenshot,
  signIn,
} from '../support/browser.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };

if (!hasChromium) console.warn(NO_CHROMIUM);

describe.skipIf(!hasChromium)('key limits and IAM rules set in the dashboard', () => {
  let fake: FakeOpenAI;
  let tg: RunningTollgate;
  let browser: Browser;
  let page: Page;
  let apiKey: string;

  const chat = async (model: string) => {
    const response = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] }),
    });
    return { status: response.status, body: await response.json() };
  };
  const row = () => page.getByTestId('key-row-budgeted');
  async function openAction(name: string) {
    await row().getByRole('button', { name: 'Actions for budgeted' }).click();
    await page.getByRole('menuitem', { name }).click();
  }

  beforeAll(async () => {
    buildDashboard();
    fake = await new FakeOpenAI('sk-upstream').start();
    tg = await startTollgate(
      { dataDir: tempDir() },
      { TOLLGATE_ADMIN_EMAIL: OWNER.email, TOLLGATE_ADMIN_PASSWORD: OWNER.password },
    );
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'openai-main',
      provider: 'openai',
      fields: { apiKey: 'sk-upstream', baseUrl: fake.url },
    });
    // Dear on purpose: one request costs 1 × $1,000/M + 10 × $2,000/M = $0.021.
    await tg.admin('POST', '/api/v1/models', {
      name: 'gpt-4o-mini',
      targets: [{ credential: 'openai-main', upstreamModel: 'gpt-4o-mini' }],
      inputPrice: 1000,
      outputPrice: 2000,
    });
    await tg.admin('POST', '/api/v1/models', {
      name: 'llama-local',
      targets: [{ credential: 'openai-main', upstreamModel: 'llama' }],
      inputPrice: 0,
      outputPrice: 0,
    });
    apiKey = (await tg.admin('POST', '/api/v1/keys', { name: 'budgeted' })).body.key;
    browser = await launchBrowser();
    ({ page } = await newPage(browser, tg.url));
    await signIn(page, OWNER.email, OWNER.password);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await tg?.close();
    await fake?.close();
  });

  it('an all-time limit set in the dashboard refuses the next request with 402', async () => {
    expect((await chat('gpt-4o-mini')).status).toBe(200);
    await page.goto('/keys');
    await openAction('Edit limits');
    const dialog = page.getByRole('dialog', { name: 'Limits of budgeted' });
    await dialog.getByText(/Spent so far: \$0\.02 in total/).waitFor();
    await dialog.getByRole('textbox', { name: 'All-time limit (USD)' }).fill('0.01');
    await dialog.getByRole('button', { name: 'Save limits' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row().getByText('$0.01 all-time').waitFor();

    const refused = await chat('gpt-4o-mini');
    expect(refused.status).toBe(402);
    expect(refused.body.error.message).toMatch(/limit/i);
  }, 60_000);

  it('validates the recurring window (1 hour to 12 months) and shows the current period', async () => {
    await openAction('Edit limits');
    const dialog = page.getByRole('dialog', { name: 'Limits of budgeted' });
    await dialog.getByRole('textbox', { name: 'All-time limit (USD)' }).fill('');
    await dialog.getByRole('textbox', { name: 'Amount (USD)' }).fill('5');
    await dialog.getByRole('textbox', { name: 'Every' }).fill('13');
    await choose(page, 'Window unit', 'Months');
    await dialog.getByRole('button', { name: 'Save limits' }).click();
    await dialog.getByText('A window can be at most 12 months').waitFor();
    await dialog.getByRole('textbox', { name: 'Every' }).fill('1');
    await choose(page, 'Window unit', 'Days');
    await dialog.getByRole('textbox', { name: 'Requests / minute' }).fill('100');
    await dialog.getByRole('button', { name: 'Save limits' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row().getByText('$5.00 per day').waitFor();
    await row().getByText('100 req/min').waitFor();
    await row()
      .getByText(/resets in/)
      .waitFor();
    expect(await row().textContent()).not.toContain('all-time');

    expect((await chat('gpt-4o-mini')).status).toBe(200);
    const key = (await tg.admin('GET', '/api/v1/keys')).body.keys[0];
    expect(key.spendLimit).toMatchObject({ recurring: { usd: 5, count: 1, unit: 'day' } });
    expect(key.spendLimit.allTimeUsd ?? null).toBeNull();
    expect(key.rateLimits).toEqual({ rpm: 100 });
  }, 60_000);

  it('IAM rules set in the dashboard deny a model with 403 and show a badge', async () => {
    await openAction('IAM rules');
    const dialog = page.getByRole('dialog', { name: 'IAM rules of budgeted' });
    const denied = dialog.getByRole('combobox', { name: 'Denied models' });
    await denied.fill('gpt-4o-mini');
    await denied.press('Enter');
    await dialog.getByRole('button', { name: 'Save rules' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row().getByTestId('iam-rules-badge').waitFor();
    await screenshot(page, 'keys-with-limits', { docs: true });

    const refused = await chat('gpt-4o-mini');
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/^Access denied: Model gpt-4o-mini/);
    expect((await chat('llama-local')).status).toBe(200);

    await openAction('IAM rules');
    await dialog.getByRole('button', { name: 'Cancel' }).waitFor();
    expect(await dialog.getByText('gpt-4o-mini').count()).toBeGreaterThan(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(pageProblems(page)).toEqual([]);
  }, 60_000);
});
