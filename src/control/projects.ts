import { and, asc, eq, ne, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { PLANS } from '../config.ts';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { apiKeys, type ProjectRow, projects } from '../store/schema.ts';
import { ACCESS, type Actor, ownScope } from './admin-auth.ts';
import { RefParams } from './bounds.ts';
import { type ControlContext, iso, isUuid, type WriteContext } from './context.ts';
import { applySpendLimit, SpendLimitBody, type SpendReport, spendReports } from './spend-limits.ts';

const Limit = Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: 1_000_000 })]);
export const ProjectBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  plan: Type.Optional(Type.Enum(PLANS)),
  /** Overrides the plan's key limit; null goes back to the plan's. */
  keyLimit: Type.Optional(Limit),
  /** At most this many keys per owning user; null for no such limit. */
  keysPerUser: Type.Optional(Limit),
  spendLimit: Type.Optional(SpendLimitBody),
});
const ProjectPatch = Type.Partial(ProjectBody);
export type ProjectInput = Static<typeof ProjectBody>;
export type ProjectChange = Static<typeof ProjectPatch>;

/** A project by id or name, within the organisation; 404 otherwise. */
export async function findProject(db: Db, orgId: string, ref: string): Promise<ProjectRow> {
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.orgId, orgId), isUuid(ref) ? eq(projects.id, ref) : eq(projects.name, ref)))
    .limit(1);
  if (!row) throw new TollgateError('TG_ERR_NOT_FOUND', 'project', ref);
  return row;
}

/** Keys that count against the project's limit: every key not revoked. */
export async function keysInUse(db: Db, projectId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, projectId), ne(apiKeys.status, 'revoked')));
  return Number(row?.n ?? 0);
}

/** The project's own key limit, or its plan's; null means unlimited. */
export function effectiveKeyLimit(ctx: ControlContext, project: ProjectRow): number | null {
  return project.keyLimit ?? ctx.plans.keyLimits[project.plan] ?? null;
}

/** The caller's own keys in a project that count towards its per-user limit. */
async function ownKeysInUse(db: Db, projectId: string, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, projectId), eq(apiKeys.ownerUserId, userId), ne(apiKeys.status, 'revoked')));
  return Number(row?.n ?? 0);
}

/**
 * Why the caller could not create a key in this project now, or null: the project's key limit,
 * and for a member the rules of member keys (only projects with a per-user limit, within it).
 */
async function createKeyRefusal(
  ctx: ControlContext,
  row: ProjectRow,
  limit: number | null,
  used: number,
  actor: Actor,
): Promise<string | null> {
  if (actor.role === 'viewer') return 'Viewers can read keys but not create them.';
  if (limit !== null && used >= limit) return `Project ${row.name} has used all its keys (${used} of ${limit}).`;
  const own = ownScope(actor);
  if (!own) return null;
  if (row.keysPerUser === null) {
    return `Members create keys only in projects with a per-user key limit; ask an admin to set one for ${row.name}.`;
  }
  if ((await ownKeysInUse(ctx.db, row.id, own)) >= row.keysPerUser) {
    return `You already hold ${row.keysPerUser} key(s) in ${row.name}, the most allowed per user: revoke or delete one first.`;
  }
  return null;
}

async function present(ctx: ControlContext, row: ProjectRow, actor: Actor, spend?: SpendReport) {
  const limit = effectiveKeyLimit(ctx, row);
  const used = await keysInUse(ctx.db, row.id);
  const refusal = await createKeyRefusal(ctx, row, limit, used, actor);
  return {
    id: row.id,
    name: row.name,
    plan: row.plan,
    keyLimit: limit,
    keyLimitOverride: row.keyLimit,
    keysUsed: used,
    /** What the dashboard shows: "3 of 10 keys used". */
    keysUsage: limit === null ? `${used} key${used === 1 ? '' : 's'} used (no limit)` : `${used} of ${limit} keys used`,
    /** Whether the caller may create a key here now, and if not why (for the dashboard). */
    canCreateKey: refusal === null,
    createKeyRefusal: refusal,
    keysPerUser: row.keysPerUser,
    spendLimit: row.spendLimit,
    ...(spend && { spend }),
    /** 'tollgate.yaml' when a declarative file manages it: edits here are overwritten by its next apply. */
    managedBy: row.managedBy,
    createdAt: iso(row.createdAt),
  };
}

/** Creates a project on the given plan, or the default plan. */
export async function createProject(ctx: WriteContext, body: ProjectInput): Promise<ProjectRow> {
  const [row] = await ctx.db
    .insert(projects)
    .values({
      orgId: ctx.orgId,
      name: body.name,
      plan: body.plan ?? ctx.plans.defaultPlan,
      keyLimit: body.keyLimit ?? null,
      keysPerUser: body.keysPerUser ?? null,
      spendLimit: applySpendLimit({}, body.spendLimit, ctx.clock()),
    })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new TollgateError('TG_ERR_CONFLICT', `A project named "${body.name}" already exists`);
  await ctx.invalidation.publish({ kind: 'project', ref: row.id });
  return row;
}

/** Changes what the body gives; the rest stays. */
export async function updateProject(ctx: WriteContext, project: ProjectRow, body: ProjectChange): Promise<ProjectRow> {
  const [row] = await ctx.db
    .update(projects)
    .set({
      ...(body.name !== undefined && { name: body.name }),
      ...(body.plan !== undefined && { plan: body.plan }),
      ...(body.keyLimit !== undefined && { keyLimit: body.keyLimit }),
      ...(body.keysPerUser !== undefined && { keysPerUser: body.keysPerUser }),
      ...(body.spendLimit !== undefined && {
        spendLimit: applySpendLimit(project.spendLimit, body.spendLimit, ctx.clock()),
      }),
    })
    .where(eq(projects.id, project.id))
    .returning();
  await ctx.invalidation.publish({ kind: 'project', ref: project.id });
  return row as ProjectRow;
}

export function projectRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const tags = ['projects'];
  const reports = async (rows: ProjectRow[]) => {
    await ctx.usage.flush();
    return spendReports(ctx.db, 'project', rows, ctx.clock());
  };

  app.get(
    '/projects',
    { config: { access: ACCESS.everyone }, schema: { tags, summary: 'List projects with keys used and spend' } },
    async (request) => {
      const rows = await ctx.db
        .select()
        .from(projects)
        .where(eq(projects.orgId, ctx.orgId))
        .orderBy(asc(projects.name));
      const spend = await reports(rows);
      return {
        projects: await Promise.all(rows.map((row) => present(ctx, row, request.actor, spend.get(row.id)))),
      };
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/projects/:ref',
    {
      config: { access: ACCESS.everyone },
      schema: { tags, summary: 'Show a project by id or name', params: RefParams },
    },
    async (request) => {
      const row = await findProject(ctx.db, ctx.orgId, request.params.ref);
      return present(ctx, row, request.actor, (await reports([row])).get(row.id));
    },
  );

  app.post<{ Body: Static<typeof ProjectBody> }>(
    '/projects',
    { config: { access: ACCESS.admins }, schema: { tags, summary: 'Create a project', body: ProjectBody } },
    async (request, reply) => {
      const row = await createProject(ctx, request.body);
      reply.code(201);
      return present(ctx, row, request.actor);
    },
  );

  app.patch<{ Params: { ref: string }; Body: Static<typeof ProjectPatch> }>(
    '/projects/:ref',
    {
      config: { access: ACCESS.admins },
      schema: {
        tags,
        summary: 'Change a project: name, plan, key limits, spend limit',
        params: RefParams,
        body: ProjectPatch,
      },
    },
    async (request) => {
      const project = await findProject(ctx.db, ctx.orgId, request.params.ref);
      const row = await updateProject(ctx, project, request.body);
      return present(ctx, row, request.actor, (await reports([row])).get(project.id));
    },
  );
}
