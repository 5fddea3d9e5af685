import { and, asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { hashPassword } from '../auth/passwords.ts';
import { endSessions, SESSION_COOKIE } from '../auth/sessions.ts';
import { TollgateError } from '../errors.ts';
import { memberships, users } from '../store/schema.ts';
import { ACCESS } from './admin-auth.ts';
import { RefParams } from './bounds.ts';
import { type ControlContext, iso, isUuid } from './context.ts';
import { lowers, refuseActingOnOwner, refuseRemovingLastOwner } from './owner-guards.ts';
import { applySpendLimit, SpendLimitBody, type SpendReport, spendReports } from './spend-limits.ts';

const Role = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member'), Type.Literal('viewer')]);
const UserBody = Type.Object({
  email: Type.String({ format: 'email', maxLength: 320 }),
  name: Type.Optional(Type.String({ maxLength: 200 })),
  role: Role,
  /** Lets the user sign in to the dashboard; at least 10 characters. */
  password: Type.Optional(Type.String({ minLength: 10, maxLength: 1000 })),
  spendLimit: Type.Optional(SpendLimitBody),
});
const UserPatch = Type.Partial(Type.Omit(UserBody, ['email']));

/** A member of the organisation by id or email; 404 otherwise. */
export async function findUser(ctx: ControlContext, ref: string) {
  const [row] = await ctx.db
    .select({ user: users, role: memberships.role })
    .from(users)
    .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.orgId, ctx.orgId)))
    .where(isUuid(ref) ? eq(users.id, ref) : eq(users.email, ref.toLowerCase()))
    .limit(1);
  if (!row) throw new TollgateError('TG_ERR_NOT_FOUND', 'user', ref);
  return { ...row.user, role: row.role };
}

type Member = Awaited<ReturnType<typeof findUser>>;

function present(user: Member, spend?: SpendReport) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    spendLimit: user.spendLimit,
    ...(spend && { spend }),
    createdAt: iso(user.createdAt),
  };
}

/** Members of the organisation: their roles and spend limits (sign-in comes with the dashboard). */
export function userRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const tags = ['users'];

  app.get(
    '/users',
    { config: { access: ACCESS.readers }, schema: { tags, summary: 'List the members of the organisation' } },
    async () => {
      const rows = await ctx.db
        .select({ user: users, role: memberships.role })
        .from(users)
        .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.orgId, ctx.orgId)))
        .orderBy(asc(users.email));
      const members = rows.map((row) => ({ ...row.user, role: row.role }));
      await ctx.usage.flush();
      const spend = await spendReports(ctx.db, 'user', members, ctx.clock());
      return { users: members.map((member) => present(member, spend.get(member.id))) };
    },
  );

  /** Any signed-in user may see themselves (the static route wins over `/users/:ref`). */
  app.get(
    '/users/me',
    { config: { access: ACCESS.everyone }, schema: { tags, summary: 'Show the signed-in member' } },
    async (request) => {
      const actor = request.actor;
      if (actor.kind !== 'user') throw new TollgateError('TG_ERR_NOT_FOUND', 'user', 'me');
      return showUser(actor.userId);
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/users/:ref',
    {
      config: { access: ACCESS.readers },
      schema: { tags, summary: 'Show a member by id or email', params: RefParams },
    },
    async (request) => showUser(request.params.ref),
  );

  async function showUser(ref: string) {
    const member = await findUser(ctx, ref);
    await ctx.usage.flush();
    return present(member, (await spendReports(ctx.db, 'user', [member], ctx.clock())).get(member.id));
  }

  app.post<{ Body: Static<typeof UserBody> }>(
    '/users',
    {
      config: { access: ACCESS.admins },
      schema: { tags, summary: 'Add a member to the organisation', body: UserBody },
    },
    async (request, reply) => {
      const body = request.body;
      const email = body.email.toLowerCase();
      refuseActingOnOwner(request.actor, undefined, body.role);
      const member = await ctx.db.transaction(async (tx) => {
        const passwordHash = body.password ? await hashPassword(body.password) : undefined;
        const spendLimit = applySpendLimit({}, body.spendLimit, ctx.clock());
        // Someone who was a member before comes back with what this request says about them.
        const [user] = await tx
          .insert(users)
          .values({ email, name: body.name ?? null, passwordHash: passwordHash ?? null, spendLimit })
          .onConflictDoUpdate({
            target: users.email,
            set: {
              email,
              ...(body.name !== undefined && { name: body.name }),
              ...(passwordHash !== undefined && { passwordHash }),
              ...(body.spendLimit !== undefined && { spendLimit }),
            },
          })
          .returning();
        if (!user) throw new TollgateError('TG_ERR_INTERNAL', request.id);
        const [joined] = await tx
          .insert(memberships)
          .values({ userId: user.id, orgId: ctx.orgId, role: body.role })
          .onConflictDoNothing()
          .returning();
        if (!joined) throw new TollgateError('TG_ERR_CONFLICT', `${email} is already a member`);
        // Someone coming back does not get back in with a session from before they left.
        await endSessions(tx, user.id, { orgId: ctx.orgId });
        return { ...user, role: body.role };
      });
      await ctx.invalidation.publish({ kind: 'user', ref: member.id });
      reply.code(201);
      return present(member);
    },
  );

  app.patch<{ Params: { ref: string }; Body: Static<typeof UserPatch> }>(
    '/users/:ref',
    {
      config: { access: ACCESS.admins },
      schema: { tags, summary: "Change a member's name, role or spend limit", params: RefParams, body: UserPatch },
    },
    async (request) => {
      const member = await findUser(ctx, request.params.ref);
      const body = request.body;
      refuseActingOnOwner(request.actor, member, body.role);
      // Changing your own password or role keeps you signed in where you are; elsewhere you start again.
      const self = request.actor.kind === 'user' && request.actor.userId === member.id;
      const current = self ? request.cookies[SESSION_COOKIE] : undefined;
      await ctx.db.transaction(async (tx) => {
        if (member.role === 'owner' && body.role !== undefined && body.role !== 'owner') {
          await refuseRemovingLastOwner(tx, ctx.orgId, member.id);
        }
        if (body.name !== undefined || body.spendLimit !== undefined || body.password !== undefined) {
          await tx
            .update(users)
            .set({
              ...(body.name !== undefined && { name: body.name }),
              ...(body.password !== undefined && { passwordHash: await hashPassword(body.password) }),
              ...(body.spendLimit !== undefined && {
                spendLimit: applySpendLimit(member.spendLimit, body.spendLimit, ctx.clock()),
              }),
            })
            .where(eq(users.id, member.id));
        }
        if (body.role !== undefined) {
          await tx
            .update(memberships)
            .set({ role: body.role })
            .where(and(eq(memberships.userId, member.id), eq(memberships.orgId, ctx.orgId)));
        }
        if (body.password !== undefined) await endSessions(tx, member.id, { except: current });
        if (lowers(member.role, body.role)) await endSessions(tx, member.id, { orgId: ctx.orgId, except: current });
      });
      await ctx.invalidation.publish({ kind: 'user', ref: member.id });
      return present(await findUser(ctx, member.id));
    },
  );

  app.delete<{ Params: { ref: string } }>(
    '/users/:ref',
    {
      config: { access: ACCESS.admins },
      schema: { tags, summary: 'Remove a member from the organisation', params: RefParams },
    },
    async (request, reply) => {
      const member = await findUser(ctx, request.params.ref);
      refuseActingOnOwner(request.actor, member);
      await ctx.db.transaction(async (tx) => {
        if (member.role === 'owner') await refuseRemovingLastOwner(tx, ctx.orgId, member.id);
        await tx.delete(memberships).where(and(eq(memberships.userId, member.id), eq(memberships.orgId, ctx.orgId)));
        await endSessions(tx, member.id, { orgId: ctx.orgId });
      });
      await ctx.invalidation.publish({ kind: 'user', ref: member.id });
      reply.code(204);
    },
  );
}
