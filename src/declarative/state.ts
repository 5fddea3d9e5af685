import { asc, eq, inArray } from 'drizzle-orm';
import type { Vault } from '../crypto/vault.ts';
import type { Db } from '../store/db.ts';
import {
  type CredentialRow,
  type ModelRow,
  models,
  modelTargets,
  organizations,
  type ProjectRow,
  projects,
  providerCredentials,
} from '../store/schema.ts';

/** What the organisation holds now, as a file's plan compares it. */
export interface CurrentState {
  organization: typeof organizations.$inferSelect;
  credentials: CurrentCredential[];
  models: CurrentModel[];
  projects: ProjectRow[];
}

export interface CurrentCredential {
  row: CredentialRow;
  /** Decrypted, to tell a changed secret from an unchanged one; never shown. */
  secrets: Record<string, string>;
}

export interface CurrentTarget {
  credentialId: string;
  credential: string;
  provider: string;
  upstreamModel: string;
  weight: number;
  priority: number;
  timeoutMs: number | null;
}

export interface CurrentModel {
  row: ModelRow;
  targets: CurrentTarget[];
}

export async function readState(db: Db, orgId: string, vault: Vault): Promise<CurrentState> {
  const [organization] = await db.select().from(organizations).where(eq(organizations.id, orgId));
  if (!organization) throw new Error(`organisation ${orgId} does not exist`);
  const credentialRows = await db
    .select()
    .from(providerCredentials)
    .where(eq(providerCredentials.orgId, orgId))
    .orderBy(asc(providerCredentials.name));
  const modelRows = await db.select().from(models).where(eq(models.orgId, orgId)).orderBy(asc(models.name));
  const targets =
    modelRows.length === 0
      ? []
      : await db
          .select({
            modelId: modelTargets.modelId,
            credentialId: modelTargets.credentialId,
            credential: providerCredentials.name,
            provider: providerCredentials.provider,
            upstreamModel: modelTargets.upstreamModel,
            weight: modelTargets.weight,
            priority: modelTargets.position,
            timeoutMs: modelTargets.timeoutMs,
          })
          .from(modelTargets)
          .innerJoin(providerCredentials, eq(providerCredentials.id, modelTargets.credentialId))
          .where(
            inArray(
              modelTargets.modelId,
              modelRows.map((row) => row.id),
            ),
          )
          .orderBy(asc(modelTargets.position));
  const projectRows = await db.select().from(projects).where(eq(projects.orgId, orgId)).orderBy(asc(projects.name));
  return {
    organization,
    credentials: credentialRows.map((row) => ({
      row,
      secrets: vault.decrypt<Record<string, string>>(row.secretCiphertext, row.id),
    })),
    models: modelRows.map((row) => ({
      row,
      targets: targets.filter((target) => target.modelId === row.id).map(({ modelId: _, ...target }) => target),
    })),
    projects: projectRows,
  };
}
