import { type Static, type TSchema, Type } from 'typebox';
import { CredentialBody } from '../control/credentials.ts';
import { ModelBody } from '../control/models.ts';
import { OrganizationPatch } from '../control/organization.ts';
import { ProjectBody } from '../control/projects.ts';

/**
 * The shape of a tollgate.yaml: each section is the admin API's own request body (a credential
 * as POST /credentials takes it, a model as POST /models, …), so a file is checked exactly like
 * API input. One thing more: a field the API would silently ignore is refused, because in a
 * file kept in git an unknown field is a typo.
 */

/** A copy of `schema` in which every object with declared properties refuses others. */
export function closed<T extends TSchema>(schema: T): T {
  const copy = JSON.parse(JSON.stringify(schema)) as T;
  const stack: unknown[] = [copy];
  while (stack.length > 0) {
    const node = stack.pop() as Record<string, unknown>;
    if (node === null || typeof node !== 'object') continue;
    if (node.type === 'object' && node.properties && node.additionalProperties === undefined) {
      node.additionalProperties = false;
    }
    for (const key of ['properties', 'patternProperties'] as const) {
      if (node[key]) stack.push(...Object.values(node[key] as object));
    }
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      if (Array.isArray(node[key])) stack.push(...(node[key] as unknown[]));
    }
    if (node.items) stack.push(node.items);
  }
  return copy;
}

const MAX_OBJECTS = 1000;

export const ConfigDocument = closed(
  Type.Object({
    /** The format's version; 1, the only one so far. */
    version: Type.Optional(Type.Literal(1)),
    /** Delete the credentials and models this file managed and no longer lists (default: release them). */
    prune: Type.Optional(Type.Boolean()),
    organization: Type.Optional(OrganizationPatch),
    credentials: Type.Optional(Type.Array(CredentialBody, { maxItems: MAX_OBJECTS })),
    models: Type.Optional(Type.Array(ModelBody, { maxItems: MAX_OBJECTS })),
    projects: Type.Optional(Type.Array(ProjectBody, { maxItems: MAX_OBJECTS })),
  }),
);

/**
 * A tollgate.yaml as parsed. In the file, secret fields hold `${ENV_VAR}` references; once
 * resolved (see parse.ts) they hold the secrets themselves, in the same shape.
 */
export type ConfigDocument = Static<typeof ConfigDocument>;
export type CredentialSpec = NonNullable<ConfigDocument['credentials']>[number];
export type ModelSpec = NonNullable<ConfigDocument['models']>[number];
export type ProjectSpec = NonNullable<ConfigDocument['projects']>[number];
export type OrganizationSpec = NonNullable<ConfigDocument['organization']>;

/** The value of `managed_by` on the rows a file manages. */
export const MANAGED_BY = 'tollgate.yaml';
