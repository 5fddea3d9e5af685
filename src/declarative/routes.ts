import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { ACCESS } from '../control/admin-auth.ts';
import type { ControlContext } from '../control/context.ts';
import { applyDocument } from './apply.ts';
import { ConfigDocument } from './document.ts';
import { ConfigProblems } from './problems.ts';

const ApplyBody = Type.Object({
  /** A tollgate.yaml as JSON, its secrets resolved (`tollgate apply` reads them from its environment). */
  document: ConfigDocument,
  /** Report what would change, change nothing. */
  dryRun: Type.Optional(Type.Boolean()),
  /** Delete the credentials and models the file managed and no longer lists; default: the file's `prune`. */
  prune: Type.Optional(Type.Boolean()),
});

/** `POST /api/v1/config/apply`: what `tollgate apply -f tollgate.yaml` calls. */
export function configRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.post<{ Body: Static<typeof ApplyBody> }>(
    '/config/apply',
    {
      config: { access: ACCESS.admins },
      schema: {
        tags: ['config'],
        summary:
          'Apply a declarative tollgate.yaml: create and update what it lists, release (or prune) what it no longer lists; dryRun only reports',
        body: ApplyBody,
      },
    },
    async (request) => {
      const { document, dryRun, prune } = request.body;
      try {
        return await applyDocument(ctx, document, { dryRun: dryRun ?? false, prune: prune ?? document.prune ?? false });
      } catch (error) {
        throw error instanceof ConfigProblems ? error.toTollgateError() : error;
      }
    },
  );
}
