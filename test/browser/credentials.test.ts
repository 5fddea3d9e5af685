import type { Browser, Page } from 'playwright-core';
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
  signIn,
} from '../support/browser.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };

if (!hasChromium) console.warn(NO_CHROMIUM);

describe.skipIf(!hasChromium)('provider credentials in the dashboard', () => {
  let first: FakeOpenAI;
  let second: FakeOpenAI;
  let tg: RunningTollgate;
  let browser: Browser;
  let page: Page;
  let apiKey: string;

  const chat = (model: string) =>
    fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });

  beforeAll(async () => {
    buildDashboard();
    first = await new FakeOpenAI('sk-first-upstream-secret').start();
    second = await new FakeOpenAI('sk-second-upstream-secret').start();
    tg = await startTollgate(
      { dataDir: tempDir() },
      { TOLLGATE_ADMIN_EMAIL: OWNER.email, TOLLGATE_ADMIN_PASSWORD: OWNER.password },
    );
    apiKey = (await tg.admin('POST', '/api/v1/keys', { name: 'credential-checks' })).body.key;
    browser = await launchBrowser();
    ({ page } = await newPage(browser, tg.url));
    await signIn(page, OWNER.email, OWNER.password);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await tg?.close();
    await first?.close();
    await second?.close();
  });

  it('creates a credential from the fields its provider declares, and never shows the secret again', async () => {
    await page.goto('/credentials');
    await page.getByRole('button', { name: 'Add credential' }).first().click();
    const form = page.getByRole('dialog', { name: 'Add provider credential' });
    // The provider's declaration drives the form: OpenAI asks for a key, a base URL and an organisation.
    await form.getByRole('textbox', { name: 'Organization ID' }).waitFor();
    await form.getByRole('button', { name: 'Add credential' }).click();
    await form.getByText('API key is required').waitFor();
    await form.getByRole('textbox', { name: 'Name' }).fill('openai-prod');
    await form.getByRole('textbox', { name: 'API key' }).fill('sk-first-upstream-secret');
    await form.getByRole('textbox', { name: 'Base URL' }).fill(first.url);
    await form.getByRole('button', { name: 'Add credential' }).click();
    const row = page.getByTestId('credential-row-openai-prod');
    await row.waitFor();
    expect(await row.textContent()).not.toContain('sk-first-upstream-secret');
    expect(await row.textContent()).toContain('none yet');

    expect(
      (
        await tg.admin('POST', '/api/v1/models', {
          name: 'gpt-4o',
          targets: [{ credential: 'openai-prod', upstreamModel: 'gpt-4o' }],
        })
      ).status,
    ).toBe(201);
    await page.reload();
    await row.getByText('gpt-4o').waitFor();
    expect((await chat('gpt-4o')).status).toBe(200);
    expect(first.received).toHaveLength(1);
    await screenshot(page, 'credentials', { docs: true });
  }, 60_000);

  it('edits a credential, keeping the secret unless a new one is typed; every model follows at once', async () => {
    const row = page.getByTestId('credential-row-openai-prod');
    await row.getByRole('button', { name: 'Actions for openai-prod' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    const form = page.getByRole('dialog', { name: 'Edit openai-prod' });
    const secret = form.getByRole('textbox', { name: 'API key' });
    expect(await secret.inputValue()).toBe('');
    expect(await secret.getAttribute('placeholder')).not.toContain('sk-first-upstream-secret');
    await form.getByRole('textbox', { name: 'Base URL' }).fill(second.url);
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.waitFor({ state: 'detached' });
    // Same key, new base URL: the second provider refuses the first one's key.
    expect((await chat('gpt-4o')).status).toBeGreaterThanOrEqual(400);

    await row.getByRole('button', { name: 'Actions for openai-prod' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    await form.getByRole('textbox', { name: 'API key' }).fill('sk-second-upstream-secret');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.waitFor({ state: 'detached' });
    expect((await chat('gpt-4o')).status).toBe(200);
    expect(second.received.at(-1)?.headers.authorization).toBe('Bearer sk-second-upstream-secret');
  }, 60_000);

  it('warns before deleting a credential that models use, and lists them', async () => {
    const row = page.getByTestId('credential-row-openai-prod');
    await row.getByRole('button', { name: 'Actions for openai-prod' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete openai-prod?' });
    await dialog.getByTestId('dependent-models').getByText('gpt-4o').waitFor();
    await screenshot(page, 'credential-delete-warning');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await tg.admin('GET', '/api/v1/credentials/openai-prod')).status).toBe(200);

    await row.getByRole('button', { name: 'Actions for openai-prod' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete anyway' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await tg.admin('GET', '/api/v1/credentials/openai-prod')).status).toBe(404);
    await page.goto('/models');
    await page.getByTestId('model-row-gpt-4o').getByText('No target').waitFor();
  }, 60_000);

  it('shows the refusal when a model started using the credential after the list was loaded', async () => {
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'spare',
      provider: 'openai',
      fields: { apiKey: 'sk-first-upstream-secret', baseUrl: first.url },
    });
    await page.goto('/credentials');
    const row = page.getByTestId('credential-row-spare');
    await row.getByText('none yet').waitFor();
    await tg.admin('POST', '/api/v1/models', {
      name: 'late-model',
      targets: [{ credential: 'spare', upstreamModel: 'gpt-4o' }],
    });
    await row.getByRole('button', { name: 'Actions for spare' }).click();
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page
      .getByRole('dialog', { name: 'Delete spare?' })
      .getByRole('button', { name: 'Delete credential' })
      .click();
    const refused = page.getByRole('dialog', { name: 'spare is in use' });
    await refused.getByText(/late-model/).waitFor();
    await refused.getByRole('button', { name: 'Delete anyway' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await tg.admin('GET', '/api/v1/credentials/spare')).status).toBe(404);
    expect(pageProblems(page)).toEqual([]);
  }, 60_000);
});
