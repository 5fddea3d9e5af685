import { credentialMethod, refuseMetadataUrls, splitFields } from '../control/credentials.ts';
import { type CredentialSpec, MANAGED_BY } from './document.ts';
import { compare, emptyParts, type FieldChange, type PlanParts } from './plan-types.ts';
import { reasonOf } from './problems.ts';
import type { CurrentCredential, CurrentState } from './state.ts';

/** A credential a model of the file may name: one of the file's, or one Tollgate keeps. */
export interface AvailableCredential {
  name: string;
  provider: string;
}

/** The credentials' part of a plan, and the credentials the models may use afterwards. */
export function planCredentials(
  specs: CredentialSpec[],
  state: CurrentState,
  prune: boolean,
): PlanParts & { available: Map<string, AvailableCredential>; pruned: Set<string> } {
  const parts = emptyParts();
  const available = new Map<string, AvailableCredential>();
  const listed = new Set(specs.map((spec) => spec.name));
  for (const [index, spec] of specs.entries()) {
    available.set(spec.name, { name: spec.name, provider: spec.provider });
    planOne(spec, index, state, parts);
  }
  const pruned = new Set<string>();
  for (const current of state.credentials) {
    const { row } = current;
    if (listed.has(row.name)) {
      available.set(row.id, { name: row.name, provider: row.provider });
      continue;
    }
    if (row.managedBy !== MANAGED_BY || !prune) {
      available.set(row.name, { name: row.name, provider: row.provider });
      available.set(row.id, { name: row.name, provider: row.provider });
    }
    if (row.managedBy !== MANAGED_BY) continue;
    if (!prune) {
      parts.changes.push({ kind: 'credential', name: row.name, action: 'release', fields: [], note: RELEASED });
      parts.steps.push({ kind: 'credential', op: 'release', id: row.id, path: [] });
      continue;
    }
    pruned.add(row.name);
    const users = state.models.filter(
      (model) => model.row.managedBy !== MANAGED_BY && model.targets.some((target) => target.credentialId === row.id),
    );
    if (users.length > 0) {
      parts.problems.push({
        path: [],
        message: `credential "${row.name}" is no longer in the file and pruning would delete it, but models not managed by the file use it (${users.map((model) => model.row.name).join(', ')}): point them at another credential, or keep "${row.name}" in the file`,
      });
      continue;
    }
    parts.changes.push({
      kind: 'credential',
      name: row.name,
      action: 'delete',
      fields: [],
      note: 'no longer in the file',
    });
    parts.steps.push({ kind: 'credential', op: 'delete', row, path: [] });
  }
  return { ...parts, available, pruned };
}

export const RELEASED = 'no longer in the file: left as it is and no longer managed by it (pruning deletes it)';

function planOne(spec: CredentialSpec, index: number, state: CurrentState, parts: PlanParts): void {
  const path = ['credentials', index];
  let split: ReturnType<typeof splitFields>;
  let methodId: string;
  try {
    const method = credentialMethod(spec.provider, spec.authMethod);
    methodId = method.id;
    split = splitFields(method, spec.provider, spec.fields, false);
    refuseMetadataUrls(spec.fields);
  } catch (error) {
    parts.problems.push({ path, message: reasonOf(error) });
    return;
  }
  const current = state.credentials.find((candidate) => candidate.row.name === spec.name);
  if (!current) {
    parts.changes.push({
      kind: 'credential',
      name: spec.name,
      action: 'create',
      fields: [
        { field: 'provider', to: spec.provider },
        { field: 'authMethod', to: methodId },
        ...Object.entries(split.settings).map(([name, value]) => ({ field: `fields.${name}`, to: value })),
        ...Object.keys(split.secrets).map((name) => ({ field: `fields.${name}`, secret: 'set' as const })),
      ],
    });
    parts.steps.push({ kind: 'credential', op: 'create', spec, path });
    return;
  }
  const { row } = current;
  for (const [field, now, wanted] of [
    ['provider', row.provider, spec.provider],
    ['authMethod', row.authMethod, methodId],
  ] as const) {
    if (now !== wanted) {
      parts.problems.push({
        path: [...path, field],
        message: `credential "${spec.name}" has ${field} ${now}; a credential's ${field} cannot change: give one with ${field} ${wanted} another name`,
      });
    }
  }
  const fields = [...settingChanges(row.settings, split.settings), ...secretChanges(current, split.secrets)];
  const removed = fields.filter((field) => field.to === null || field.secret === 'removed');
  const adopted = row.managedBy !== MANAGED_BY;
  parts.changes.push({
    kind: 'credential',
    name: spec.name,
    action: fields.length > 0 || adopted ? 'update' : 'unchanged',
    ...(adopted && { adopted }),
    fields,
  });
  if (fields.length > 0 || adopted) {
    // A field left out of the file is removed, as "" removes it through the API.
    const cleared = Object.fromEntries(removed.map((field) => [field.field.slice('fields.'.length), '']));
    const change = fields.length > 0 ? { fields: { ...spec.fields, ...cleared } } : undefined;
    parts.steps.push({ kind: 'credential', op: 'update', row, change, path });
  }
}

function settingChanges(now: Record<string, string>, wanted: Record<string, string>): FieldChange[] {
  const names = [...new Set([...Object.keys(now), ...Object.keys(wanted)])].sort();
  return names.flatMap((name) => compare(`fields.${name}`, now[name] ?? null, wanted[name] ?? null));
}

function secretChanges(current: CurrentCredential, wanted: Record<string, string>): FieldChange[] {
  const names = [...new Set([...Object.keys(current.secrets), ...Object.keys(wanted)])].sort();
  const changes: FieldChange[] = [];
  for (const name of names) {
    const now = current.secrets[name];
    const next = wanted[name];
    if (now === next) continue;
    changes.push({
      field: `fields.${name}`,
      secret: next === undefined ? 'removed' : now === undefined ? 'set' : 'changed',
    });
  }
  return changes;
}
