import { and, asc, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { lookupPrice } from '../catalog/index.ts';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { type ModelRow, models, modelTargets, providerCredentials } from '../store/schema.ts';
import { ACCESS } from './admin-auth.ts';
import { MAX_PRICE, Ref, RefParams } from './bounds.ts';
import { type ControlContext, iso, isUuid } from './context.ts';
import { findCredential } from './credentials.ts';

const Price = Type.Number({ minimum: 0, maximum: MAX_PRICE });
const TargetBody = Type.Object({
  /** Credential id or name. */
  credential: Ref(),
  upstreamModel: Type.String({ minLength: 1, maxLength: 200 }),
  weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** Fallback order (lower first); targets with equal priority share load by weight. Default: list order. */
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** Time this target may take to start answering before the next is tried, in ms. */
  timeoutMs: Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 100, maximum: 3_600_000 })])),
});
const ModelBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s]+$' }),
  targets: Type.Array(TargetBody, { minItems: 1, maxItems: 20 }),
  /** USD per million tokens. */
  inputPrice: Type.Optional(Price),
  outputPrice: Type.Optional(Price),
  cachedInputPrice: Type.Optional(Type.Union([Type.Null(), Price])),
  /** Extra attempts per target after a 429, 5xx, timeout or connection error (default 1). */
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
  /** The most output tokens one call can produce; bounds spend reservations. */
  maxOutputTokens: Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 1, maximum: 100_000_000 })])),
});
const ModelPatch = Type.Partial(ModelBody);

async function findModel(db: Db, orgId: string, ref: string): Promise<ModelRow> {
  const [row] = await db
    .select()
    .from(models)
    .where(and(eq(models.orgId, orgId), isUuid(ref) ? eq(models.id, ref) : eq(models.name, ref)))
    .limit(1);
  if (!row) throw new TollgateError('TG_ERR_NOT_FOUND', 'model', ref);
  return row;
}

async function presentAll(db: Db, rows: ModelRow[]) {
  const ids = rows.map((row) => row.id);
  const targets =
    ids.length === 0
      ? []
      : await db
          .select({
            modelId: modelTargets.modelId,
            credentialId: modelTargets.credentialId,
            credential: providerCredentials.name,
            provider: providerCredentials.provider,
            upstreamModel: modelTargets.upstreamModel,
            weight: modelTargets.weight,
            position: modelTargets.position,
            timeoutMs: modelTargets.timeoutMs,
          })
          .from(modelTargets)
          .innerJoin(providerCredentials, eq(providerCredentials.id, modelTargets.credentialId))
          .where(inArray(modelTargets.modelId, ids))
          .orderBy(asc(modelTargets.position));
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    inputPrice: row.inputPrice,
    outputPrice: row.outputPrice,
    cachedInputPrice: row.cachedInputPrice,
    retries: row.retries,
    maxOutputTokens: row.maxOutputTokens,
    targets: targets
      .filter((target) => target.modelId === row.id)
      .map(({ modelId: _, position, ...target }) => ({ ...target, priority: position })),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  }));
}

async function resolveTargets(ctx: ControlContext, modelId: string, targets: Static<typeof TargetBody>[]) {
  const rows = [];
  for (const [position, target] of targets.entries()) {
    const credential = await findCredential(ctx.db, ctx.orgId, target.credential);
    rows.push({
      provider: credential.provider,
      modelId,
      credentialId: credential.id,
      upstreamModel: target.upstreamModel,
      weight: target.weight ?? 1,
      position: target.priority ?? position,
      timeoutMs: target.timeoutMs ?? null,
    });
  }
  return rows;
}

/**
 * A new model's prices: as given, and what is not given from the price catalogue for its first
 * target. With neither, the model cannot be priced, and an unpriced model would cost nothing.
 */
function catalogPrices(body: Static<typeof ModelBody>, first: { provider: string; upstreamModel: string } | undefined) {
  const known = first ? lookupPrice(first.provider, first.upstreamModel) : undefined;
  const inputPrice = body.inputPrice ?? known?.input;
  const outputPrice = body.outputPrice ?? known?.output;
  if (inputPrice === undefined || outputPrice === undefined) {
    throw new TollgateError(
      'TG_ERR_INVALID_REQUEST',
      `no price is known for ${first?.provider}/${first?.upstreamModel}: give inputPrice and outputPrice (USD per million tokens, 0 for free)`,
    );
  }
  return {
    inputPrice,
    outputPrice,
    cachedInputPrice: body.cachedInputPrice !== undefined ? body.cachedInputPrice : (known?.cachedInput ?? null),
    maxOutputTokens: body.maxOutputTokens !== undefined ? body.maxOutputTokens : (known?.maxOutputTokens ?? null),
  };
}

export function modelRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const tags = ['models'];

  app.get(
    '/models',
    { config: { access: ACCESS.everyone }, schema: { tags, summary: 'List published models' } },
    async () => {
      const rows = await ctx.db.select().from(models).where(eq(models.orgId, ctx.orgId)).orderBy(asc(models.name));
      return { models: await presentAll(ctx.db, rows) };
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/models/:ref',
    { config: { access: ACCESS.everyone }, schema: { tags, summary: 'Show a model by id or name', params: RefParams } },
    async (request) => (await presentAll(ctx.db, [await findModel(ctx.db, ctx.orgId, request.params.ref)]))[0],
  );

  app.post<{ Body: Static<typeof ModelBody> }>(
    '/models',
    {
      config: { access: ACCESS.admins },
      schema: { tags, summary: 'Publish a model: a public name served by one or more targets', body: ModelBody },
    },
    async (request, reply) => {
      const body = request.body;
      const id = crypto.randomUUID();
      const targets = await resolveTargets(ctx, id, body.targets);
      const prices = catalogPrices(body, targets[0]);
      const row = await ctx.db.transaction(async (tx) => {
        const [inserted] = await tx
          .insert(models)
          .values({
            id,
            orgId: ctx.orgId,
            name: body.name,
            ...prices,
            retries: body.retries ?? 1,
          })
          .onConflictDoNothing()
          .returning();
        if (!inserted) throw new TollgateError('TG_ERR_CONFLICT', `A model named "${body.name}" already exists`);
        await tx.insert(modelTargets).values(targets.map(({ provider: _, ...target }) => target));
        return inserted;
      });
      await ctx.invalidation.publish({ kind: 'model', ref: row.id });
      reply.code(201);
      return (await presentAll(ctx.db, [row]))[0];
    },
  );

  app.patch<{ Params: { ref: string }; Body: Static<typeof ModelPatch> }>(
    '/models/:ref',
    {
      config: { access: ACCESS.admins },
      schema: { tags, summary: 'Update a model: name, prices or targets', params: RefParams, body: ModelPatch },
    },
    async (request) => {
      const current = await findModel(ctx.db, ctx.orgId, request.params.ref);
      const body = request.body;
      const targets = body.targets && (await resolveTargets(ctx, current.id, body.targets));
      const row = await ctx.db.transaction(async (tx) => {
        const [updated] = await tx
          .update(models)
          .set({
            ...(body.name !== undefined && { name: body.name }),
            ...(body.inputPrice !== undefined && { inputPrice: body.inputPrice }),
            ...(body.outputPrice !== undefined && { outputPrice: body.outputPrice }),
            ...(body.cachedInputPrice !== undefined && { cachedInputPrice: body.cachedInputPrice }),
            ...(body.retries !== undefined && { retries: body.retries }),
            ...(body.maxOutputTokens !== undefined && { maxOutputTokens: body.maxOutputTokens }),
            updatedAt: new Date(),
          })
          .where(eq(models.id, current.id))
          .returning();
        if (targets) {
          await tx.delete(modelTargets).where(eq(modelTargets.modelId, current.id));
          await tx.insert(modelTargets).values(targets.map(({ provider: _, ...target }) => target));
        }
        return updated as ModelRow;
      });
      await ctx.invalidation.publish({ kind: 'model', ref: current.id });
      return (await presentAll(ctx.db, [row]))[0];
    },
  );

  app.delete<{ Params: { ref: string } }>(
    '/models/:ref',
    { config: { access: ACCESS.admins }, schema: { tags, summary: 'Unpublish a model', params: RefParams } },
    async (request, reply) => {
      const current = await findModel(ctx.db, ctx.orgId, request.params.ref);
      await ctx.db.delete(models).where(eq(models.id, current.id));
      await ctx.invalidation.publish({ kind: 'model', ref: current.id });
      reply.code(204);
    },
  );
}
