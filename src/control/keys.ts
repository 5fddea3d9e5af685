import { and, desc, eq, ne, type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { generateApiKey, hashApiKey, previewApiKey } from '../crypto/api-keys.ts';
import { TollgateError } from '../errors.ts';
import { hasRules } from '../gateway/policy/access-rules.ts';
import type { Db } from '../store/db.ts';
import { type ApiKeyRow, apiKeys, type ProjectRow, projects, usageRecords } from '../store/schema.ts';
import { ACCESS, type Actor, ownScope } from './admin-auth.ts';
import { Ref } from './bounds.ts';
import { type ControlContext, iso, UUID } from './context.ts';
import { keyActionRoutes } from './key-actions.ts';
import { expiryChange, refuseMemberProject } from './key-controls.ts';
import { mergeRateLimits, normaliseRules, RateLimitsBody, RulesBody } from './policy-schemas.ts';
import { effectiveKeyLimit, findProject, keysInUse } from './projects.ts';
import { applySpendLimit, SpendLimitBody, type SpendReport, spendReports } from './spend-limits.ts';
import { findUser } from './users.ts';

const Metadata = Type.Record(Type.String(), Type.String({ maxLength: 500 }), {
  maxProperties: 50,
  propertyNames: { maxLength: 100 },
});
const Expiry = Type.Union([Type.Null(), Type.String({ format: 'date-time' })]);
const KeyBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  /** Project id or name; the organisation's first project when omitted. */
  project: Type.Optional(Ref()),
  /** The user who owns the key (id or email); none for a service key. */
  owner: Type.Optional(Type.Union([Type.Null(), Ref()])),
  expiresAt: Type.Optional(Expiry),
  metadata: Type.Optional(Metadata),
  spendLimit: Type.Optional(SpendLimitBody),
  rules: Type.Optional(RulesBody),
  rateLimits: Type.Optional(RateLimitsBody),
});
const KeyPatch = Type.Partial(Type.Omit(KeyBody, ['project']));
export const IdParams = Type.Object({ id: Type.String({ pattern: UUID.source }) });
export type IdParams = Static<typeof IdParams>;

/** A key as the API shows it: never the key itself, only its preview. */
export function presentKey(row: ApiKeyRow, projectName: string, spend?: SpendReport) {
  return {
    id: row.id,
    name: row.name,
    preview: row.preview,
    status: row.status,
    /** The role of whoever disabled the key (a member cannot enable a key an admin disabled). */
    disabledBy: row.status === 'disabled' ? row.disabledByRole : null,
    projectId: row.projectId,
    project: projectName,
    ownerUserId: row.ownerUserId,
    metadata: row.metadata,
    rules: row.rules,
    hasRules: hasRules(row.rules),
    spendLimit: row.spendLimit,
    rateLimits: row.rateLimits,
    ...(spend && { spend }),
    createdAt: iso(row.createdAt),
    createdBy: row.createdBy,
    updatedAt: iso(row.updatedAt),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
    /** The role of whoever set the expiry (a member cannot remove or extend an admin's). */
    expirySetBy: row.expiresAt ? row.expirySetByRole : null,
    rotatedGraceEndsAt: row.previousKeyHash ? iso(row.previousExpiresAt) : null,
  };
}

export function parseExpiry(value: string | null | undefined, now: number): Date | null | undefined {
  if (value === undefined || value === null) return value;
  const date = new Date(value);
  if (date.getTime() <= now) throw new TollgateError('TG_ERR_INVALID_REQUEST', '"expiresAt" must be in the future');
  return date;
}

/** Refuses a key beyond the project's limit. Locks the project row so two creations cannot both take the last slot. */
async function checkProjectKeyLimit(ctx: ControlContext, tx: Db, project: ProjectRow): Promise<void> {
  await tx.execute(sql`select id from projects where id = ${project.id} for update`);
  const limit = effectiveKeyLimit(ctx, project);
  if (limit !== null && (await keysInUse(tx, project.id)) >= limit) {
    throw new TollgateError('TG_ERR_KEY_LIMIT_REACHED', project.name, limit);
  }
}

/** Refuses one more key for a user who has as many in the project as it allows per user. */
async function checkUserKeyLimit(tx: Db, project: ProjectRow, ownerUserId: string): Promise<void> {
  if (project.keysPerUser === null) return;
  await tx.execute(sql`select id from projects where id = ${project.id} for update`);
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, project.id), eq(apiKeys.ownerUserId, ownerUserId), ne(apiKeys.status, 'revoked')));
  if (Number(row?.n ?? 0) >= project.keysPerUser) {
    throw new TollgateError('TG_ERR_USER_KEY_LIMIT_REACHED', project.keysPerUser);
  }
}

export function keyRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const tags = ['keys'];

  /** A key of the organisation; for a member, only one of their own (others are "not found"). */
  async function findKey(id: string, actor: Actor | 'system'): Promise<{ key: ApiKeyRow; project: string }> {
    const own = actor === 'system' ? undefined : ownScope(actor);
    const [row] = await ctx.db
      .select({ key: apiKeys, project: projects.name })
      .from(apiKeys)
      .innerJoin(projects, eq(projects.id, apiKeys.projectId))
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, ctx.orgId), own ? eq(apiKeys.ownerUserId, own) : undefined))
      .limit(1);
    if (!row) throw new TollgateError('TG_ERR_NOT_FOUND', 'API key', id);
    return row;
  }

  /** Members manage their own keys, but limits, rules and ownership are set by admins. */
  function refuseMemberPolicy(actor: Actor, body: Record<string, unknown>): void {
    if (!ownScope(actor)) return;
    const fields = ['spendLimit', 'rules', 'rateLimits', 'owner'].filter((field) => body[field] !== undefined);
    if (fields.length > 0) {
      throw new TollgateError('TG_ERR_FORBIDDEN', `members cannot set ${fields.join(', ')}; ask an admin`);
    }
  }

  /**
   * Applies a change and tells every gateway instance to drop its cached copy. `guard` is a
   * condition the key must still meet when it is updated (e.g. not disabled by an admin since
   * it was read); when it no longer does, nothing changes and the caller is told to retry.
   */
  async function change(id: string, set: Partial<typeof apiKeys.$inferInsert>, guard?: SQL) {
    const { project } = await findKey(id, 'system');
    const [row] = await ctx.db
      .update(apiKeys)
      .set({ ...set, updatedAt: new Date() })
      .where(and(eq(apiKeys.id, id), guard))
      .returning();
    if (!row)
      throw new TollgateError('TG_ERR_CONFLICT', `API key ${id} changed while this request was made; try again`);
    await ctx.invalidation.publish({ kind: 'key', ref: id });
    return presentKey(row as ApiKeyRow, project);
  }

  app.get<{ Querystring: { project?: string; status?: 'active' | 'disabled' | 'revoked' } }>(
    '/keys',
    {
      config: { access: ACCESS.everyone },
      schema: {
        tags,
        summary: 'List API keys (never the keys themselves) with what each has spent',
        querystring: Type.Object({
          project: Type.Optional(Ref('Project id or name')),
          status: Type.Optional(
            Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('revoked')]),
          ),
        }),
      },
    },
    async (request) => {
      const filters = [eq(apiKeys.orgId, ctx.orgId)];
      const own = ownScope(request.actor);
      if (own) filters.push(eq(apiKeys.ownerUserId, own));
      if (request.query.project) {
        filters.push(eq(apiKeys.projectId, (await findProject(ctx.db, ctx.orgId, request.query.project)).id));
      }
      if (request.query.status) filters.push(eq(apiKeys.status, request.query.status));
      const rows = await ctx.db
        .select({ key: apiKeys, project: projects.name })
        .from(apiKeys)
        .innerJoin(projects, eq(projects.id, apiKeys.projectId))
        .where(and(...filters))
        .orderBy(desc(apiKeys.createdAt));
      await ctx.usage.flush();
      const spend = await spendReports(
        ctx.db,
        'key',
        rows.map((row) => row.key),
        ctx.clock(),
      );
      return { keys: rows.map((row) => presentKey(row.key, row.project, spend.get(row.key.id))) };
    },
  );

  app.get<{ Params: IdParams }>(
    '/keys/:id',
    {
      config: { access: ACCESS.everyone },
      schema: { tags, summary: 'Show an API key: limits, rules, spend this period, usage totals', params: IdParams },
    },
    async (request) => {
      const { key, project } = await findKey(request.params.id, request.actor);
      await ctx.usage.flush();
      const spend = (await spendReports(ctx.db, 'key', [key], ctx.clock())).get(key.id);
      const [totals] = await ctx.db
        .select({
          requests: sql<number>`count(*)::int`,
          promptTokens: sql<number>`coalesce(sum(${usageRecords.promptTokens}), 0)::bigint`,
          completionTokens: sql<number>`coalesce(sum(${usageRecords.completionTokens}), 0)::bigint`,
          costUsd: sql<number>`coalesce(sum(${usageRecords.costUsd}), 0)::float8`,
        })
        .from(usageRecords)
        .where(eq(usageRecords.keyId, key.id));
      return {
        ...presentKey(key, project, spend),
        usage: {
          requests: Number(totals?.requests ?? 0),
          promptTokens: Number(totals?.promptTokens ?? 0),
          completionTokens: Number(totals?.completionTokens ?? 0),
          costUsd: Number(totals?.costUsd ?? 0),
        },
      };
    },
  );

  app.post<{ Body: Static<typeof KeyBody> }>(
    '/keys',
    {
      config: { access: ACCESS.keyHolders },
      schema: { tags, summary: 'Create an API key; the key is in this response and nowhere else, ever', body: KeyBody },
    },
    async (request, reply) => {
      const body = request.body;
      refuseMemberPolicy(request.actor, body);
      const now = ctx.clock();
      const expiresAt = parseExpiry(body.expiresAt, now);
      const own = ownScope(request.actor);
      const owner = own ? await findUser(ctx, own) : body.owner ? await findUser(ctx, body.owner) : null;
      const key = generateApiKey();
      const keyHash = hashApiKey(key);
      const row = await ctx.db.transaction(async (tx) => {
        const [project] = body.project
          ? [await findProject(tx, ctx.orgId, body.project)]
          : await tx.select().from(projects).where(eq(projects.orgId, ctx.orgId)).orderBy(projects.createdAt).limit(1);
        if (!project) throw new TollgateError('TG_ERR_NOT_FOUND', 'project', body.project ?? '(default)');
        refuseMemberProject(request.actor, project);
        await checkProjectKeyLimit(ctx, tx, project);
        if (owner) await checkUserKeyLimit(tx, project, owner.id);
        const [inserted] = await tx
          .insert(apiKeys)
          .values({
            orgId: ctx.orgId,
            projectId: project.id,
            ownerUserId: owner?.id ?? null,
            name: body.name,
            keyHash,
            preview: previewApiKey(key),
            expiresAt: expiresAt ?? null,
            expirySetByRole: expiresAt ? request.actor.role : null,
            metadata: body.metadata ?? {},
            rules: normaliseRules(body.rules ?? {}),
            spendLimit: applySpendLimit({}, body.spendLimit, now),
            rateLimits: mergeRateLimits({}, body.rateLimits),
            createdBy: `${request.actor.kind}:${request.actor.name}`,
          })
          .returning();
        return { key: inserted as ApiKeyRow, project: project.name };
      });
      await ctx.invalidation.publish({ kind: 'key-created', ref: keyHash });
      reply.code(201);
      return { ...presentKey(row.key, row.project), key };
    },
  );

  app.patch<{ Params: IdParams; Body: Static<typeof KeyPatch> }>(
    '/keys/:id',
    {
      config: { access: ACCESS.keyHolders },
      schema: {
        tags,
        summary: 'Update an API key: name, expiry, limits, rules, rate limits',
        params: IdParams,
        body: KeyPatch,
      },
    },
    async (request) => {
      const body = request.body;
      refuseMemberPolicy(request.actor, body);
      const now = ctx.clock();
      const { key: current } = await findKey(request.params.id, request.actor);
      const expiresAt = parseExpiry(body.expiresAt, now);
      const owner = body.owner === undefined ? undefined : body.owner === null ? null : await findUser(ctx, body.owner);
      if (owner && owner.id !== current.ownerUserId) {
        await ctx.db.transaction(async (tx) => {
          const [project] = await tx.select().from(projects).where(eq(projects.id, current.projectId));
          if (project) await checkUserKeyLimit(tx, project, owner.id);
        });
      }
      const expiry = expiresAt === undefined ? undefined : expiryChange(request.actor, current, expiresAt);
      return change(
        current.id,
        {
          ...(body.name !== undefined && { name: body.name }),
          ...expiry?.set,
          ...(body.metadata !== undefined && { metadata: body.metadata }),
          ...(owner !== undefined && { ownerUserId: owner?.id ?? null }),
          ...(body.rules !== undefined && { rules: normaliseRules(body.rules) }),
          ...(body.spendLimit !== undefined && {
            spendLimit: applySpendLimit(current.spendLimit, body.spendLimit, now),
          }),
          ...(body.rateLimits !== undefined && { rateLimits: mergeRateLimits(current.rateLimits, body.rateLimits) }),
        },
        expiry?.guard,
      );
    },
  );

  keyActionRoutes(app, ctx, { findKey, change });
}
