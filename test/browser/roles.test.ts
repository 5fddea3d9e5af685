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
  signIn,
} from '../support/browser.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };
const ALICE = { email: 'alice@example.com', password: 'alice-password-1' };
const BOB = { email: 'bob@example.com', password: 'bobs-password-12' };
const VERA = { email: 'vera@example.com', password: 'vera-password-1' };

if (!hasChromium) console.warn(NO_CHROMIUM);

describe.skipIf(!hasChromium)('roles and plan limits in the dashboard', () => {
  let tg: RunningTollgate;
  let browser: Browser;

  beforeAll(async () => {
    buildDashboard();
    tg = await startTollgate(
      { dataDir: tempDir() },
      { TOLLGATE_ADMIN_EMAIL: OWNER.email, TOLLGATE_ADMIN_PASSWORD: OWNER.password },
    );
    for (const [user, name] of [
      [ALICE, 'Alice'],
      [BOB, 'Bob'],
    ] as const) {
      await tg.admin('POST', '/api/v1/users', { ...user, name, role: 'member' });
    }
    await tg.admin('POST', '/api/v1/users', { ...VERA, name: 'Vera', role: 'viewer' });
    // Members make keys in projects an admin has opened to them with a per-user key limit.
    await tg.admin('PATCH', '/api/v1/projects/default', { keysPerUser: 3 });
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await tg?.close();
  });

  it("keeps a member to their own keys: another member's key is neither listed nor reachable", async () => {
    const alice = await newPage(browser, tg.url);
    await signIn(alice.page, ALICE.email, ALICE.password);
    // Members see no credentials or members pages, and cannot set limits or rules.
    expect(await alice.page.getByRole('link', { name: 'Provider credentials' }).count()).toBe(0);
    expect(await alice.page.getByRole('link', { name: 'Members' }).count()).toBe(0);
    await alice.page.getByRole('link', { name: 'API keys' }).click();
    await alice.page.getByRole('button', { name: 'Create API key' }).first().click();
    const form = alice.page.getByRole('dialog', { name: 'Create API key' });
    await form.getByText('set by an admin').waitFor();
    expect(await form.getByRole('button', { name: 'Spend limits' }).count()).toBe(0);
    await form.getByRole('textbox', { name: 'Name' }).fill('alice-laptop');
    await form.getByRole('button', { name: 'Create key' }).click();
    await alice.page.getByRole('button', { name: 'I have saved the key' }).click();
    await alice.page.getByTestId('key-row-alice-laptop').waitFor();
    // A member's own key menu has no limits or rules.
    await alice.page.getByRole('button', { name: 'Actions for alice-laptop' }).click();
    await alice.page.getByRole('menuitem', { name: 'Revoke' }).waitFor();
    expect(await alice.page.getByRole('menuitem', { name: 'Edit limits' }).count()).toBe(0);
    await alice.page.keyboard.press('Escape');
    const aliceKey = (await tg.admin('GET', '/api/v1/keys')).body.keys.find(
      (key: { name: string }) => key.name === 'alice-laptop',
    );

    const bob = await newPage(browser, tg.url);
    await signIn(bob.page, BOB.email, BOB.password);
    await bob.page.goto('/keys');
    await bob.page.getByText('No API keys yet').waitFor();
    expect(await bob.page.getByText('alice-laptop').count()).toBe(0);
    await screenshot(bob.page, 'keys-member-empty');
    // Not by its address either: the API answers 404 to Bob's session.
    const direct = await bob.page.request.get(`/api/v1/keys/${aliceKey.id}`);
    expect(direct.status()).toBe(404);
    const credentials = await bob.page.request.get('/api/v1/credentials');
    expect(credentials.status()).toBe(403);

    expect(pageProblems(alice.page)).toEqual([]);
    expect(pageProblems(bob.page)).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  }, 60_000);

  it('lets a viewer read every key but change none', async () => {
    const vera = await newPage(browser, tg.url);
    await signIn(vera.page, VERA.email, VERA.password);
    await vera.page.goto('/keys');
    await vera.page.getByTestId('key-row-alice-laptop').waitFor();
    expect(await vera.page.getByRole('button', { name: 'Create API key' }).first().isDisabled()).toBe(true);
    await vera.page.getByRole('button', { name: 'Actions for alice-laptop' }).click();
    await vera.page.getByRole('menuitem', { name: 'View usage' }).waitFor();
    expect(await vera.page.getByRole('menuitem', { name: 'Revoke' }).count()).toBe(0);
    await vera.page.keyboard.press('Escape');
    await vera.page.goto('/members');
    await vera.page.getByTestId('member-row-alice@example.com').waitFor();
    expect(await vera.page.getByRole('button', { name: 'Add member' }).count()).toBe(0);
    expect(pageProblems(vera.page)).toEqual([]);
    await vera.context.close();
  }, 60_000);

  it('disables "Create API key" at the plan limit and says "N of M keys used"', async () => {
    const project = (await tg.admin('POST', '/api/v1/projects', { name: 'small', keyLimit: 2 })).body;
    for (const name of ['build-bot', 'docs-bot']) {
      expect((await tg.admin('POST', '/api/v1/keys', { name, project: 'small' })).status).toBe(201);
    }
    const owner = await newPage(browser, tg.url);
    await signIn(owner.page, OWNER.email, OWNER.password);
    await owner.page.goto(`/keys?project=${project.id}`);
    await owner.page.getByTestId('keys-usage').getByText('2 of 2 keys used').waitFor();
    const create = owner.page.getByRole('button', { name: 'Create API key' }).first();
    expect(await create.isDisabled()).toBe(true);
    await owner.page
      .getByRole('status')
      .getByText(/has used all its keys \(2 of 2 keys used\)/)
      .waitFor();
    await screenshot(owner.page, 'keys-at-plan-limit', { docs: true });

    // Revoking one frees a slot.
    await owner.page.getByRole('button', { name: 'Actions for docs-bot' }).click();
    await owner.page.getByRole('menuitem', { name: 'Revoke' }).click();
    await owner.page.getByRole('button', { name: 'Revoke key' }).click();
    await owner.page.getByTestId('keys-usage').getByText('1 of 2 keys used').waitFor();
    expect(await create.isEnabled()).toBe(true);

    // Narrow windows get the same page, navigation folded away.
    await owner.page.setViewportSize({ width: 390, height: 844 });
    await owner.page.getByRole('button', { name: 'Toggle navigation' }).waitFor();
    await screenshot(owner.page, 'keys-narrow', { docs: true });
    expect(pageProblems(owner.page)).toEqual([]);
    await owner.context.close();
  }, 60_000);
});
