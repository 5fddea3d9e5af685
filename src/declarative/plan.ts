import type { Plan as ProjectPlan } from '../config.ts';
import { applySpendLimit, type SpendLimitInput } from '../control/spend-limits.ts';
import type { SpendLimit } from '../store/schema.ts';
import { type ConfigDocument, MANAGED_BY, type OrganizationSpec, type ProjectSpec } from './document.ts';
import { planCredentials } from './plan-credentials.ts';
import { planModels } from './plan-models.ts';
import { compare, emptyParts, type PlannedChange, type PlanParts, type Step } from './plan-types.ts';
import { ConfigProblems, type DocPath, reasonOf } from './problems.ts';
import type { CurrentState } from './state.ts';

export interface PlanOptions {
  /** Delete the credentials and models the file managed and no longer lists, rather than release them. */
  prune: boolean;
  /** The plan a project gets when the file names none. */
  defaultPlan: ProjectPlan;
  now: number;
}

export interface Plan {
  changes: PlannedChange[];
  steps: Step[];
}

/**
 * What applying `document` would change, and the steps that change it. A field the file leaves
 * out takes the value creating the object through the API would give it (the catalogue's
 * prices, the default plan, no spend limit), so the file describes each object whole. Objects
 * the file does not name are left alone, except those it managed before: released, or with
 * pruning deleted. Throws `ConfigProblems` listing everything that stops it.
 */
export function planChanges(document: ConfigDocument, state: CurrentState, options: PlanOptions): Plan {
  const credentials = planCredentials(document.credentials ?? [], state, options.prune);
  const parts: PlanParts[] = [
    organizationPart(document.organization, state, options.now),
    credentials,
    planModels(document.models ?? [], state, credentials, options.prune),
    projectsPart(document.projects ?? [], state, options),
  ];
  const problems = parts.flatMap((part) => part.problems);
  if (problems.length > 0) throw new ConfigProblems(problems);
  // Deletions last, models before the credentials they use; then releases. (The sort is stable.)
  const order = (step: Step) =>
    step.op === 'delete' ? (step.kind === 'model' ? 1 : 2) : step.op === 'release' ? 3 : 0;
  return {
    changes: parts.flatMap((part) => part.changes),
    steps: parts.flatMap((part) => part.steps).sort((a, b) => order(a) - order(b)),
  };
}

/** A file's spend limit as the API's change: what it leaves out is removed. */
export function wholeSpendLimit(limit: SpendLimitInput | undefined): SpendLimitInput {
  return { allTimeUsd: limit?.allTimeUsd ?? null, recurring: limit?.recurring ?? null };
}

const UNIT_LETTER = { hour: 'h', day: 'd', week: 'w', month: 'mo' } as const;

/** A stored spend limit as a plan shows it: `{ allTimeUsd, recurring: { usd, window: '1mo' } }`. */
export function spendLimitView(limit: SpendLimit) {
  const recurring = limit.recurring;
  return {
    allTimeUsd: limit.allTimeUsd ?? null,
    recurring: recurring ? { usd: recurring.usd, window: `${recurring.count}${UNIT_LETTER[recurring.unit]}` } : null,
  };
}

/** The limit the file asks for, with the current window kept when its length is unchanged. */
function wantedLimit(
  current: SpendLimit,
  spec: SpendLimitInput | undefined,
  now: number,
  path: DocPath,
  parts: PlanParts,
) {
  try {
    return applySpendLimit(current, wholeSpendLimit(spec), now);
  } catch (error) {
    parts.problems.push({ path: [...path, 'spendLimit', 'recurring', 'window'], message: reasonOf(error) });
    return undefined;
  }
}

function limitChanges(now: SpendLimit, wanted: SpendLimit) {
  const [from, to] = [spendLimitView(now), spendLimitView(wanted)];
  return [
    ...compare('spendLimit.allTimeUsd', from.allTimeUsd, to.allTimeUsd),
    ...compare('spendLimit.recurring', from.recurring, to.recurring),
  ];
}

function organizationPart(spec: OrganizationSpec | undefined, state: CurrentState, now: number): PlanParts {
  const parts = emptyParts();
  if (!spec) return parts;
  const current = state.organization;
  const limit = wantedLimit(current.spendLimit, spec.spendLimit, now, ['organization'], parts);
  if (!limit) return parts;
  const fields = [
    ...(spec.name !== undefined ? compare('name', current.name, spec.name) : []),
    ...limitChanges(current.spendLimit, limit),
  ];
  parts.changes.push({
    kind: 'organization',
    name: spec.name ?? current.name,
    action: fields.length > 0 ? 'update' : 'unchanged',
    fields,
  });
  if (fields.length > 0) {
    parts.steps.push({
      kind: 'organization',
      op: 'update',
      change: { ...(spec.name !== undefined && { name: spec.name }), spendLimit: wholeSpendLimit(spec.spendLimit) },
      path: ['organization'],
    });
  }
  return parts;
}

function projectsPart(specs: ProjectSpec[], state: CurrentState, options: PlanOptions): PlanParts {
  const parts = emptyParts();
  for (const [index, spec] of specs.entries()) {
    const path = ['projects', index];
    const current = state.projects.find((row) => row.name === spec.name);
    const limit = wantedLimit(current?.spendLimit ?? {}, spec.spendLimit, options.now, path, parts);
    if (!limit) continue;
    const wanted = {
      plan: spec.plan ?? options.defaultPlan,
      keyLimit: spec.keyLimit ?? null,
      keysPerUser: spec.keysPerUser ?? null,
    };
    if (!current) {
      parts.changes.push({
        kind: 'project',
        name: spec.name,
        action: 'create',
        fields: [
          ...Object.entries(wanted).map(([field, to]) => ({ field, to })),
          ...limitChanges({}, limit).map(({ field, to }) => ({ field, to })),
        ],
      });
      parts.steps.push({ kind: 'project', op: 'create', spec: { ...spec, plan: wanted.plan }, path });
      continue;
    }
    const fields = [
      ...compare('plan', current.plan, wanted.plan),
      ...compare('keyLimit', current.keyLimit, wanted.keyLimit),
      ...compare('keysPerUser', current.keysPerUser, wanted.keysPerUser),
      ...limitChanges(current.spendLimit, limit),
    ];
    const adopted = current.managedBy !== MANAGED_BY;
    parts.changes.push({
      kind: 'project',
      name: spec.name,
      action: fields.length > 0 || adopted ? 'update' : 'unchanged',
      ...(adopted && { adopted }),
      fields,
    });
    if (fields.length > 0 || adopted) {
      const change = fields.length > 0 ? { ...wanted, spendLimit: wholeSpendLimit(spec.spendLimit) } : undefined;
      parts.steps.push({ kind: 'project', op: 'update', row: current, change, path });
    }
  }
  const listed = new Set(specs.map((spec) => spec.name));
  for (const row of state.projects) {
    if (listed.has(row.name) || row.managedBy !== MANAGED_BY) continue;
    parts.changes.push({
      kind: 'project',
      name: row.name,
      action: 'release',
      fields: [],
      note: 'no longer in the file: left as it is, with its keys and usage, and no longer managed by it (projects are never deleted)',
    });
    parts.steps.push({ kind: 'project', op: 'release', id: row.id, path: [] });
  }
  return parts;
}
