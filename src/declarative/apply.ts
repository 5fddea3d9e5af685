import { eq, sql } from 'drizzle-orm';
import type { WriteContext } from '../control/context.ts';
import { createCredential, deleteCredential, updateCredential } from '../control/credentials.ts';
import { createModel, deleteModel, replaceModel } from '../control/models.ts';
import { updateOrganization } from '../control/organization.ts';
import { createProject, updateProject } from '../control/projects.ts';
import type { Change, Invalidation } from '../coord/invalidation.ts';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { models, projects, providerCredentials } from '../store/schema.ts';
import { type ConfigDocument, MANAGED_BY } from './document.ts';
import { planChanges } from './plan.ts';
import type { Action, PlannedChange, Step } from './plan-types.ts';
import { ConfigProblems, reasonOf } from './problems.ts';
import { readState } from './state.ts';

/**
 * Arbitrary constant for pg_advisory_xact_lock: one apply at a time per database, so that
 * instances starting together with the same file do not race (the second finds nothing to do).
 */
const APPLY_LOCK = 7_146_011;

export interface ApplyOptions {
  /** Plan and check everything, change nothing. */
  dryRun: boolean;
  /** Delete what the file managed and no longer lists, rather than release it. */
  prune: boolean;
}

export interface ApplyResult {
  dryRun: boolean;
  prune: boolean;
  changes: PlannedChange[];
  /** How many objects each action touched (or would touch). */
  summary: Record<Action, number>;
}

/** Thrown inside the transaction to roll a dry run back. */
const DRY_RUN = Symbol('dry run');

/**
 * Applies a resolved tollgate.yaml in one transaction, under an advisory lock: all of it or,
 * on any problem, none of it. Each object is written by the admin API's own services, so it is
 * checked and invalidated exactly as an API call would be; the invalidations are published once
 * the transaction has committed. A dry run takes the same path and rolls back at the end, so
 * what it reports is what applying would do, refusals included.
 */
export async function applyDocument(
  ctx: WriteContext,
  document: ConfigDocument,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const published: Change[] = [];
  const collecting = {
    publish: async (change: Change) => {
      published.push(change);
    },
  } as Invalidation;
  let result: ApplyResult | undefined;
  try {
    await ctx.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      await db.execute(sql`select pg_advisory_xact_lock(${APPLY_LOCK})`);
      const state = await readState(db, ctx.orgId, ctx.vault);
      const plan = planChanges(document, state, {
        prune: options.prune,
        defaultPlan: ctx.plans.defaultPlan,
        now: ctx.clock(),
      });
      const inside: WriteContext = { ...ctx, db, invalidation: collecting };
      for (const step of plan.steps) await runStep(inside, step);
      result = { ...options, changes: plan.changes, summary: summarise(plan.changes) };
      if (options.dryRun) throw DRY_RUN;
    });
  } catch (error) {
    if (error !== DRY_RUN) throw error;
  }
  const seen = new Set<string>();
  for (const change of published) {
    const key = `${change.kind}:${change.ref}`;
    if (!seen.has(key)) await ctx.invalidation.publish(change);
    seen.add(key);
  }
  return result as ApplyResult;
}

function summarise(changes: PlannedChange[]): Record<Action, number> {
  const summary: Record<Action, number> = { create: 0, update: 0, unchanged: 0, release: 0, delete: 0 };
  for (const change of changes) summary[change.action] += 1;
  return summary;
}

/** One step through the admin API's service; a refusal becomes a problem placed in the file. */
async function runStep(ctx: WriteContext, step: Step): Promise<void> {
  try {
    const id = await write(ctx, step);
    if (id) await mark(ctx.db, step.kind, id, MANAGED_BY);
  } catch (error) {
    // The API's refusals (a conflict, a field it will not take) are the file's problems; the
    // rest (the database gone, …) are not, and stay what they are.
    if (error instanceof TollgateError) throw new ConfigProblems([{ path: step.path, message: reasonOf(error) }]);
    throw error;
  }
}

/** Writes one step; resolves to the id of the row the file manages from now on, if any. */
async function write(ctx: WriteContext, step: Step): Promise<string | undefined> {
  switch (step.op) {
    case 'create':
      if (step.kind === 'credential') return (await createCredential(ctx, step.spec)).id;
      if (step.kind === 'model') return (await createModel(ctx, step.spec)).id;
      return (await createProject(ctx, step.spec)).id;
    case 'update':
      if (step.kind === 'credential') {
        if (step.change) await updateCredential(ctx, step.row, step.change);
        return step.row.id;
      }
      if (step.kind === 'model') {
        if (step.spec) await replaceModel(ctx, step.row, step.spec);
        return step.row.id;
      }
      if (step.kind === 'project') {
        if (step.change) await updateProject(ctx, step.row, step.change);
        return step.row.id;
      }
      await updateOrganization(ctx, step.change);
      return undefined;
    case 'release':
      await mark(ctx.db, step.kind, step.id, null);
      return undefined;
    case 'delete':
      if (step.kind === 'model') await deleteModel(ctx, step.row);
      else await deleteCredential(ctx, step.row);
      return undefined;
  }
}

const TABLES = { credential: providerCredentials, model: models, project: projects } as const;

async function mark(db: Db, kind: Step['kind'], id: string, managedBy: typeof MANAGED_BY | null): Promise<void> {
  if (kind === 'organization') return;
  const table = TABLES[kind];
  await db.update(table).set({ managedBy }).where(eq(table.id, id));
}
