import { and, asc, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { maskSecret } from '../crypto/vault.ts';
import { TollgateError } from '../errors.ts';
import { authMethod, PROVIDERS, providerSpec } from '../gateway/providers/registry.ts';
import type { AuthMethod } from '../gateway/providers/types.ts';
import { refusedUrl } from '../gateway/upstream-address.ts';
import type { Db } from '../store/db.ts';
import {
  type CredentialRow,
  settings as instanceSettings,
  models,
  modelTargets,
  providerCredentials,
} from '../store/schema.ts';
import { ACCESS } from './admin-auth.ts';
import { RefParams } from './bounds.ts';
import { type ControlContext, iso, isUuid, type WriteContext } from './context.ts';

const Fields = Type.Record(Type.String(), Type.String({ maxLength: 10_000 }), {
  maxProperties: 50,
  propertyNames: { maxLength: 100 },
});
export const CredentialBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
  provider: Type.String({ minLength: 1, maxLength: 100 }),
  authMethod: Type.Optional(Type.String({ maxLength: 100 })),
  /** Secret and non-secret fields alike; the provider's declaration says which is which. */
  fields: Fields,
});
const CredentialPatch = Type.Object({
  name: Type.Optional(CredentialBody.properties.name),
  fields: Type.Optional(Fields),
});
export type CredentialInput = Static<typeof CredentialBody>;
export type CredentialChange = Static<typeof CredentialPatch>;

export async function findCredential(db: Db, orgId: string, ref: string): Promise<CredentialRow> {
  const [row] = await db
    .select()
    .from(providerCredentials)
    .where(
      and(
        eq(providerCredentials.orgId, orgId),
        isUuid(ref) ? eq(providerCredentials.id, ref) : eq(providerCredentials.name, ref),
      ),
    )
    .limit(1);
  if (!row) throw new TollgateError('TG_ERR_NOT_FOUND', 'credential', ref);
  return row;
}

/**
 * A URL field (base URL, endpoint, authority) may not name a link-local or cloud metadata
 * address. Names that only resolve there are stopped when the gateway connects.
 */
export function refuseMetadataUrls(fields: Record<string, string>): void {
  for (const [name, value] of Object.entries(fields)) {
    const reason = refusedUrl(value);
    if (reason) throw new TollgateError('TG_ERR_INVALID_REQUEST', `"${name}" may not point at ${reason}`);
  }
}

/** Splits submitted fields into secrets and settings as the auth method declares them. */
export function splitFields(method: AuthMethod, provider: string, fields: Record<string, string>, partial: boolean) {
  const secrets: Record<string, string> = {};
  const settings: Record<string, string> = {};
  /** Fields given as "" on an update: removed (required ones cannot be). */
  const cleared: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    const field = method.fields.find((candidate) => candidate.name === name);
    if (!field) {
      const known = method.fields.map((candidate) => candidate.name).join(', ');
      throw new TollgateError(
        'TG_ERR_INVALID_REQUEST',
        `${provider} (${method.id}) has no field "${name}"; its fields are ${known}`,
      );
    }
    if (value === '') {
      if (partial && field.required) {
        throw new TollgateError(
          'TG_ERR_INVALID_REQUEST',
          `${provider} (${method.id}) needs the field "${name}"; it cannot be cleared`,
        );
      }
      cleared.push(name);
      continue;
    }
    if (field.secret) secrets[name] = value;
    else settings[name] = value;
  }
  if (!partial) {
    for (const field of method.fields) {
      if (field.required && !(field.name in secrets) && !(field.name in settings)) {
        throw new TollgateError('TG_ERR_INVALID_REQUEST', `${provider} (${method.id}) needs the field "${field.name}"`);
      }
    }
  }
  if (settings.baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(settings.baseUrl)) {
    throw new TollgateError('TG_ERR_INVALID_REQUEST', '"baseUrl" must be an http:// or https:// URL');
  }
  return { secrets, settings, cleared };
}

function without(record: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => !names.includes(name)));
}

/**
 * After `tollgate rotate-master-key`, an instance not yet restarted still holds the old key:
 * a secret it wrote could not be read by the others. Such an instance refuses to write one.
 */
async function requireCurrentMasterKey(ctx: WriteContext): Promise<void> {
  const [row] = await ctx.db.select().from(instanceSettings).where(eq(instanceSettings.key, 'master_key_check'));
  if (row && row.value !== ctx.vault.checkValue()) {
    throw new TollgateError(
      'TG_ERR_CONFLICT',
      'This Tollgate instance holds an out-of-date master key (it was rotated): restart it with the new TOLLGATE_MASTER_KEY before changing credentials',
    );
  }
}

function preview(secrets: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(secrets).map(([name, value]) => [name, maskSecret(value)]));
}

/** The provider's declaration and the auth method a credential uses; 400 naming what is unknown. */
export function credentialMethod(provider: string, methodId: string | undefined): AuthMethod {
  const spec = providerSpec(provider);
  if (!spec) {
    throw new TollgateError(
      'TG_ERR_INVALID_REQUEST',
      `unknown provider "${provider}"; known: ${[...PROVIDERS.keys()].join(', ')}`,
    );
  }
  const method = authMethod(spec, methodId);
  if (!method) throw new TollgateError('TG_ERR_INVALID_REQUEST', `${provider} has no auth method "${methodId}"`);
  return method;
}

/** Stores a new credential, its secrets encrypted. */
export async function createCredential(ctx: WriteContext, body: CredentialInput): Promise<CredentialRow> {
  const { name, provider, fields } = body;
  const method = credentialMethod(provider, body.authMethod);
  const { secrets, settings } = splitFields(method, provider, fields, false);
  refuseMetadataUrls(fields);
  await requireCurrentMasterKey(ctx);
  const id = crypto.randomUUID();
  const [row] = await ctx.db
    .insert(providerCredentials)
    .values({
      id,
      orgId: ctx.orgId,
      name,
      provider,
      authMethod: method.id,
      secretCiphertext: ctx.vault.encrypt(secrets, id),
      secretPreview: preview(secrets),
      settings,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new TollgateError('TG_ERR_CONFLICT', `A credential named "${name}" already exists`);
  await ctx.invalidation.publish({ kind: 'credential', ref: row.id });
  return row;
}

/** Renames a credential or changes its fields; a field given as "" is removed. */
export async function updateCredential(
  ctx: WriteContext,
  current: CredentialRow,
  body: CredentialChange,
): Promise<CredentialRow> {
  const spec = providerSpec(current.provider);
  const method = spec && authMethod(spec, current.authMethod);
  if (!method) throw new TollgateError('TG_ERR_INVALID_REQUEST', `provider ${current.provider} is no longer supported`);
  const changed = splitFields(method, current.provider, body.fields ?? {}, true);
  refuseMetadataUrls(body.fields ?? {});
  await requireCurrentMasterKey(ctx);
  const secrets = without(
    { ...ctx.vault.decrypt<Record<string, string>>(current.secretCiphertext, current.id), ...changed.secrets },
    changed.cleared,
  );
  const [row] = await ctx.db
    .update(providerCredentials)
    .set({
      ...(body.name !== undefined && { name: body.name }),
      secretCiphertext: ctx.vault.encrypt(secrets, current.id),
      secretPreview: preview(secrets),
      settings: without({ ...current.settings, ...changed.settings }, changed.cleared),
      updatedAt: new Date(),
    })
    .where(eq(providerCredentials.id, current.id))
    .returning();
  await ctx.invalidation.publish({ kind: 'credential', ref: current.id });
  return row as CredentialRow;
}

/** Deletes a credential and the model targets on it. */
export async function deleteCredential(ctx: WriteContext, current: CredentialRow): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await tx.delete(modelTargets).where(eq(modelTargets.credentialId, current.id));
    await tx.delete(providerCredentials).where(eq(providerCredentials.id, current.id));
  });
  await ctx.invalidation.publish({ kind: 'credential', ref: current.id });
}

export async function dependents(db: Db, credentialIds: string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (credentialIds.length === 0) return result;
  const rows = await db
    .selectDistinct({ credentialId: modelTargets.credentialId, model: models.name })
    .from(modelTargets)
    .innerJoin(models, eq(models.id, modelTargets.modelId))
    .where(inArray(modelTargets.credentialId, credentialIds));
  for (const row of rows) result.set(row.credentialId, [...(result.get(row.credentialId) ?? []), row.model].sort());
  return result;
}

function present(row: CredentialRow, usedBy: string[]) {
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    authMethod: row.authMethod,
    secrets: row.secretPreview,
    settings: row.settings,
    models: usedBy,
    /** 'tollgate.yaml' when a declarative file manages it: edits here are overwritten by its next apply. */
    managedBy: row.managedBy,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

export function credentialRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const tags = ['credentials'];

  app.get(
    '/providers',
    {
      config: { access: ACCESS.everyone },
      schema: { tags, summary: 'Providers and the fields their credentials take' },
    },
    async () => ({
      providers: [...PROVIDERS.values()],
    }),
  );

  app.get(
    '/credentials',
    { config: { access: ACCESS.readers }, schema: { tags, summary: 'List provider credentials (secrets masked)' } },
    async () => {
      const rows = await ctx.db
        .select()
        .from(providerCredentials)
        .where(eq(providerCredentials.orgId, ctx.orgId))
        .orderBy(asc(providerCredentials.name));
      const usedBy = await dependents(
        ctx.db,
        rows.map((row) => row.id),
      );
      return { credentials: rows.map((row) => present(row, usedBy.get(row.id) ?? [])) };
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/credentials/:ref',
    {
      config: { access: ACCESS.readers },
      schema: { tags, summary: 'Show a credential by id or name (secrets masked)', params: RefParams },
    },
    async (request) => {
      const row = await findCredential(ctx.db, ctx.orgId, request.params.ref);
      return present(row, (await dependents(ctx.db, [row.id])).get(row.id) ?? []);
    },
  );

  app.post<{ Body: Static<typeof CredentialBody> }>(
    '/credentials',
    {
      config: { access: ACCESS.admins },
      schema: { tags, summary: 'Create a provider credential', body: CredentialBody },
    },
    async (request, reply) => {
      const row = await createCredential(ctx, request.body);
      reply.code(201);
      return present(row, []);
    },
  );

  app.patch<{ Params: { ref: string }; Body: Static<typeof CredentialPatch> }>(
    '/credentials/:ref',
    {
      config: { access: ACCESS.admins },
      schema: {
        tags,
        summary: 'Update a credential; takes effect for every model using it at once',
        params: RefParams,
        body: CredentialPatch,
      },
    },
    async (request) => {
      const current = await findCredential(ctx.db, ctx.orgId, request.params.ref);
      const row = await updateCredential(ctx, current, request.body);
      return present(row, (await dependents(ctx.db, [current.id])).get(current.id) ?? []);
    },
  );

  app.delete<{ Params: { ref: string }; Querystring: { force?: boolean } }>(
    '/credentials/:ref',
    {
      config: { access: ACCESS.admins },
      schema: {
        tags,
        summary: 'Delete a credential; refused while models use it unless force=true',
        params: RefParams,
        querystring: Type.Object({ force: Type.Optional(Type.Boolean()) }),
      },
    },
    async (request, reply) => {
      const current = await findCredential(ctx.db, ctx.orgId, request.params.ref);
      const usedBy = (await dependents(ctx.db, [current.id])).get(current.id) ?? [];
      if (usedBy.length > 0 && request.query.force !== true) {
        throw new TollgateError(
          'TG_ERR_CONFLICT',
          `Credential "${current.name}" is used by ${usedBy.length} model(s): ${usedBy.join(', ')}. Delete or re-point them first, or force the deletion`,
        );
      }
      await deleteCredential(ctx, current);
      reply.code(204);
    },
  );
}
