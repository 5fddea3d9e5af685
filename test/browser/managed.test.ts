import { writeFileSync } from 'node:fs';
import path from 'node:path';
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
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };

const FILE = `version: 1
credentials:
  - name: from-git
    provider: openai
    fields:
      apiKey: \${MANAGED_TEST_KEY}
      baseUrl: http://127.0.0.1:9/v1
models:
  - name: git-model
    targets: [{ credential: from-git, upstreamModel: house }]
    inputPrice: 1
    outputPrice: 2
projects:
  - name: git-project
    plan: pro
`;

if (!hasChromium) console.warn(NO_CHROMIUM);

describe.skipIf(!hasChromium)('objects managed by tollgate.yaml in the dashboard', { timeout: 30_000 }, () => {
  let tg: RunningTollgate;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    buildDashboard();
    const dir = tempDir();
    const config = path.join(dir, 'tollgate.yaml');
    writeFileSync(config, FILE);
    process.env.MANAGED_TEST_KEY = 'sk-managed-test';
    tg = await startTollgate(
      { dataDir: dir },
      { TOLLGATE_CONFIG: config, TOLLGATE_ADMIN_EMAIL: OWNER.email, TOLLGATE_ADMIN_PASSWORD: OWNER.password },
    ).finally(() => {
      delete process.env.MANAGED_TEST_KEY;
    });
    await tg.admin('POST', '/api/v1/credentials', {
      name: 'by-hand',
      provider: 'openai',
      fields: { apiKey: 'sk-by-hand', baseUrl: 'http://127.0.0.1:9/v1' },
    });
    browser = await launchBrowser();
    ({ page } = await newPage(browser, tg.url));
    await signIn(page, OWNER.email, OWNER.password);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await tg?.close();
  });

  it('badges the credentials the file manages, and warns before an edit the next apply would undo', async () => {
    await page.goto('/credentials');
    const managed = page.getByTestId('credential-row-from-git');
    await managed.getByTestId('managed-badge').waitFor();
    expect(await managed.getByTestId('managed-badge').textContent()).toBe('managed by tollgate.yaml');
    expect(await page.getByTestId('credential-row-by-hand').getByTestId('managed-badge').count()).toBe(0);
    await screenshot(page, 'credentials-managed');

    await managed.getByRole('button', { name: 'Actions for from-git' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    const form = page.getByRole('dialog', { name: 'Edit from-git' });
    await form.getByTestId('managed-warning').waitFor();
    expect(await form.getByTestId('managed-warning').textContent()).toContain(
      'This credential is managed by tollgate.yaml',
    );
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });

    await page.getByTestId('credential-row-by-hand').getByRole('button', { name: 'Actions for by-hand' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    const plain = page.getByRole('dialog', { name: 'Edit by-hand' });
    await plain.getByRole('textbox', { name: 'Name' }).waitFor();
    expect(await plain.getByTestId('managed-warning').count()).toBe(0);
    await plain.getByRole('button', { name: 'Cancel' }).click();
  });

  it('badges managed models and projects, and warns in their edit forms', async () => {
    await page.goto('/models');
    const model = page.getByTestId('model-row-git-model');
    await model.getByTestId('managed-badge').waitFor();
    await model.getByRole('button', { name: 'Actions for git-model' }).click();
    await page.getByRole('menuitem', { name: 'Edit' }).click();
    await page.getByRole('dialog', { name: 'Edit git-model' }).getByTestId('managed-warning').waitFor();
    await screenshot(page, 'model-managed-edit');
    await page.keyboard.press('Escape');

    await page.goto('/projects');
    const projects = page.getByRole('table', { name: 'Projects' });
    const row = projects.getByRole('row').filter({ hasText: 'git-project' });
    await row.getByTestId('managed-badge').waitFor();
    expect(await projects.getByRole('row').filter({ hasText: 'default' }).getByTestId('managed-badge').count()).toBe(0);
    await row.getByRole('button', { name: 'Edit git-project' }).click();
    await page.getByRole('dialog', { name: 'Edit git-project' }).getByTestId('managed-warning').waitFor();
    await screenshot(page, 'project-managed-edit');
    await page.keyboard.press('Escape');
    expect(pageProblems(page)).toEqual([]);
  });
});
