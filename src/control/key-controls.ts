import { and, eq, gte, isNull, ne, or, type SQL } from 'drizzle-orm';
import type { Role } from '../auth/sessions.ts';
import { TollgateError } from '../errors.ts';
import { type ApiKeyRow, apiKeys, type ProjectRow } from '../store/schema.ts';
import type { Actor } from './admin-auth.ts';

/**
 * Who set a control on a key decides who may lift it. An admin's (or owner's, or admin
 * token's) disable or expiry binds the key's member owner: a member cannot enable the key,
 * remove or extend the expiry, or revoke or delete the key to get a fresh one without it.
 * A member may always disable their key, or bring an expiry forward.
 */

const isMember = (actor: Actor) => actor.role === 'member';

/** A control recorded by an admin-level role. Controls from before roles were recorded count as an admin's. */
function byAdmin(role: Role | null): boolean {
  return role !== 'member';
}

export function disabledByAdmin(key: ApiKeyRow): boolean {
  return key.status === 'disabled' && byAdmin(key.disabledByRole);
}

export function expiryByAdmin(key: ApiKeyRow): boolean {
  return key.expiresAt !== null && byAdmin(key.expirySetByRole);
}

/** Who disabled the key: a member disabling a key an admin already disabled leaves it the admin's. */
export function disabledBy(actor: Actor, key: ApiKeyRow): Role {
  return isMember(actor) && disabledByAdmin(key) ? (key.disabledByRole ?? 'admin') : actor.role;
}

/** Refuses a member enabling a key an admin disabled; the condition also holds at the moment of the update. */
export function enableGuard(actor: Actor, key: ApiKeyRow): SQL | undefined {
  if (!isMember(actor)) return undefined;
  if (disabledByAdmin(key)) throw adminControl('disabled this key', 'enable it');
  return or(eq(apiKeys.status, 'active'), eq(apiKeys.disabledByRole, 'member'));
}

/**
 * Refuses a member revoking or deleting a key an admin disabled or set to expire (a revoked or
 * deleted key frees a place for a fresh key without the control); the condition also holds at
 * the moment of the change.
 */
export function removeGuard(actor: Actor, key: ApiKeyRow, action: 'revoke' | 'delete'): SQL | undefined {
  if (!isMember(actor)) return undefined;
  if (disabledByAdmin(key)) throw adminControl('disabled this key', `${action} it`);
  if (expiryByAdmin(key)) throw adminControl('set this key to expire', `${action} it; you may disable it`);
  return and(
    or(ne(apiKeys.status, 'disabled'), eq(apiKeys.disabledByRole, 'member')),
    or(isNull(apiKeys.expiresAt), eq(apiKeys.expirySetByRole, 'member')),
  );
}

/**
 * The expiry a change sets and who set it. A member may set, change or clear an expiry they set,
 * and bring an admin's expiry forward, never remove or extend it; the returned condition keeps
 * that true at the moment of the update.
 */
export function expiryChange(
  actor: Actor,
  key: ApiKeyRow,
  next: Date | null,
): { set: { expiresAt: Date | null; expirySetByRole: Role | null }; guard: SQL | undefined } {
  if (!isMember(actor))
    return { set: { expiresAt: next, expirySetByRole: next ? actor.role : null }, guard: undefined };
  if (!expiryByAdmin(key)) {
    return {
      set: { expiresAt: next, expirySetByRole: next ? 'member' : null },
      guard: or(isNull(apiKeys.expiresAt), eq(apiKeys.expirySetByRole, 'member')),
    };
  }
  const current = key.expiresAt as Date;
  if (next === null) throw adminControl('set this key to expire', 'remove the expiry');
  if (next.getTime() > current.getTime()) throw adminControl('set this key to expire', 'extend the expiry');
  return {
    set: { expiresAt: next, expirySetByRole: key.expirySetByRole },
    guard: gte(apiKeys.expiresAt, next),
  };
}

/**
 * Members make keys only in projects that take member keys: those where an admin has set a
 * per-user key limit (`keysPerUser`), which then bounds how many each member holds there.
 */
export function refuseMemberProject(actor: Actor, project: ProjectRow): void {
  if (isMember(actor) && project.keysPerUser === null) {
    throw new TollgateError(
      'TG_ERR_FORBIDDEN',
      `project ${project.name} takes no keys from members: an admin must set its keys per user (keysPerUser) first`,
    );
  }
}

function adminControl(what: string, action: string): TollgateError {
  return new TollgateError('TG_ERR_FORBIDDEN', `an admin ${what}; members cannot ${action} (ask an admin)`);
}
