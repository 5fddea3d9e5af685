import type { ApplyResult } from './apply.ts';
import type { Action, FieldChange, PlannedChange } from './plan-types.ts';

/** A value as a plan prints it: `none` for null, targets one after another, a window as `$10 per 1mo`. */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (Array.isArray(value)) return value.map(valueText).join(', ');
  if (typeof value === 'object') {
    const recurring = value as { usd?: number; window?: string };
    if (recurring.usd !== undefined && recurring.window !== undefined)
      return `$${recurring.usd} per ${recurring.window}`;
    return JSON.stringify(value);
  }
  return String(value);
}

function fieldText(field: FieldChange, action: Action): string {
  if (field.secret) return `${field.field}: secret ${field.secret}`;
  if (action === 'create') return `${field.field}: ${valueText(field.to)}`;
  return `${field.field}: ${valueText(field.from)} → ${valueText(field.to)}`;
}

function changeText(change: PlannedChange): string[] {
  const head = `${change.action.padEnd(9)}  ${change.kind} ${change.name}`;
  const notes = [
    ...(change.adopted ? ['adopted: it was made by hand, the file manages it from now on'] : []),
    ...(change.note ? [change.note] : []),
  ];
  return [
    notes.length > 0 ? `${head} (${notes.join('; ')})` : head,
    ...change.fields
      // A new object's empty fields say nothing.
      .filter((field) => change.action !== 'create' || field.secret || (field.to !== null && field.to !== undefined))
      .map((field) => `             ${fieldText(field, change.action)}`),
  ];
}

const PAST: Record<Action, string> = {
  create: 'created',
  update: 'updated',
  release: 'released',
  delete: 'deleted',
  unchanged: 'unchanged',
};

/**
 * `tollgate apply`'s report: each object with what happens to it and, for a change, each field
 * from → to; a secret only as set, changed or removed. Then the counts.
 */
export function planText(result: ApplyResult, file: string): string {
  const counts = (Object.keys(PAST) as Action[])
    .filter((action) => result.summary[action] > 0)
    .map(
      (action) =>
        `${result.summary[action]} ${action === 'unchanged' ? 'unchanged' : result.dryRun ? `to ${action}` : PAST[action]}`,
    );
  const head = result.dryRun
    ? `Dry run of ${file}: nothing was changed. Applying it would do this:`
    : `Applied ${file}:`;
  const body = result.changes.length > 0 ? result.changes.flatMap(changeText) : ['(the file lists nothing)'];
  return [head, '', ...body.map((line) => `  ${line}`), '', `${counts.join(', ') || 'nothing to do'}.`].join('\n');
}
