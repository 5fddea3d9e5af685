import type { CredentialChange } from '../control/credentials.ts';
import type { OrganizationChange } from '../control/organization.ts';
import type { ProjectChange } from '../control/projects.ts';
import type { CredentialRow, ModelRow, ProjectRow } from '../store/schema.ts';
import type { CredentialSpec, ModelSpec, ProjectSpec } from './document.ts';
import type { DocPath, Problem } from './problems.ts';

export type ObjectKind = 'organization' | 'credential' | 'model' | 'project';

/**
 * create: the file lists it, Tollgate has none by that name. update: it differs from the file
 * (or is adopted). unchanged: it is as the file says. release: the file managed it and no longer
 * lists it; it stays as it is, no longer managed. delete: the same, with pruning.
 */
export type Action = 'create' | 'update' | 'unchanged' | 'release' | 'delete';

/** One field of a change. A secret's value is never given, only what happens to it. */
export interface FieldChange {
  field: string;
  /** The value now; absent on a create and for secrets. */
  from?: unknown;
  /** The value the file gives; absent for secrets. */
  to?: unknown;
  secret?: 'set' | 'changed' | 'removed';
}

export interface PlannedChange {
  kind: ObjectKind;
  name: string;
  action: Action;
  /** It existed but was not managed by a file: the file manages it from now on. */
  adopted?: boolean;
  fields: FieldChange[];
  /** What a release or a deletion means for this object. */
  note?: string;
}

/** What the executor does, in order; `path` places its errors in the file. */
export type Step = { path: DocPath } & (
  | { kind: 'credential'; op: 'create'; spec: CredentialSpec }
  | { kind: 'credential'; op: 'update'; row: CredentialRow; change: CredentialChange | undefined }
  | { kind: 'model'; op: 'create'; spec: ModelSpec }
  | { kind: 'model'; op: 'update'; row: ModelRow; spec: ModelSpec | undefined }
  | { kind: 'project'; op: 'create'; spec: ProjectSpec }
  | { kind: 'project'; op: 'update'; row: ProjectRow; change: ProjectChange | undefined }
  | { kind: 'organization'; op: 'update'; change: OrganizationChange }
  | { kind: 'credential' | 'model' | 'project'; op: 'release'; id: string }
  | { kind: 'credential'; op: 'delete'; row: CredentialRow }
  | { kind: 'model'; op: 'delete'; row: ModelRow }
);

/** What planning one section adds to the plan. */
export interface PlanParts {
  changes: PlannedChange[];
  steps: Step[];
  problems: Problem[];
}

export function emptyParts(): PlanParts {
  return { changes: [], steps: [], problems: [] };
}

/** A field whose value differs, or nothing. */
export function compare(field: string, from: unknown, to: unknown): FieldChange[] {
  return JSON.stringify(from) === JSON.stringify(to) ? [] : [{ field, from, to }];
}
