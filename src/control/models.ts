import { and, asc, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { lookupPrice } from '../catalog/index.ts';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { type ModelRow, models, modelTargets, providerCredentials } from '../store/schema.ts';
import { ACCESS } from './admin-auth.ts';
import { MAX_PRICE, Ref, RefParams } from './bounds.ts';
import { type ControlContext, iso, isUuid, type WriteContext } from './context.ts';
import { findCredential } from './credentials.ts';
import {
  type GivenPrices,
  givenPrices,
  type ModelPrices,
  PRICE_FIELDS,
  type PriceSources,
  priceNotes,
  resolvePrices,
  storedSources,
} from './model-prices.ts';

const Price = Type.Number({ minimum: 0, maximum: MAX_PRICE });
export const TargetBody = Type.Object({
  /** Credential id or name. */
  credential: Ref(),
  upstreamModel: Type.String({ minLength: 1, maxLength: 200 }),
  weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** Fallback order (lower first); targets with equal priority share load by weight. Default: list order. */
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** Time this target may take to start answering before the next is tried, in ms. */
  timeoutMs: Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 100, maximum: 3_600_000 })])),
});
export const ModelBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s]+$' }),
  targets: Type.Array(TargetBody, { minItems: 1, maxItems: 20 }),
  /** USD per million tokens. Prices not given come from the catalogue, or are derived from the input price. */
  inputPrice: Type.Optional(Price),
  outputPrice: Type.Optional(Price),
  /** Cache reads; null: billed at the input price. */
  cachedInputPrice: Type.Optional(Type.Union([Type.Null(), Price])),
  /** Cache writes with a 5-minute (or unspecified) life; null: billed at the input price. */
  cacheWriteInputPrice: Type.Optional(Type.Union([Type.Null(), Price])),
  /** Cache writes with a 1-hour life; null: billed at the 5-minute write price. */
  cacheWrite1hInputPrice: Type.Optional(Type.Union([Type.Null(), Price])),
  /** Extra attempts per target after a 429, 5xx, timeout or connection error (default 1). */
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
  /** The most output tokens one call can produce; bounds spend reservations. */
  maxOutputTokens: Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 1, maximum: 100_000_000 })])),
});
const ModelPatch = Type.Partial(ModelBody);
export type ModelChange = Static<typeof ModelPatch>;
export type ModelInput = Static<typeof ModelBody>;
export type TargetInput = Static<typeof TargetBody>;

export async function findModel(db: Db, orgId: string, ref: string): Promise<ModelRow> {
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
  return rows.map((row) => {
    const own = targets.filter((target) => target.modelId === row.id);
    const prices = rowPrices(row);
    const sources = storedSources(row.priceSources as Partial<PriceSources> | null, prices);
    return {
      id: row.id,
      name: row.name,
      ...prices,
      /** Where each price came from: given, catalogue, derived (from the input price) or none. */
      priceSources: sources,
      /** What the prices mean for billing, where it is not plain (derived prices, tokens billed at the input price). */
      priceNotes: priceNotes(prices, sources, own[0]),
      retries: row.retries,
      maxOutputTokens: row.maxOutputTokens,
      /** 'tollgate.yaml' when a declarative file manages it: edits here are overwritten by its next apply. */
      managedBy: row.managedBy,
      targets: own.map(({ modelId: _, position, ...target }) => ({ ...target, priority: position })),
      createdAt: iso(row.createdAt),
      updatedAt: iso(row.updatedAt),
    };
  });
}

function rowPrices(row: ModelRow): ModelPrices {
  return {
    inputPrice: row.inputPrice,
    outputPrice: row.outputPrice,
    cachedInputPrice: row.cachedInputPrice,
    cacheWriteInputPrice: row.cacheWriteInputPrice,
    cacheWrite1hInputPrice: row.cacheWrite1hInputPrice,
  };
}

/** The prices a request body gives (the ones it leaves out are undefined). */
function bodyPrices(body: Partial<Static<typeof ModelBody>>): GivenPrices {
  const given: GivenPrices = {};
  for (const field of PRICE_FIELDS) if (body[field] !== undefined) given[field] = body[field];
  return given;
}

/** The prices as columns, with their sources. */
function priceColumns({ prices, sources }: { prices: ModelPrices; sources: PriceSources }) {
  return { ...prices, priceSources: sources };
}

async function resolveTargets(ctx: WriteContext, modelId: string, targets: Static<typeof TargetBody>[]) {
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

/** The target prices are resolved for: the first in fallback order. */
export function firstTarget<T extends { position: number }>(targets: T[]): T | undefined {
  return [...targets].sort((a, b) => a.position - b.position)[0];
}

/**
 * An update's prices, when it changes a price or the targets: the prices given before and now
 * stay, the rest are taken again from the catalogue or derived for the (new) first target.
 */
async function updatedPrices(
  ctx: WriteContext,
  current: ModelRow,
  body: Static<typeof ModelPatch>,
  targets: Array<{ provider: string; upstreamModel: string; position: number }> | undefined,
) {
  const patched = bodyPrices(body);
  if (Object.keys(patched).length === 0 && !targets) return undefined;
  const stored = rowPrices(current);
  const sources = storedSources(current.priceSources as Partial<PriceSources> | null, stored);
  const first =
    firstTarget(targets ?? []) ??
    (
      await ctx.db
        .select({ provider: providerCredentials.provider, upstreamModel: modelTargets.upstreamModel })
        .from(modelTargets)
        .innerJoin(providerCredentials, eq(providerCredentials.id, modelTargets.credentialId))
        .where(eq(modelTargets.modelId, current.id))
        .orderBy(asc(modelTargets.position))
        .limit(1)
    )[0];
  return resolvePrices({ ...givenPrices(stored, sources), ...patched }, first, { prices: stored, sources });
}

/**
 * A new model's columns as publishing it gives them: prices not given come from the catalogue
 * for the first target's model or are derived from the given input price; the output cap not
 * given is the catalogue's; one retry unless told otherwise.
 */
export function modelColumns(body: ModelInput, first: { provider: string; upstreamModel: string } | undefined) {
  const known = first ? lookupPrice(first.provider, first.upstreamModel) : undefined;
  return {
    name: body.name,
    ...priceColumns(resolvePrices(bodyPrices(body), first)),
    maxOutputTokens: body.maxOutputTokens !== undefined ? body.maxOutputTokens : (known?.maxOutputTokens ?? null),
    retries: body.retries ?? 1,
  };
}

/** Publishes a model: a public name served by one or more targets. */
export async function createModel(ctx: WriteContext, body: ModelInput): Promise<ModelRow> {
  const id = crypto.randomUUID();
  const targets = await resolveTargets(ctx, id, body.targets);
  const row = await ctx.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(models)
      .values({ id, orgId: ctx.orgId, ...modelColumns(body, firstTarget(targets)) })
      .onConflictDoNothing()
      .returning();
    if (!inserted) throw new TollgateError('TG_ERR_CONFLICT', `A model named "${body.name}" already exists`);
    await tx.insert(modelTargets).values(targets.map(({ provider: _, ...target }) => target));
    return inserted;
  });
  await ctx.invalidation.publish({ kind: 'model', ref: row.id });
  return row;
}

/** Changes a model as a patch does: what the body leaves out stays (prices: see `updatedPrices`). */
export async function updateModel(ctx: WriteContext, current: ModelRow, body: ModelChange): Promise<ModelRow> {
  const targets = body.targets && (await resolveTargets(ctx, current.id, body.targets));
  const prices = await updatedPrices(ctx, current, body, targets);
  const row = await ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(models)
      .set({
        ...(body.name !== undefined && { name: body.name }),
        ...(prices && priceColumns(prices)),
        ...(body.retries !== undefined && { retries: body.retries }),
        ...(body.maxOutputTokens !== undefined && { maxOutputTokens: body.maxOutputTokens }),
        updatedAt: new Date(),
      })
      .where(eq(models.id, current.id))
      .returning();
    if (targets) await replaceTargets(tx, current.id, targets);
    return updated as ModelRow;
  });
  await ctx.invalidation.publish({ kind: 'model', ref: current.id });
  return row;
}

/**
 * Makes a model exactly what publishing `body` would make it, keeping its id: what the body
 * leaves out takes the value publishing gives (the catalogue's prices, one retry, …) rather
 * than staying as it was. For declarative files, which describe the whole model.
 */
export async function replaceModel(ctx: WriteContext, current: ModelRow, body: ModelInput): Promise<ModelRow> {
  const targets = await resolveTargets(ctx, current.id, body.targets);
  const row = await ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(models)
      .set({ ...modelColumns(body, firstTarget(targets)), updatedAt: new Date() })
      .where(eq(models.id, current.id))
      .returning();
    await replaceTargets(tx, current.id, targets);
    return updated as ModelRow;
  });
  await ctx.invalidation.publish({ kind: 'model', ref: current.id });
  return row;
}

async function replaceTargets(db: Db, modelId: string, targets: Awaited<ReturnType<typeof resolveTargets>>) {
  await db.delete(modelTargets).where(eq(modelTargets.modelId, modelId));
  await db.insert(modelTargets).values(targets.map(({ provider: _, ...target }) => target));
}

export async function deleteModel(ctx: WriteContext, current: ModelRow): Promise<void> {
  await ctx.db.delete(models).where(eq(models.id, current.id));
  await ctx.invalidation.publish({ kind: 'model', ref: current.id });
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
      const row = await createModel(ctx, request.body);
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
      const row = await updateModel(ctx, current, request.body);
      return (await presentAll(ctx.db, [row]))[0];
    },
  );

  app.delete<{ Params: { ref: string } }>(
    '/models/:ref',
    { config: { access: ACCESS.admins }, schema: { tags, summary: 'Unpublish a model', params: RefParams } },
    async (request, reply) => {
      const current = await findModel(ctx.db, ctx.orgId, request.params.ref);
      await deleteModel(ctx, current);
      reply.code(204);
    },
  );
}
