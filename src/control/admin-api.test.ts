import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { TollgateError } from '../errors.ts';
import { ADMIN_PREFIX, registerAdminApi } from './admin-api.ts';
import type { AdminAuth } from './admin-auth.ts';
import type { ControlContext } from './context.ts';

// Registration only captures the context; no route here runs a query.
const ctx = {} as ControlContext;
const refuseEveryone = {
  verify: async () => {
    throw new TollgateError('TG_ERR_ADMIN_UNAUTHORIZED');
  },
} as unknown as AdminAuth;

describe('the admin API plugin', () => {
  let app: FastifyInstance;
  afterEach(async () => {
    await app?.close();
  });

  it('refuses to start when a route under /api/v1 is registered outside it', async () => {
    app = Fastify();
    await registerAdminApi(app, ctx, refuseEveryone);
    expect(() => app.get(`${ADMIN_PREFIX}/sneaky`, async () => ({ all: 'the keys' }))).toThrow(/outside the admin API/);
    expect(() => app.get('/API/V1/sneaky', async () => ({}))).toThrow(/outside the admin API/);
  });

  it('refuses to start when an admin route does not say who may call it', async () => {
    app = Fastify();
    await registerAdminApi(app, ctx, refuseEveryone);
    await expect(
      app.register(
        async (child) => {
          child.addHook('onRoute', () => {});
          child.get('/undeclared', async () => ({}));
        },
        { prefix: ADMIN_PREFIX },
      ),
    ).rejects.toThrow();
  });

  it('has no actor outside an admin route: reading one fails closed with 401', async () => {
    app = Fastify();
    await registerAdminApi(app, ctx, refuseEveryone);
    let thrown: unknown;
    app.get('/elsewhere', async (request) => {
      try {
        return request.actor;
      } catch (error) {
        thrown = error;
        return { refused: true };
      }
    });
    const response = await app.inject({ method: 'GET', url: '/elsewhere' });
    expect(response.json()).toEqual({ refused: true });
    expect(thrown).toBeInstanceOf(TollgateError);
    expect((thrown as TollgateError).status).toBe(401);
  });
});
