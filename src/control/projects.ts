import { and, asc, eq, ne, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { apiKeys, type ProjectRow, projects } from '../store/schema.ts';
import { type ControlContext, iso, isUuid } from './context.ts';

export const ProjectBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  keyLimit: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
});
const ProjectPatch = Type.Partial(ProjectBody);

/** A project by id or name, within the organisation; 404 otherwise. */
export async function findProject(db: Db, orgId: string, ref: string): Promise<ProjectRow> {
  const [row] = await db
    .select()
    .from(projects)
    .where(and(eq(projects.orgId, orgId), isUuid(ref) ? eq(projects.id, ref) : eq(projects.name, ref)))
    .limit(1);
  if (!row) throw new TollgateError('TG_ERR_NOT_FOUND', 'project', ref);
  return row;
}

/** Keys that count against the project's limit: every key not revoked. */
export async function keysInUse(db: Db, projectId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(apiKeys)
    .where(and(eq(apiKeys.projectId, projectId), ne(apiKeys.status, 'revoked')));
  return Number(row?.n ?? 0);
}

async function present(db: Db, row: ProjectRow) {
  return {
    id: row.id,
    name: row.name,
    keyLimit: row.keyLimit,
    keysUsed: await keysInUse(db, row.id),
    createdAt: iso(row.createdAt),
  };
}

export function projectRoutes(app: FastifyInstance, ctx: ControlContext): void {
  app.get('/api/v1/projects', { schema: { tags: ['projects'], summary: 'List projects' } }, async () => {
    const rows = await ctx.db.select().from(projects).where(eq(projects.orgId, ctx.orgId)).orderBy(asc(projects.name));
    return { projects: await Promise.all(rows.map((row) => present(ctx.db, row))) };
  });

  app.get<{ Params: { ref: string } }>(
    '/api/v1/projects/:ref',
    { schema: { tags: ['projects'], summary: 'Show a project by id or name' } },
    async (request) => present(ctx.db, await findProject(ctx.db, ctx.orgId, request.params.ref)),
  );

  app.post<{ Body: Static<typeof ProjectBody> }>(
    '/api/v1/projects',
    { schema: { tags: ['projects'], summary: 'Create a project', body: ProjectBody } },
    async (request, reply) => {
      const [row] = await ctx.db
        .insert(projects)
        .values({ orgId: ctx.orgId, name: request.body.name, keyLimit: request.body.keyLimit ?? null })
        .onConflictDoNothing()
        .returning();
      if (!row) throw new TollgateError('TG_ERR_CONFLICT', `A project named "${request.body.name}" already exists`);
      reply.code(201);
      return present(ctx.db, row);
    },
  );

  app.patch<{ Params: { ref: string }; Body: Static<typeof ProjectPatch> }>(
    '/api/v1/projects/:ref',
    { schema: { tags: ['projects'], summary: 'Rename a project or change its key limit', body: ProjectPatch } },
    async (request) => {
      const project = await findProject(ctx.db, ctx.orgId, request.params.ref);
      const [row] = await ctx.db
        .update(projects)
        .set({
          ...(request.body.name !== undefined && { name: request.body.name }),
          ...(request.body.keyLimit !== undefined && { keyLimit: request.body.keyLimit }),
        })
        .where(eq(projects.id, project.id))
        .returning();
      return present(ctx.db, row as ProjectRow);
    },
  );
}
