import { PRICE_FIELDS, type PriceField } from '../control/model-prices.ts';
import { firstTarget, modelColumns } from '../control/models.ts';
import type { ModelRow } from '../store/schema.ts';
import { MANAGED_BY, type ModelSpec } from './document.ts';
import type { AvailableCredential } from './plan-credentials.ts';
import { RELEASED } from './plan-credentials.ts';
import { compare, emptyParts, type FieldChange, type PlanParts } from './plan-types.ts';
import { reasonOf } from './problems.ts';
import type { CurrentState, CurrentTarget } from './state.ts';

type Target = Omit<CurrentTarget, 'credentialId'>;

/** `openai-production:gpt-4o (priority 1, weight 2, timeout 5000 ms)`: a target as a plan shows it. */
function targetText(target: Target): string {
  const details = [
    `priority ${target.priority}`,
    ...(target.weight !== 1 ? [`weight ${target.weight}`] : []),
    ...(target.timeoutMs !== null ? [`timeout ${target.timeoutMs} ms`] : []),
  ];
  return `${target.credential}:${target.upstreamModel} (${details.join(', ')})`;
}

/** The targets in fallback order, ties in a fixed order, so that equal sets compare equal. */
function targetsText(targets: Target[]): string[] {
  return targets
    .map((target) => ({ target, text: targetText(target) }))
    .sort((a, b) => a.target.priority - b.target.priority || a.text.localeCompare(b.text))
    .map((entry) => entry.text);
}

/** A model's fields as a plan compares them. */
function comparable(columns: Pick<ModelRow, PriceField | 'retries' | 'maxOutputTokens'>, targets: Target[]) {
  return {
    targets: targetsText(targets),
    ...Object.fromEntries(PRICE_FIELDS.map((field) => [field, columns[field]])),
    retries: columns.retries,
    maxOutputTokens: columns.maxOutputTokens,
  };
}

export function planModels(
  specs: ModelSpec[],
  state: CurrentState,
  credentials: { available: Map<string, AvailableCredential>; pruned: Set<string> },
  prune: boolean,
): PlanParts {
  const parts = emptyParts();
  for (const [index, spec] of specs.entries()) planOne(spec, index, state, credentials, parts);
  const listed = new Set(specs.map((spec) => spec.name));
  for (const { row } of state.models) {
    if (listed.has(row.name) || row.managedBy !== MANAGED_BY) continue;
    if (prune) {
      parts.changes.push({
        kind: 'model',
        name: row.name,
        action: 'delete',
        fields: [],
        note: 'no longer in the file',
      });
      parts.steps.push({ kind: 'model', op: 'delete', row, path: [] });
    } else {
      parts.changes.push({ kind: 'model', name: row.name, action: 'release', fields: [], note: RELEASED });
      parts.steps.push({ kind: 'model', op: 'release', id: row.id, path: [] });
    }
  }
  return parts;
}

function planOne(
  spec: ModelSpec,
  index: number,
  state: CurrentState,
  credentials: { available: Map<string, AvailableCredential>; pruned: Set<string> },
  parts: PlanParts,
): void {
  const path = ['models', index];
  const targets: Array<Target & { position: number }> = [];
  for (const [at, target] of spec.targets.entries()) {
    const credential = credentials.available.get(target.credential);
    if (!credential) {
      parts.problems.push({
        path: [...path, 'targets', at, 'credential'],
        message: credentials.pruned.has(target.credential)
          ? `credential "${target.credential}" is no longer in the file, and pruning deletes it`
          : `no credential "${target.credential}" in the file or in Tollgate`,
      });
      continue;
    }
    const priority = target.priority ?? at;
    targets.push({
      credential: credential.name,
      provider: credential.provider,
      upstreamModel: target.upstreamModel,
      weight: target.weight ?? 1,
      priority,
      position: priority,
      timeoutMs: target.timeoutMs ?? null,
    });
  }
  if (targets.length < spec.targets.length) return;
  let wanted: ReturnType<typeof comparable>;
  try {
    // What publishing this model through the API would store: the catalogue's prices, and so on.
    wanted = comparable(modelColumns(spec, firstTarget(targets)), targets);
  } catch (error) {
    parts.problems.push({ path, message: reasonOf(error) });
    return;
  }
  const current = state.models.find((model) => model.row.name === spec.name);
  if (!current) {
    parts.changes.push({
      kind: 'model',
      name: spec.name,
      action: 'create',
      fields: Object.entries(wanted).map(([field, to]) => ({ field, to })),
    });
    parts.steps.push({ kind: 'model', op: 'create', spec, path });
    return;
  }
  const now = comparable(current.row, current.targets);
  const fields: FieldChange[] = Object.entries(wanted).flatMap(([field, to]) =>
    compare(field, now[field as keyof typeof now], to),
  );
  const adopted = current.row.managedBy !== MANAGED_BY;
  parts.changes.push({
    kind: 'model',
    name: spec.name,
    action: fields.length > 0 || adopted ? 'update' : 'unchanged',
    ...(adopted && { adopted }),
    fields,
  });
  if (fields.length > 0 || adopted) {
    parts.steps.push({
      kind: 'model',
      op: 'update',
      row: current.row,
      spec: fields.length > 0 ? spec : undefined,
      path,
    });
  }
}
