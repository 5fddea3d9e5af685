import { and, eq } from 'drizzle-orm';
import type { Role } from '../auth/sessions.ts';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { memberships } from '../store/schema.ts';
import type { Actor } from './admin-auth.ts';

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** Whether `to` allows less than `from`: a demotion, after which sessions must start again. */
export function lowers(from: Role, to: Role | undefined): boolean {
  return to !== undefined && RANK[to] < RANK[from];
}

/**
 * Only owners act on owners — change their role, password, name or limits, or remove them — and
 * only owners make someone an owner. (Admin tokens act as owners.)
 */
export function refuseActingOnOwner(actor: Actor, target: { role: Role } | undefined, newRole?: Role): void {
  if (actor.role === 'owner') return;
  if (target?.role === 'owner') {
    throw new TollgateError('TG_ERR_FORBIDDEN', 'only an owner can change or remove an owner');
  }
  if (newRole === 'owner') throw new TollgateError('TG_ERR_FORBIDDEN', 'only an owner can make someone an owner');
}

/**
 * Refuses to leave the organisation without an owner: the last owner can be neither demoted
 * nor removed. Locks the owners' memberships, so two owners demoting each other at once cannot
 * both succeed.
 */
export async function refuseRemovingLastOwner(tx: Db, orgId: string, userId: string): Promise<void> {
  const owners = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'owner')))
    .for('update');
  if (owners.some((owner) => owner.userId === userId) && owners.length <= 1) {
    throw new TollgateError(
      'TG_ERR_CONFLICT',
      'The last owner cannot be demoted or removed; make someone else an owner first',
    );
  }
}
