import { and, eq, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { generateApiKey, hashApiKey, previewApiKey } from '../crypto/api-keys.ts';
import { TollgateError } from '../errors.ts';
import { type ApiKeyRow, apiKeys } from '../store/schema.ts';
import { ACCESS, type Actor } from './admin-auth.ts';
import type { ControlContext } from './context.ts';
import { disabledBy, enableGuard, removeGuard } from './key-controls.ts';
import { IdParams, type presentKey } from './keys.ts';

interface KeyOps {
  findKey(id: string, actor: Actor | 'system'): Promise<{ key: ApiKeyRow; project: string }>;
  change(id: string, set: Partial<typeof apiKeys.$inferInsert>, guard?: SQL): Promise<ReturnType<typeof presentKey>>;
}

const RotateBody = Type.Object({
  /** How long the old secret keeps working, in seconds (at most 30 days); 0 ends it at once. */
  graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 86_400 })),
});

/** Disable, enable, revoke, rotate, delete: the key's lifecycle. */
export function keyActionRoutes(app: FastifyInstance, ctx: ControlContext, ops: KeyOps): void {
  const tags = ['keys'];

  for (const [action, status, summary] of [
    ['disable', 'disabled', 'Disable an API key (reversible)'],
    ['enable', 'active', 'Enable a disabled API key'],
    ['revoke', 'revoked', 'Revoke an API key (permanent; the record stays for history)'],
  ] as const) {
    app.post<{ Params: IdParams }>(
      `/keys/:id/${action}`,
      { config: { access: ACCESS.keyHolders }, schema: { tags, summary, params: IdParams } },
      async (request) => {
        const { key } = await ops.findKey(request.params.id, request.actor);
        if (key.status === 'revoked' && status !== 'revoked') {
          throw new TollgateError('TG_ERR_CONFLICT', `API key ${key.id} is revoked; revocation is permanent`);
        }
        const actor = request.actor;
        if (status === 'disabled') return ops.change(key.id, { status, disabledByRole: disabledBy(actor, key) });
        if (status === 'active') return ops.change(key.id, { status, disabledByRole: null }, enableGuard(actor, key));
        return ops.change(
          key.id,
          { status, previousKeyHash: null, previousExpiresAt: null },
          removeGuard(actor, key, 'revoke'),
        );
      },
    );
  }

  app.post<{ Params: IdParams; Body: Static<typeof RotateBody> }>(
    '/keys/:id/rotate',
    {
      config: { access: ACCESS.keyHolders },
      schema: {
        tags,
        summary: 'Give a key a new secret, keeping its settings; the old one may work on for a grace period',
        params: IdParams,
        body: RotateBody,
      },
    },
    async (request) => {
      const { key: current } = await ops.findKey(request.params.id, request.actor);
      if (current.status === 'revoked') throw new TollgateError('TG_ERR_CONFLICT', `API key ${current.id} is revoked`);
      const grace = request.body?.graceSeconds ?? 0;
      const key = generateApiKey();
      const presented = await ops.change(current.id, {
        keyHash: hashApiKey(key),
        preview: previewApiKey(key),
        previousKeyHash: grace > 0 ? current.keyHash : null,
        previousExpiresAt: grace > 0 ? new Date(ctx.clock() + grace * 1000) : null,
      });
      await ctx.invalidation.publish({ kind: 'key-created', ref: hashApiKey(key) });
      return { ...presented, key };
    },
  );

  app.delete<{ Params: IdParams }>(
    '/keys/:id',
    {
      config: { access: ACCESS.keyHolders },
      schema: { tags, summary: 'Delete an API key (its usage records stay)', params: IdParams },
    },
    async (request, reply) => {
      const { key } = await ops.findKey(request.params.id, request.actor);
      const deleted = await ctx.db
        .delete(apiKeys)
        .where(and(eq(apiKeys.id, key.id), removeGuard(request.actor, key, 'delete')))
        .returning({ id: apiKeys.id });
      if (deleted.length === 0) {
        throw new TollgateError('TG_ERR_CONFLICT', `API key ${key.id} changed while this request was made; try again`);
      }
      await ctx.invalidation.publish({ kind: 'key', ref: key.id });
      reply.code(204);
    },
  );
}
