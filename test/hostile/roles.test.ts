import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwner } from '../../src/auth/first-owner.ts';
import { backends } from '../support/backends.ts';
import { asSession, type Session, signIn } from '../support/sessions.ts';
import { type RunningTollgate, startTollgate } from '../support/tollgate.ts';

/**
 * Roles against each other: members trying to lift what an admin set, admins acting on owners,
 * and sessions that must end when a password, a role or a membership changes.
 */

const OWNER = { email: 'owner@example.com', password: 'owner-password-123' };
const password = (email: string) => `${email}-password`;

describe('roles under pressure', () => {
  let tg: RunningTollgate;

  beforeAll(async () => {
    tg = await startTollgate(await backends()[0]!.prepare(), {
      TOLLGATE_ADMIN_EMAIL: OWNER.email,
      TOLLGATE_ADMIN_PASSWORD: OWNER.password,
    });
    // The project members make their keys in: at most two each.
    expect((await tg.admin('POST', '/api/v1/projects', { name: 'team', keysPerUser: 2 })).status).toBe(201);
    expect((await tg.admin('POST', '/api/v1/projects', { name: 'closed' })).status).toBe(201);
  }, 60_000);
  afterAll(() => tg?.close());

  async function addUser(email: string, role: string): Promise<void> {
    const added = await tg.admin('POST', '/api/v1/users', { email, role, password: password(email) });
    expect(added.status).toBe(201);
  }
  async function session(email: string): Promise<Session> {
    const signedIn = await signIn(tg.url, email, email === OWNER.email ? OWNER.password : password(email));
    expect(signedIn.status).toBe(200);
    return signedIn;
  }
  const as = (who: Session, method: string, path: string, body?: unknown) => asSession(tg.url, who, method, path, body);
  const me = async (who: Session) => (await as(who, 'GET', '/api/auth/me')).status;
  const key = async (id: string) => (await tg.admin('GET', `/api/v1/keys/${id}`)).body;

  describe('a member cannot undo what an admin set on their key', () => {
    let member: Session;
    let keyId: string;

    beforeAll(async () => {
      await addUser('mia@example.com', 'member');
      member = await session('mia@example.com');
      const made = await as(member, 'POST', '/api/v1/keys', { name: 'mia-laptop', project: 'team' });
      expect(made.status).toBe(201);
      keyId = made.body.id;
    });

    it('cannot enable a key an admin disabled, but can enable one they disabled themselves', async () => {
      expect((await as(member, 'POST', `/api/v1/keys/${keyId}/disable`)).body.disabledBy).toBe('member');
      expect((await as(member, 'POST', `/api/v1/keys/${keyId}/enable`)).body.status).toBe('active');

      expect((await tg.admin('POST', `/api/v1/keys/${keyId}/disable`)).body.disabledBy).toBe('owner');
      const refused = await as(member, 'POST', `/api/v1/keys/${keyId}/enable`);
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toMatch(/an admin disabled this key; members cannot enable it/);
      // Disabling it again does not make it the member's to enable.
      expect((await as(member, 'POST', `/api/v1/keys/${keyId}/disable`)).status).toBe(200);
      expect((await as(member, 'POST', `/api/v1/keys/${keyId}/enable`)).status).toBe(403);
      expect((await key(keyId)).status).toBe('disabled');
    });

    it('cannot revoke or delete a key an admin disabled to get a fresh one', async () => {
      expect((await as(member, 'POST', `/api/v1/keys/${keyId}/revoke`)).status).toBe(403);
      expect((await as(member, 'DELETE', `/api/v1/keys/${keyId}`)).status).toBe(403);
      expect((await key(keyId)).status).toBe('disabled');
      expect((await tg.admin('POST', `/api/v1/keys/${keyId}/enable`)).body.status).toBe('active');
    });

    it('cannot remove or extend an expiry an admin set, but may bring it forward', async () => {
      const adminExpiry = new Date(Date.now() + 7 * 86_400_000).toISOString();
      const set = await tg.admin('PATCH', `/api/v1/keys/${keyId}`, { expiresAt: adminExpiry });
      expect(set.body).toMatchObject({ expiresAt: adminExpiry, expirySetBy: 'owner' });

      const cleared = await as(member, 'PATCH', `/api/v1/keys/${keyId}`, { expiresAt: null });
      expect(cleared.status).toBe(403);
      expect(cleared.body.error.message).toMatch(/members cannot remove the expiry/);
      const later = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const extended = await as(member, 'PATCH', `/api/v1/keys/${keyId}`, { expiresAt: later });
      expect(extended.status).toBe(403);
      expect(extended.body.error.message).toMatch(/members cannot extend the expiry/);
      expect((await key(keyId)).expiresAt).toBe(adminExpiry);

      const sooner = new Date(Date.now() + 86_400_000).toISOString();
      const shortened = await as(member, 'PATCH', `/api/v1/keys/${keyId}`, { expiresAt: sooner });
      expect(shortened.status).toBe(200);
      expect(shortened.body).toMatchObject({ expiresAt: sooner, expirySetBy: 'owner' });
      // Still the admin's: it cannot be pushed back out, even to where the admin had it.
      expect((await as(member, 'PATCH', `/api/v1/keys/${keyId}`, { expiresAt: adminExpiry })).status).toBe(403);
      // Nor escaped by revoking or deleting the key and making a new one.
      expect((await as(member, 'POST', `/api/v1/keys/${keyId}/revoke`)).status).toBe(403);
      expect((await as(member, 'DELETE', `/api/v1/keys/${keyId}`)).status).toBe(403);
      // A member's own expiry stays theirs to change.
      expect((await tg.admin('PATCH', `/api/v1/keys/${keyId}`, { expiresAt: null })).status).toBe(200);
      expect((await as(member, 'PATCH', `/api/v1/keys/${keyId}`, { expiresAt: sooner })).body.expirySetBy).toBe(
        'member',
      );
      expect((await as(member, 'PATCH', `/api/v1/keys/${keyId}`, { expiresAt: null })).status).toBe(200);
    });

    it('creates keys only in projects that take member keys, and only as many as they allow', async () => {
      const closed = await as(member, 'POST', '/api/v1/keys', { name: 'elsewhere', project: 'closed' });
      expect(closed.status).toBe(403);
      expect(closed.body.error.message).toMatch(/takes no keys from members/);
      const defaulted = await as(member, 'POST', '/api/v1/keys', { name: 'default-project' });
      expect(defaulted.status).toBe(403);
      expect((await as(member, 'POST', '/api/v1/keys', { name: 'mia-desktop', project: 'team' })).status).toBe(201);
      const third = await as(member, 'POST', '/api/v1/keys', { name: 'mia-third', project: 'team' });
      expect(third.status).toBe(409);
      expect(third.body.error.code).toBe('user_key_limit_reached');
      const mine = await as(member, 'GET', '/api/v1/keys');
      expect(mine.body.keys.map((row: { name: string }) => row.name).sort()).toEqual(['mia-desktop', 'mia-laptop']);
    });

    it('is told, before trying, which projects will take a key of theirs and why the others will not', async () => {
      const listed = await as(member, 'GET', '/api/v1/projects');
      const byName = Object.fromEntries(
        listed.body.projects.map((row: { name: string; canCreateKey: boolean; createKeyRefusal: string | null }) => [
          row.name,
          row,
        ]),
      );
      expect(byName.closed).toMatchObject({
        canCreateKey: false,
        createKeyRefusal: expect.stringMatching(/per-user key limit/),
      });
      expect(byName.team).toMatchObject({
        canCreateKey: false,
        createKeyRefusal: expect.stringMatching(/already hold 2 key/),
      });
      // An admin sees the project as it is: room for keys.
      const asAdmin = await tg.admin('GET', '/api/v1/projects/closed');
      expect(asAdmin.body).toMatchObject({ canCreateKey: true, createKeyRefusal: null });
    });
  });

  describe('only owners act on owners', () => {
    let admin: Session;

    beforeAll(async () => {
      await addUser('ada@example.com', 'admin');
      await addUser('otto@example.com', 'owner');
      admin = await session('ada@example.com');
    });

    it("refuses an admin resetting an owner's password, renaming, demoting or removing an owner", async () => {
      for (const target of [OWNER.email, 'otto@example.com']) {
        const path = `/api/v1/users/${target}`;
        for (const change of [{ password: 'taken-over-password' }, { role: 'member' }, { name: 'Mallory' }]) {
          const refused = await as(admin, 'PATCH', path, change);
          expect({ target, change, status: refused.status }).toEqual({ target, change, status: 403 });
          expect(refused.body.error.message).toMatch(/only an owner can change or remove an owner/);
        }
        expect((await as(admin, 'DELETE', path)).status).toBe(403);
        expect((await tg.admin('GET', path)).body.role).toBe('owner');
      }
      // The owner's password still works, and nothing else does.
      expect((await signIn(tg.url, OWNER.email, 'taken-over-password')).status).toBe(401);
      expect((await signIn(tg.url, OWNER.email, OWNER.password)).status).toBe(200);
    });

    it('refuses an admin making anyone an owner, themselves included', async () => {
      expect((await as(admin, 'PATCH', '/api/v1/users/ada@example.com', { role: 'owner' })).status).toBe(403);
      expect((await as(admin, 'PATCH', '/api/v1/users/mia@example.com', { role: 'owner' })).status).toBe(403);
      const added = await as(admin, 'POST', '/api/v1/users', { email: 'eve@example.com', role: 'owner' });
      expect(added.status).toBe(403);
      expect((await tg.admin('GET', '/api/v1/users/ada@example.com')).body.role).toBe('admin');
      expect((await tg.admin('GET', '/api/v1/users/eve@example.com')).status).toBe(404);
    });

    it('never demotes or removes the last owner', async () => {
      const owner = await session(OWNER.email);
      // Two owners: one may step down.
      expect((await as(owner, 'PATCH', '/api/v1/users/otto@example.com', { role: 'admin' })).status).toBe(200);
      // Now the last one: neither the owner nor an admin token can demote or remove them.
      const self = await as(owner, 'PATCH', `/api/v1/users/${OWNER.email}`, { role: 'admin' });
      expect(self.status).toBe(409);
      expect(self.body.error.message).toMatch(/last owner/);
      expect((await tg.admin('PATCH', `/api/v1/users/${OWNER.email}`, { role: 'member' })).status).toBe(409);
      expect((await tg.admin('DELETE', `/api/v1/users/${OWNER.email}`)).status).toBe(409);
      expect((await tg.admin('GET', `/api/v1/users/${OWNER.email}`)).body.role).toBe('owner');
      expect((await tg.admin('PATCH', '/api/v1/users/otto@example.com', { role: 'owner' })).status).toBe(200);
    });

    it('leaves one owner when the last two are demoted at once', async () => {
      const owners = async () =>
        (await tg.admin('GET', '/api/v1/users')).body.users
          .filter((user: { role: string }) => user.role === 'owner')
          .map((user: { email: string }) => user.email);
      expect((await owners()).sort()).toEqual(['otto@example.com', OWNER.email]);
      const answers = await Promise.all([
        tg.admin('PATCH', `/api/v1/users/${OWNER.email}`, { role: 'admin' }),
        tg.admin('PATCH', '/api/v1/users/otto@example.com', { role: 'admin' }),
      ]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      expect(await owners()).toHaveLength(1);
    });
  });

  describe('sessions end when they should', () => {
    it('ends every session of a user whose password an admin changes', async () => {
      await addUser('sam@example.com', 'member');
      const [first, second] = [await session('sam@example.com'), await session('sam@example.com')];
      expect([await me(first), await me(second)]).toEqual([200, 200]);
      expect(
        (await tg.admin('PATCH', '/api/v1/users/sam@example.com', { password: 'a-brand-new-password' })).status,
      ).toBe(200);
      expect([await me(first), await me(second)]).toEqual([401, 401]);
      expect((await signIn(tg.url, 'sam@example.com', 'a-brand-new-password')).status).toBe(200);
    });

    it('keeps the current session of someone changing their own password, and ends their others', async () => {
      await addUser('alma@example.com', 'admin');
      const [here, elsewhere] = [await session('alma@example.com'), await session('alma@example.com')];
      const changed = await as(here, 'PATCH', '/api/v1/users/alma@example.com', { password: 'alma-new-password' });
      expect(changed.status).toBe(200);
      expect([await me(here), await me(elsewhere)]).toEqual([200, 401]);
    });

    it('ends the sessions of an admin demoted to member', async () => {
      await addUser('dora@example.com', 'admin');
      const dora = await session('dora@example.com');
      expect((await as(dora, 'GET', '/api/v1/credentials')).status).toBe(200);
      expect((await tg.admin('PATCH', '/api/v1/users/dora@example.com', { role: 'member' })).status).toBe(200);
      expect(await me(dora)).toBe(401);
      expect((await as(dora, 'GET', '/api/v1/keys')).status).toBe(401);
    });

    it('ends the sessions of a user made the first owner with a new password', async () => {
      await addUser('finn@example.com', 'member');
      const finn = await session('finn@example.com');
      const orgId = (await tg.admin('GET', '/api/v1/organization')).body.id;
      await createOwner(tg.tollgate.store.db, orgId, 'finn@example.com', 'finn-new-password');
      expect(await me(finn)).toBe(401);
      expect((await signIn(tg.url, 'finn@example.com', 'finn-new-password')).status).toBe(200);
    });

    it('ends the sessions of a removed member, and a returning member does not get them back', async () => {
      await addUser('rex@example.com', 'member');
      const rex = await session('rex@example.com');
      expect((await tg.admin('DELETE', '/api/v1/users/rex@example.com')).status).toBe(204);
      expect(await me(rex)).toBe(401);
      await addUser('rex@example.com', 'admin');
      expect(await me(rex)).toBe(401);
      expect((await as(rex, 'GET', '/api/v1/credentials')).status).toBe(401);
    });
  });
});
