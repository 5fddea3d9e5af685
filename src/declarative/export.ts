import { Document } from 'yaml';
import { lookupPrice } from '../catalog/index.ts';
import { CACHE_PRICE_FIELDS, type ModelPrices, resolvePrices } from '../control/model-prices.ts';
import { firstTarget } from '../control/models.ts';
import type { SpendLimit } from '../store/schema.ts';
import type { ConfigDocument, CredentialSpec, ModelSpec, ProjectSpec } from './document.ts';
import { secretVariable } from './parse.ts';
import { spendLimitView } from './plan.ts';

/** The admin API's answers an export is made from (GET /organization, /credentials, /models, /projects, /providers). */
export interface ExportSource {
  organization: { name: string; spendLimit: SpendLimit };
  credentials: Array<{
    name: string;
    provider: string;
    authMethod: string;
    /** Masked previews: only their names are used. */
    secrets: Record<string, string>;
    settings: Record<string, string>;
  }>;
  models: Array<
    ModelPrices & {
      name: string;
      retries: number;
      maxOutputTokens: number | null;
      targets: Array<{
        credential: string;
        provider: string;
        upstreamModel: string;
        weight: number;
        priority: number;
        timeoutMs: number | null;
      }>;
    }
  >;
  projects: Array<{
    name: string;
    plan: 'free' | 'pro' | 'enterprise';
    keyLimitOverride: number | null;
    keysPerUser: number | null;
    spendLimit: SpendLimit;
  }>;
  providers: Array<{ id: string; authMethods: Array<{ id: string; fields: Array<{ name: string }> }> }>;
}

/** An environment variable an exported file reads a secret from. */
export interface SecretVariable {
  variable: string;
  credential: string;
  field: string;
}

/**
 * A tollgate.yaml describing what the API answered: every credential (secrets as `${VAR}`
 * references, since the API never gives them), model, project and the organisation. Only what
 * differs from what applying would give anyway is written (a target's weight of 1, one retry,
 * the catalogue's output cap), except prices, which are always written out: the file then bills
 * the same whatever the catalogue of the instance it is applied to says.
 */
export function exportDocument(source: ExportSource): { document: ConfigDocument; variables: SecretVariable[] } {
  const variables: SecretVariable[] = [];
  const taken = new Set<string>();
  const credentials = source.credentials.map((credential): CredentialSpec => {
    const provider = source.providers.find((candidate) => candidate.id === credential.provider);
    const method = provider?.authMethods.find((candidate) => candidate.id === credential.authMethod);
    const order = method?.fields.map((field) => field.name) ?? [];
    const fields: Record<string, string> = { ...credential.settings };
    for (const field of Object.keys(credential.secrets)) {
      let variable = secretVariable(credential.name, field);
      for (let n = 2; taken.has(variable); n += 1) variable = `${secretVariable(credential.name, field)}_${n}`;
      taken.add(variable);
      variables.push({ variable, credential: credential.name, field });
      fields[field] = `\${${variable}}`;
    }
    const position = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
    return {
      name: credential.name,
      provider: credential.provider,
      ...(provider?.authMethods[0]?.id !== credential.authMethod && { authMethod: credential.authMethod }),
      fields: Object.fromEntries(Object.entries(fields).sort(([a], [b]) => position(a) - position(b))),
    };
  });
  const document: ConfigDocument = {
    version: 1,
    organization: { name: source.organization.name, ...spendLimitSpec(source.organization.spendLimit) },
    ...(credentials.length > 0 && { credentials }),
    ...(source.models.length > 0 && { models: source.models.map(modelSpec) }),
    ...(source.projects.length > 0 && { projects: source.projects.map(projectSpec) }),
  };
  return { document, variables };
}

function spendLimitSpec(limit: SpendLimit): { spendLimit?: NonNullable<ProjectSpec['spendLimit']> } {
  const view = spendLimitView(limit);
  if (view.allTimeUsd === null && view.recurring === null) return {};
  return {
    spendLimit: {
      ...(view.allTimeUsd !== null && { allTimeUsd: view.allTimeUsd }),
      ...(view.recurring !== null && { recurring: view.recurring }),
    },
  };
}

function modelSpec(model: ExportSource['models'][number]): ModelSpec {
  const first = firstTarget(model.targets.map((target) => ({ ...target, position: target.priority })));
  const given: Partial<ModelPrices> = { inputPrice: model.inputPrice, outputPrice: model.outputPrice };
  for (const field of CACHE_PRICE_FIELDS) if (model[field] !== null) given[field] = model[field];
  // A cache price of none is written as null only where applying would otherwise derive one.
  const derived = resolvePrices(given, first).prices;
  for (const field of CACHE_PRICE_FIELDS) if (model[field] === null && derived[field] !== null) given[field] = null;
  const catalogueCap = first ? (lookupPrice(first.provider, first.upstreamModel)?.maxOutputTokens ?? null) : null;
  return {
    name: model.name,
    targets: model.targets.map((target, index) => ({
      credential: target.credential,
      upstreamModel: target.upstreamModel,
      ...(target.weight !== 1 && { weight: target.weight }),
      ...(target.priority !== index && { priority: target.priority }),
      ...(target.timeoutMs !== null && { timeoutMs: target.timeoutMs }),
    })),
    ...given,
    ...(model.retries !== 1 && { retries: model.retries }),
    ...(model.maxOutputTokens !== catalogueCap && { maxOutputTokens: model.maxOutputTokens }),
  };
}

function projectSpec(project: ExportSource['projects'][number]): ProjectSpec {
  return {
    name: project.name,
    plan: project.plan,
    ...(project.keyLimitOverride !== null && { keyLimit: project.keyLimitOverride }),
    ...(project.keysPerUser !== null && { keysPerUser: project.keysPerUser }),
    ...spendLimitSpec(project.spendLimit),
  };
}

/** The document as YAML, headed by the environment variables its secrets are read from. */
export function documentYaml(document: ConfigDocument, variables: SecretVariable[]): string {
  const doc = new Document(document);
  const header = [
    ' tollgate.yaml: apply with `tollgate apply -f tollgate.yaml`, or set TOLLGATE_CONFIG to its path.',
    ' Reference: docs/tollgate-yaml.md.',
  ];
  if (variables.length > 0) {
    header.push(' Secrets are never exported; each is read from an environment variable when applied:');
    for (const { variable, credential, field } of variables) header.push(`   ${variable}  (${credential}: ${field})`);
  }
  doc.commentBefore = header.join('\n');
  return doc.toString({ lineWidth: 0 });
}
