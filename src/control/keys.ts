import { and, desc, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { generateApiKey, hashApiKey, previewApiKey } from '../crypto/api-keys.ts';
import { TollgateError } from '../errors.ts';
import { type ApiKeyRow, apiKeys, projects, usageRecords } from '../store/schema.ts';
import { type ControlContext, iso, UUID } from './context.ts';
import { findProject, keysInUse } from './projects.ts';

const Metadata = Type.Record(Type.String(), Type.String({ maxLength: 500 }), { maxProperties: 50 });
const KeyBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  /** Project id or name; the organisation's first project when omitted. */
  project: Type.Optional(Type.String({ minLength: 1 })),
  expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  metadata: Type.Optional(Metadata),
});
const KeyPatch = Type.Object({
  name: Type.Optional(KeyBody.properties.name),
  expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  metadata: Type.Optional(Metadata),
});
const IdParams = Type.Object({ id: Type.String({ pattern: UUID.source }) });
type IdParams = Static<typeof IdParams>;

function present(row: ApiKeyRow, projectName?: string) {
  return {
    id: row.id,
    name: row.name,
    preview: row.preview,
    status: row.status,
    projectId: row.projectId,
    ...(projectName !== undefined && { project: projectName }),
    ownerUserId: row.ownerUserId,
    metadata: row.metadata,
    createdAt: iso(row.createdAt),
    createdBy: row.createdBy,
    updatedAt: iso(row.updatedAt),
    lastUsedAt: iso(row.lastUsedAt),
    expiresAt: iso(row.expiresAt),
  };
}

function parseExpiry(value: string | null | undefined): Date | null | undefined {
  if (value === undefined || value === null) return value;
  const date = new Date(value);
  if (date.getTime() <= Date.now())
    throw new TollgateError('TG_ERR_INVALID_REQUEST', '"expiresAt" must be in the future');
  return date;
}

export function keyRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const tags = ['keys'];

  async function findKey(id: string): Promise<ApiKeyRow> {
    const [row] = await ctx.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, ctx.orgId)))
      .limit(1);
    if (!row) throw new TollgateError('TG_ERR_NOT_FOUND', 'API key', id);
    return row;
  }

  /** Applies a change and tells every gateway instance to drop its cached copy. */
  async function change(id: string, set: Partial<typeof apiKeys.$inferInsert>) {
    await findKey(id);
    const [row] = await ctx.db
      .update(apiKeys)
      .set({ ...set, updatedAt: new Date() })
      .where(eq(apiKeys.id, id))
      .returning();
    await ctx.invalidation.publish({ kind: 'key', ref: id });
    const project = await findProject(ctx.db, ctx.orgId, (row as ApiKeyRow).projectId);
    return present(row as ApiKeyRow, project.name);
  }

  app.get<{ Querystring: { project?: string; status?: 'active' | 'disabled' | 'revoked' } }>(
    '/api/v1/keys',
    {
      schema: {
        tags,
        summary: 'List API keys (never the keys themselves)',
        querystring: Type.Object({
          project: Type.Optional(Type.String()),
          status: Type.Optional(
            Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('revoked')]),
          ),
        }),
      },
    },
    async (request) => {
      const filters = [eq(apiKeys.orgId, ctx.orgId)];
      if (request.query.project)
        filters.push(eq(apiKeys.projectId, (await findProject(ctx.db, ctx.orgId, request.query.project)).id));
      if (request.query.status) filters.push(eq(apiKeys.status, request.query.status));
      const rows = await ctx.db
        .select({ key: apiKeys, project: projects.name })
        .from(apiKeys)
        .innerJoin(projects, eq(projects.id, apiKeys.projectId))
        .where(and(...filters))
        .orderBy(desc(apiKeys.createdAt));
      return { keys: rows.map((row) => present(row.key, row.project)) };
    },
  );

  app.get<{ Params: IdParams }>(
    '/api/v1/keys/:id',
    { schema: { tags, summary: 'Show an API key with its usage totals', params: IdParams } },
    async (request) => {
      const row = await findKey(request.params.id);
      const project = await findProject(ctx.db, ctx.orgId, row.projectId);
      await ctx.usage.flush();
      const [totals] = await ctx.db
        .select({
          requests: sql<number>`count(*)::int`,
          promptTokens: sql<number>`coalesce(sum(${usageRecords.promptTokens}), 0)::bigint`,
          completionTokens: sql<number>`coalesce(sum(${usageRecords.completionTokens}), 0)::bigint`,
          costUsd: sql<number>`coalesce(sum(${usageRecords.costUsd}), 0)::float8`,
        })
        .from(usageRecords)
        .where(eq(usageRecords.keyId, row.id));
      return {
        ...present(row, project.name),
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
    '/api/v1/keys',
    {
      schema: { tags, summary: 'Create an API key; the key is in this response and nowhere else, ever', body: KeyBody },
    },
    async (request, reply) => {
      const body = request.body;
      const expiresAt = parseExpiry(body.expiresAt);
      const key = generateApiKey();
      const keyHash = hashApiKey(key);
      const row = await ctx.db.transaction(async (tx) => {
        const [project] = body.project
          ? [await findProject(tx, ctx.orgId, body.project)]
          : await tx.select().from(projects).where(eq(projects.orgId, ctx.orgId)).orderBy(projects.createdAt).limit(1);
        if (!project) throw new TollgateError('TG_ERR_NOT_FOUND', 'project', body.project ?? '(default)');
        // Lock the project row so two concurrent creations cannot both take the last slot.
        await tx.execute(sql`select id from projects where id = ${project.id} for update`);
        if (project.keyLimit !== null && (await keysInUse(tx, project.id)) >= project.keyLimit) {
          throw new TollgateError('TG_ERR_KEY_LIMIT_REACHED', project.name, String(project.keyLimit));
        }
        const [inserted] = await tx
          .insert(apiKeys)
          .values({
            orgId: ctx.orgId,
            projectId: project.id,
            name: body.name,
            keyHash,
            preview: previewApiKey(key),
            expiresAt: expiresAt ?? null,
            metadata: body.metadata ?? {},
            createdBy: request.actor ? `${request.actor.kind}:${request.actor.name}` : null,
          })
          .returning();
        return { key: inserted as ApiKeyRow, project: project.name };
      });
      await ctx.invalidation.publish({ kind: 'key-created', ref: keyHash });
      reply.code(201);
      return { ...present(row.key, row.project), key };
    },
  );

  app.patch<{ Params: IdParams; Body: Static<typeof KeyPatch> }>(
    '/api/v1/keys/:id',
    { schema: { tags, summary: 'Update an API key', params: IdParams, body: KeyPatch } },
    async (request) => {
      const body = request.body;
      const expiresAt = parseExpiry(body.expiresAt);
      return change(request.params.id, {
        ...(body.name !== undefined && { name: body.name }),
        ...(expiresAt !== undefined && { expiresAt }),
        ...(body.metadata !== undefined && { metadata: body.metadata }),
      });
    },
  );

  for (const [action, status, summary] of [
    ['disable', 'disabled', 'Disable an API key (reversible)'],
    ['enable', 'active', 'Enable a disabled API key'],
    ['revoke', 'revoked', 'Revoke an API key (permanent; the record stays for history)'],
  ] as const) {
    app.post<{ Params: IdParams }>(
      `/api/v1/keys/:id/${action}`,
      { schema: { tags, summary, params: IdParams } },
      async (request) => {
        const current = await findKey(request.params.id);
        if (current.status === 'revoked' && status !== 'revoked') {
          throw new TollgateError('TG_ERR_CONFLICT', `API key ${current.id} is revoked; revocation is permanent`);
        }
        return change(current.id, { status });
      },
    );
  }

  app.delete<{ Params: IdParams }>(
    '/api/v1/keys/:id',
    { schema: { tags, summary: 'Delete an API key (its usage records stay)', params: IdParams } },
    async (request, reply) => {
      const current = await findKey(request.params.id);
      await ctx.db.delete(apiKeys).where(eq(apiKeys.id, current.id));
      await ctx.invalidation.publish({ kind: 'key', ref: current.id });
      reply.code(204);
    },
  );
}
