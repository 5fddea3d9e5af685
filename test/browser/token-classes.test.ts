import OpenAI from 'openai';
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
import { FakeAnthropic } from '../support/fake-anthropic.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { REPORTED } from '../support/scenarios/scenario.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };
const count = (value: number) => value.toLocaleString('en-US');

if (!hasChromium) console.warn(NO_CHROMIUM);

/** The dashboard shows every token class a record has, marks counted figures, and says which prices are derived. */
describe.skipIf(!hasChromium)('token classes and derived prices in the dashboard', () => {
  const fakes = { anthropic: new FakeAnthropic('sk-ant-dash-secret'), openai: new FakeOpenAI('sk-openai-dash-secret') };
  let tg: RunningTollgate;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    buildDashboard();
    await Promise.all(Object.values(fakes).map((fake) => fake.start()));
    tg = await startTollgate(
      { dataDir: tempDir() },
      { TOLLGATE_ADMIN_EMAIL: OWNER.email, TOLLGATE_ADMIN_PASSWORD: OWNER.password },
    );
    for (const credential of [
      { name: 'claude', provider: 'anthropic', fields: { apiKey: 'sk-ant-dash-secret', baseUrl: fakes.anthropic.url } },
      { name: 'oai', provider: 'openai', fields: { apiKey: 'sk-openai-dash-secret', baseUrl: fakes.openai.url } },
    ]) {
      expect((await tg.admin('POST', '/api/v1/credentials', credential)).status).toBe(201);
    }
    for (const [name, credential, upstreamModel] of [
      ['sonnet', 'claude', 'claude-sonnet-4-5'],
      ['mini', 'oai', 'gpt-5.4-mini'],
    ]) {
      const body = { name, targets: [{ credential, upstreamModel }], inputPrice: 2, outputPrice: 8 };
      expect((await tg.admin('POST', '/api/v1/models', body)).status).toBe(201);
    }
    const key = (await tg.admin('POST', '/api/v1/keys', { name: 'dash-classes' })).body.key;
    const openai = new OpenAI({ apiKey: key, baseURL: `${tg.url}/v1`, maxRetries: 0 });
    const ask = (model: string, scenario: string) =>
      openai.chat.completions.create({ model, messages: [{ role: 'user', content: `tg-scenario:${scenario} hi` }] });
    await ask('sonnet', 'cache-write');
    await ask('mini', 'reasoning');
    // No usage in the answer: Tollgate counts the tokens, and the record says so.
    await ask('mini', 'no-usage');
    browser = await launchBrowser();
    ({ page } = await newPage(browser, tg.url));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await tg?.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });

  it('shows cache writes, reasoning and a counted marker in the request history', async () => {
    await signIn(page, OWNER.email, OWNER.password);
    await page.getByRole('link', { name: 'Usage', exact: true }).click();
    const rows = page.getByTestId('usage-row');
    await rows.nth(2).waitFor();
    const [counted, reasoning, written] = [rows.nth(0), rows.nth(1), rows.nth(2)];
    expect(await written.getByTestId('usage-input-tokens').textContent()).toBe(
      `${count(REPORTED.input + REPORTED.cacheWrite5m + REPORTED.cacheWrite1h)} (${count(REPORTED.cacheWrite5m + REPORTED.cacheWrite1h)} cache write)`,
    );
    expect(await reasoning.getByTestId('usage-output-tokens').textContent()).toBe(
      `${count(REPORTED.output)} (${count(REPORTED.reasoning)} reasoning)`,
    );
    expect(await counted.getByTestId('usage-counted').count()).toBe(2);
    expect(await written.getByTestId('usage-counted').count()).toBe(0);
    await screenshot(page, 'usage-token-classes');
  });

  it("shows a model's cache prices, derived from the input price it was given", async () => {
    await page.getByRole('link', { name: 'Models' }).click();
    const sonnet = page.getByTestId('model-row-sonnet');
    await sonnet.waitFor();
    // $2 input: reads 0.1×, 5-minute writes 1.25×, 1-hour writes 2×.
    expect(await sonnet.getByTestId('price-cachedInputPrice').textContent()).toMatch(/Cache read \$0\.20?.*derived/);
    expect(await sonnet.getByTestId('price-cacheWriteInputPrice').textContent()).toMatch(
      /Cache write \$2\.50?.*derived/,
    );
    expect(await sonnet.getByTestId('price-cacheWrite1hInputPrice').textContent()).toMatch(/\$4(\.00)?.*derived/);
    // gpt-5.4-mini: no cache-write surcharge at OpenAI, cached at its own 0.1× ratio.
    const mini = page.getByTestId('model-row-mini');
    expect(await mini.getByTestId('price-cacheWriteInputPrice').count()).toBe(0);
    expect(await mini.getByTestId('price-cachedInputPrice').textContent()).toMatch(/\$0\.20?.*derived/);
    await screenshot(page, 'models-derived-prices');
    expect(pageProblems(page)).toEqual([]);
  });
});
