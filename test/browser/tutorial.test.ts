import { readFile } from 'node:fs/promises';
import OpenAI from 'openai';
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
const UPSTREAM_KEY = 'sk-upstream-0123456789';
/** What the dashboard shows for a fraction of a cent, in the test browser's en-US locale. */
const usd = (value: number) =>
  new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: 'USD',
    minimumFractionDigits: 2,
    maximumSignificantDigits: 3,
  }).format(value);

if (!hasChromium) console.warn(NO_CHROMIUM);

describe.skipIf(!hasChromium)('dashboard tutorial in a real browser', () => {
  let fake: FakeOpenAI;
  let tg: RunningTollgate;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    buildDashboard();
    fake = await new FakeOpenAI(UPSTREAM_KEY).start();
    tg = await startTollgate(
      { dataDir: tempDir() },
      { TOLLGATE_ADMIN_EMAIL: OWNER.email, TOLLGATE_ADMIN_PASSWORD: OWNER.password },
    );
    browser = await launchBrowser();
    ({ page } = await newPage(browser, tg.url));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await tg?.close();
    await fake?.close();
  });

  it('signs in, connects a provider, creates my-vscode-plugin, sees its usage, revokes it', async () => {
    await signIn(page, OWNER.email, OWNER.password);
    await page.getByText('Getting started').waitFor();
    await screenshot(page, 'overview-first-run');

    // A provider credential and a model, made through the dashboard.
    await page.getByRole('link', { name: 'Provider credentials' }).click();
    await page.getByText('No provider credentials yet').waitFor();
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const credentialForm = page.getByRole('dialog', { name: 'Add provider credential' });
    await credentialForm.getByRole('textbox', { name: 'Name' }).fill('openai-main');
    await credentialForm.getByRole('textbox', { name: 'API key' }).fill(UPSTREAM_KEY);
    await credentialForm.getByRole('textbox', { name: 'Base URL' }).fill(fake.url);
    await credentialForm.getByRole('button', { name: 'Add credential' }).click();
    await page.getByTestId('credential-row-openai-main').waitFor();
    expect(await page.getByTestId('credential-row-openai-main').textContent()).not.toContain(UPSTREAM_KEY);

    await page.getByRole('link', { name: 'Models' }).click();
    await page.getByText('No models published yet').waitFor();
    await page.getByRole('button', { name: 'Publish model' }).first().click();
    const modelForm = page.getByRole('dialog', { name: 'Publish a model' });
    await modelForm.getByRole('textbox', { name: 'Public name' }).fill('gpt-4o-mini');
    await choose(page, 'Credential (target 1)', /openai-main/);
    await modelForm.getByRole('textbox', { name: 'Upstream model' }).fill('gpt-4o-mini');
    await modelForm.getByRole('textbox', { name: 'Input', exact: true }).fill('2.5');
    await modelForm.getByRole('textbox', { name: 'Output', exact: true }).fill('10');
    await modelForm.getByRole('button', { name: 'Publish model' }).click();
    await page.getByTestId('model-row-gpt-4o-mini').waitFor();
    await screenshot(page, 'models', { docs: true });

    // The key, shown once, copied with the button.
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByText('No API keys yet').waitFor();
    await page.getByRole('button', { name: 'Create API key' }).first().click();
    const createForm = page.getByRole('dialog', { name: 'Create API key' });
    await createForm.getByRole('textbox', { name: 'Name' }).fill('my-vscode-plugin');
    await createForm.getByRole('button', { name: 'Create key' }).click();
    const reveal = page.getByRole('dialog', { name: 'API key my-vscode-plugin created' });
    await reveal.getByText('This is the only time the key is shown').waitFor();
    const shown = await reveal.getByTestId('new-api-key').inputValue();
    await reveal.getByRole('button', { name: 'Copy key' }).click();
    await reveal.getByRole('button', { name: 'Copied' }).waitFor();
    const key = await page.evaluate(() => navigator.clipboard.readText());
    expect(key).toBe(shown);
    expect(key).toMatch(/^tg_/);
    await screenshot(page, 'key-created', { docs: true });
    await reveal.getByRole('button', { name: 'I have saved the key' }).click();
    const row = page.getByTestId('key-row-my-vscode-plugin');
    await row.waitFor();
    expect(await row.textContent()).not.toContain(key);

    // The key works with the official OpenAI client.
    const client = new OpenAI({ apiKey: key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello to my VS Code plugin' }],
    });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    expect(completion.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 10 });

    // Usage, filtered by that key: the request with its tokens and cost.
    await page.reload();
    await row.getByRole('button', { name: 'Actions for my-vscode-plugin' }).click();
    await page.getByRole('menuitem', { name: 'View usage' }).click();
    await page.waitForURL(/\/usage\?key=/);
    const usageRow = page.getByTestId('usage-row');
    await usageRow.first().waitFor();
    expect(await usageRow.count()).toBe(1);
    const recorded = (await tg.admin('GET', `/api/v1/usage?key=${new URL(page.url()).searchParams.get('key')}`)).body
      .records[0];
    expect(recorded.costUsd).toBeCloseTo((7 * 2.5 + 10 * 10) / 1e6, 12);
    expect(await usageRow.getByTestId('usage-input-tokens').textContent()).toBe('7');
    expect(await usageRow.getByTestId('usage-output-tokens').textContent()).toBe('10');
    expect(await usageRow.getByTestId('usage-cost').textContent()).toBe(usd(recorded.costUsd));
    expect(await usageRow.textContent()).toContain('my-vscode-plugin');
    await page.getByRole('combobox', { name: 'API key' }).waitFor();
    expect(await page.getByRole('combobox', { name: 'API key' }).inputValue()).toMatch(/^my-vscode-plugin/);
    await screenshot(page, 'usage', { docs: true });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csv = (await readFile(await download.path(), 'utf8')).trim().split('\r\n');
    expect(csv[0]).toMatch(/^time,requestId,keyName,/);
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain(`,my-vscode-plugin,`);
    expect(csv[1]).toContain(`,gpt-4o-mini,openai,`);

    // The overview ranks it among keys and models by spend.
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Top keys by spend' }).waitFor();
    await page.getByText('my-vscode-plugin').waitFor();
    await screenshot(page, 'overview', { docs: true });

    // Revoked, after a confirmation: the next request is refused with 401.
    await page.getByRole('link', { name: 'API keys' }).click();
    await row.getByRole('button', { name: 'Actions for my-vscode-plugin' }).click();
    await page.getByRole('menuitem', { name: 'Revoke' }).click();
    await page
      .getByRole('dialog', { name: 'Revoke my-vscode-plugin?' })
      .getByRole('button', { name: 'Revoke key' })
      .click();
    await row.getByText('Revoked').waitFor();
    await screenshot(page, 'keys', { docs: true });
    const refused = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Still there?' }] })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as InstanceType<typeof OpenAI.APIError>).status).toBe(401);
    expect((refused as InstanceType<typeof OpenAI.APIError>).message).toMatch(/revoked/i);

    expect(pageProblems(page)).toEqual([]);
  }, 120_000);
});
