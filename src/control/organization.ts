import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { TollgateError } from '../errors.ts';
import { type organizations as OrganizationsTable, organizations } from '../store/schema.ts';
import { ACCESS } from './admin-auth.ts';
import { type ControlContext, iso, type WriteContext } from './context.ts';
import { applySpendLimit, SpendLimitBody, spendReports } from './spend-limits.ts';

export const OrganizationPatch = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  spendLimit: Type.Optional(SpendLimitBody),
});

export type OrganizationChange = Static<typeof OrganizationPatch>;

/** Renames the organisation or changes its spend limit; what the body leaves out stays. */
export async function updateOrganization(ctx: WriteContext, body: OrganizationChange): Promise<void> {
  const [current] = await ctx.db.select().from(organizations).where(eq(organizations.id, ctx.orgId));
  if (!current) throw new TollgateError('TG_ERR_NOT_FOUND', 'organization', ctx.orgId);
  await ctx.db
    .update(organizations)
    .set({
      ...(body.name !== undefined && { name: body.name }),
      ...(body.spendLimit !== undefined && {
        spendLimit: applySpendLimit(current.spendLimit, body.spendLimit, ctx.clock()),
      }),
    })
    .where(eq(organizations.id, ctx.orgId));
  await ctx.invalidation.publish({ kind: 'org', ref: ctx.orgId });
}

/** The organisation admin tokens act in: its name and its organisation-wide spend limit. */
export function organizationRoutes(app: FastifyInstance, ctx: ControlContext): void {
  const tags = ['organization'];

  async function show() {
    const [row] = await ctx.db.select().from(organizations).where(eq(organizations.id, ctx.orgId));
    if (!row) throw new TollgateError('TG_ERR_NOT_FOUND', 'organization', ctx.orgId);
    await ctx.usage.flush();
    const spend = (await spendReports(ctx.db, 'org', [row], ctx.clock())).get(row.id);
    return present(row, spend);
  }

  app.get(
    '/organization',
    { config: { access: ACCESS.readers }, schema: { tags, summary: 'Show the organisation and its spend' } },
    show,
  );

  app.patch<{ Body: Static<typeof OrganizationPatch> }>(
    '/organization',
    {
      config: { access: ACCESS.admins },
      schema: { tags, summary: 'Rename the organisation or change its spend limit', body: OrganizationPatch },
    },
    async (request) => {
      await updateOrganization(ctx, request.body);
      return show();
    },
  );
}

function present(row: typeof OrganizationsTable.$inferSelect, spend: unknown) {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    spendLimit: row.spendLimit,
    spend,
    createdAt: iso(row.createdAt),
  };
}
