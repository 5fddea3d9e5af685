import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../auth/sessions.ts';
import { configRoutes } from '../declarative/routes.ts';
import { TollgateError } from '../errors.ts';
import { type Actor, type AdminAuth, authorize } from './admin-auth.ts';
import type { ControlContext } from './context.ts';
import { credentialRoutes } from './credentials.ts';
import { keyRoutes } from './keys.ts';
import { modelRoutes } from './models.ts';
import { organizationRoutes } from './organization.ts';
import { projectRoutes } from './projects.ts';
import { usageRoutes } from './usage.ts';
import { userRoutes } from './users.ts';

export const ADMIN_PREFIX = '/api/v1';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles admitted to an admin route; every route under the admin prefix must declare it. */
    access?: readonly Role[];
  }
  interface FastifyRequest {
    /**
     * Who is calling the admin API. Inside an admin handler this is always an authenticated
     * actor; read anywhere else it throws (401) rather than answer "nobody".
     */
    readonly actor: Actor;
  }
}

const kActor = Symbol('tollgate.actor');
const kAdminScope = Symbol('tollgate.adminScope');
type WithActor = FastifyRequest & { [kActor]?: Actor };

/**
 * The admin API as one encapsulated plugin under `/api/v1`: authentication and the role check
 * are hooks of this plugin, so they run on the routes themselves, after the router has decoded
 * the path — never decided from the URL string. A route registered here without an `access`
 * declaration, or a route under the admin prefix registered anywhere else, stops start-up.
 */
export async function registerAdminApi(app: FastifyInstance, ctx: ControlContext, auth: AdminAuth): Promise<void> {
  app.decorateRequest(kActor, undefined);
  app.decorateRequest('actor', {
    getter(this: WithActor): Actor {
      const actor = this[kActor];
      if (!actor) throw new TollgateError('TG_ERR_ADMIN_UNAUTHORIZED');
      return actor;
    },
  });
  app.addHook('onRoute', function (this: FastifyInstance & { [kAdminScope]?: true }, route) {
    const under = route.url.toLowerCase().startsWith(ADMIN_PREFIX) || route.path.toLowerCase().startsWith(ADMIN_PREFIX);
    if (under && !this[kAdminScope]) {
      throw new Error(`${route.method} ${route.url} is under ${ADMIN_PREFIX} but outside the admin API plugin`);
    }
  });

  await app.register(
    async (api) => {
      // Visible to this plugin and what it registers, never to its parent or siblings.
      api.decorate(kAdminScope, true);
      api.addHook('onRoute', (route) => {
        if (!route.config?.access || route.config.access.length === 0) {
          throw new Error(`admin route ${route.method} ${route.url} declares no access`);
        }
      });
      api.addHook('onRequest', async (request) => {
        const actor = await auth.verify(request);
        const access = request.routeOptions.config.access;
        // Unreachable by the onRoute check above; fail closed all the same.
        if (!access) throw new TollgateError('TG_ERR_FORBIDDEN', 'this route admits nobody');
        authorize(actor, access, request.method, request.routeOptions.url ?? '');
        (request as WithActor)[kActor] = actor;
      });
      projectRoutes(api, ctx);
      credentialRoutes(api, ctx);
      modelRoutes(api, ctx);
      keyRoutes(api, ctx);
      usageRoutes(api, ctx);
      userRoutes(api, ctx);
      organizationRoutes(api, ctx);
      configRoutes(api, ctx);
    },
    { prefix: ADMIN_PREFIX },
  );
}
