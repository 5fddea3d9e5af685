import { describe, expect, it } from 'vitest';
import type { CredentialRow, ModelRow, ProjectRow } from '../store/schema.ts';
import type { ConfigDocument } from './document.ts';
import { type PlanOptions, planChanges } from './plan.ts';
import type { PlannedChange } from './plan-types.ts';
import { ConfigProblems } from './problems.ts';
import type { CurrentModel, CurrentState } from './state.ts';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const OPTIONS: PlanOptions = { prune: false, defaultPlan: 'free', now: NOW };
const ORG = { id: 'org', name: 'Default organization', slug: 'default', spendLimit: {}, createdAt: new Date(0) };

function credential(name: string, overrides: Partial<CredentialRow> = {}, secrets = { apiKey: 'sk-now' }) {
  const row: CredentialRow = {
    id: `id-${name}`,
    orgId: 'org',
    name,
    provider: 'openai',
    authMethod: 'api-key',
    secretCiphertext: 'ciphertext',
    secretPreview: {},
    settings: { baseUrl: 'http://upstream/v1' },
    managedBy: 'tollgate.yaml',
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...overrides,
  };
  return { row, secrets };
}

function model(name: string, credentialName: string, overrides: Partial<ModelRow> = {}): CurrentModel {
  return {
    row: {
      id: `id-${name}`,
      orgId: 'org',
      name,
      inputPrice: 1,
      outputPrice: 2,
      cachedInputPrice: null,
      cacheWriteInputPrice: null,
      cacheWrite1hInputPrice: null,
      priceSources: null,
      retries: 1,
      maxOutputTokens: null,
      managedBy: 'tollgate.yaml',
      createdAt: new Date(0),
      updatedAt: new Date(0),
      ...overrides,
    },
    targets: [
      {
        credentialId: `id-${credentialName}`,
        credential: credentialName,
        provider: 'openai',
        upstreamModel: 'in-house-model',
        weight: 1,
        priority: 0,
        timeoutMs: null,
      },
    ],
  };
}

function project(name: string, overrides: Partial<ProjectRow> = {}): ProjectRow {
  return {
    id: `id-${name}`,
    orgId: 'org',
    name,
    plan: 'free',
    keyLimit: null,
    keysPerUser: null,
    spendLimit: {},
    managedBy: 'tollgate.yaml',
    createdAt: new Date(0),
    ...overrides,
  };
}

const FILE: ConfigDocument = {
  credentials: [{ name: 'main', provider: 'openai', fields: { apiKey: 'sk-now', baseUrl: 'http://upstream/v1' } }],
  models: [
    {
      name: 'house',
      targets: [{ credential: 'main', upstreamModel: 'in-house-model' }],
      inputPrice: 1,
      outputPrice: 2,
    },
  ],
  projects: [{ name: 'research' }],
};

function state(overrides: Partial<CurrentState> = {}): CurrentState {
  return {
    organization: ORG,
    credentials: [credential('main')],
    models: [model('house', 'main')],
    projects: [project('research')],
    ...overrides,
  };
}

const view = (changes: PlannedChange[]) => changes.map((change) => `${change.action} ${change.kind} ${change.name}`);

function refusal(document: ConfigDocument, current: CurrentState, options = OPTIONS): string[] {
  try {
    planChanges(document, current, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigProblems);
    return (error as ConfigProblems).problems.map((problem) => `${problem.path.join('.')}: ${problem.message}`);
  }
  throw new Error('the plan was made');
}

describe('planning a tollgate.yaml', () => {
  it('creates everything on an empty instance, credentials before the models that use them', () => {
    const plan = planChanges(FILE, state({ credentials: [], models: [], projects: [] }), OPTIONS);
    expect(view(plan.changes)).toEqual(['create credential main', 'create model house', 'create project research']);
    expect(plan.steps.map((step) => `${step.op} ${step.kind}`)).toEqual([
      'create credential',
      'create model',
      'create project',
    ]);
    const created = plan.changes[0] as PlannedChange;
    expect(created.fields).toContainEqual({ field: 'fields.apiKey', secret: 'set' });
    expect(JSON.stringify(plan.changes)).not.toContain('sk-now');
  });

  it('changes nothing when Tollgate already is what the file says', () => {
    const plan = planChanges(FILE, state(), OPTIONS);
    expect(view(plan.changes)).toEqual([
      'unchanged credential main',
      'unchanged model house',
      'unchanged project research',
    ]);
    expect(plan.steps).toEqual([]);
  });

  it('names each changed field, from and to, and a changed secret only as changed', () => {
    const file: ConfigDocument = {
      ...FILE,
      credentials: [{ name: 'main', provider: 'openai', fields: { apiKey: 'sk-next', organization: 'org-1' } }],
      models: [
        {
          name: 'house',
          targets: [
            { credential: 'main', upstreamModel: 'in-house-model' },
            { credential: 'main', upstreamModel: 'backup', weight: 3 },
          ],
          inputPrice: 1.5,
          outputPrice: 2,
          retries: 2,
        },
      ],
    };
    const plan = planChanges(file, state(), OPTIONS);
    expect(plan.changes[0]).toEqual({
      kind: 'credential',
      name: 'main',
      action: 'update',
      fields: [
        { field: 'fields.baseUrl', from: 'http://upstream/v1', to: null },
        { field: 'fields.organization', from: null, to: 'org-1' },
        { field: 'fields.apiKey', secret: 'changed' },
      ],
    });
    expect(plan.changes[1]?.fields).toEqual([
      {
        field: 'targets',
        from: ['main:in-house-model (priority 0)'],
        to: ['main:in-house-model (priority 0)', 'main:backup (priority 1, weight 3)'],
      },
      { field: 'inputPrice', from: 1, to: 1.5 },
      { field: 'retries', from: 1, to: 2 },
    ]);
    // The left-out base URL is cleared through the API's "" convention.
    const step = plan.steps[0] as { change?: { fields: Record<string, string> } };
    expect(step.change?.fields).toEqual({ apiKey: 'sk-next', organization: 'org-1', baseUrl: '' });
    expect(JSON.stringify(plan.changes)).not.toMatch(/sk-(now|next)/);
  });

  it('gives a field the file leaves out the value creating the object would give it', () => {
    const current = state({
      projects: [project('research', { plan: 'enterprise', keyLimit: 4, spendLimit: { allTimeUsd: 10 } })],
    });
    const plan = planChanges({ projects: [{ name: 'research' }] }, current, { ...OPTIONS, prune: false });
    expect(plan.changes.find((change) => change.kind === 'project')?.fields).toEqual([
      { field: 'plan', from: 'enterprise', to: 'free' },
      { field: 'keyLimit', from: 4, to: null },
      { field: 'spendLimit.allTimeUsd', from: 10, to: null },
    ]);
  });

  it('keeps a recurring window running when only its amount changes', () => {
    const recurring = { usd: 5, count: 1, unit: 'month' as const, startedAt: '2029-12-15T00:00:00.000Z' };
    const current = state({ projects: [project('research', { spendLimit: { recurring } })] });
    const same = { projects: [{ name: 'research', spendLimit: { recurring: { usd: 5, window: '1mo' } } }] };
    expect(view(planChanges(same, current, OPTIONS).changes)).toContain('unchanged project research');
    const raised = { projects: [{ name: 'research', spendLimit: { recurring: { usd: 8, window: '1mo' } } }] };
    expect(planChanges(raised, current, OPTIONS).changes.at(-1)?.fields).toEqual([
      { field: 'spendLimit.recurring', from: { usd: 5, window: '1mo' }, to: { usd: 8, window: '1mo' } },
    ]);
  });

  it('adopts an object of the same name made by hand, and says so', () => {
    const current = state({ projects: [project('research', { managedBy: null })] });
    const plan = planChanges(FILE, current, OPTIONS);
    expect(plan.changes.at(-1)).toEqual({
      kind: 'project',
      name: 'research',
      action: 'update',
      adopted: true,
      fields: [],
    });
    expect(plan.steps).toEqual([expect.objectContaining({ kind: 'project', op: 'update', change: undefined })]);
  });

  it('releases what the file managed and no longer lists, or with pruning deletes it; never touches the rest', () => {
    const current = state({
      credentials: [credential('main'), credential('old'), credential('by-hand', { managedBy: null })],
      models: [model('house', 'main'), model('retired', 'old'), model('manual', 'by-hand', { managedBy: null })],
      projects: [project('research'), project('closed'), project('manual', { managedBy: null })],
    });
    expect(view(planChanges(FILE, current, OPTIONS).changes).filter((line) => !line.startsWith('unchanged'))).toEqual([
      'release credential old',
      'release model retired',
      'release project closed',
    ]);
    const pruned = planChanges(FILE, current, { ...OPTIONS, prune: true });
    expect(view(pruned.changes).filter((line) => !line.startsWith('unchanged'))).toEqual([
      'delete credential old',
      'delete model retired',
      'release project closed',
    ]);
    // The model goes before the credential it uses.
    expect(pruned.steps.map((step) => `${step.op} ${step.kind}`)).toEqual([
      'delete model',
      'delete credential',
      'release project',
    ]);
  });

  it('refuses to prune a credential that a model made by hand still uses', () => {
    const current = state({
      credentials: [credential('main'), credential('old')],
      models: [model('house', 'main'), model('manual', 'old', { managedBy: null })],
    });
    expect(refusal(FILE, current, { ...OPTIONS, prune: true })).toEqual([
      ': credential "old" is no longer in the file and pruning would delete it, but models not managed by the file use it (manual): point them at another credential, or keep "old" in the file',
    ]);
  });

  it('lets a model use a credential made by hand, and refuses one that exists nowhere', () => {
    const current = state({ credentials: [credential('by-hand', { managedBy: null })], models: [], projects: [] });
    const uses = (name: string): ConfigDocument => ({
      models: [{ name: 'house', targets: [{ credential: name, upstreamModel: 'x' }], inputPrice: 0, outputPrice: 0 }],
    });
    expect(view(planChanges(uses('by-hand'), current, OPTIONS).changes)).toEqual(['create model house']);
    expect(refusal(uses('nowhere'), current)).toEqual([
      'models.0.targets.0.credential: no credential "nowhere" in the file or in Tollgate',
    ]);
  });

  it("refuses what the admin API would: a model with no price known, a credential's provider changed, a bad window", () => {
    const file: ConfigDocument = {
      credentials: [{ name: 'main', provider: 'mistral', fields: { apiKey: 'k' } }],
      models: [{ name: 'house', targets: [{ credential: 'main', upstreamModel: 'unheard-of' }] }],
      projects: [{ name: 'research', spendLimit: { recurring: { usd: 1, window: '2 fortnights' } } }],
    };
    expect(refusal(file, state())).toEqual([
      'credentials.0.provider: credential "main" has provider openai; a credential\'s provider cannot change: give one with provider mistral another name',
      'models.0: no price is known for mistral/unheard-of: give inputPrice and outputPrice (USD per million tokens, 0 for free)',
      'projects.0.spendLimit.recurring.window: window "2 fortnights" must look like 1h, 12h, 1d, 7d, 1w, 1mo or 12mo',
    ]);
  });

  it('sets the organisation only when the file has the section, its name only when given', () => {
    expect(view(planChanges({}, state({ credentials: [], models: [], projects: [] }), OPTIONS).changes)).toEqual([]);
    const plan = planChanges({ organization: { spendLimit: { allTimeUsd: 100 } } }, state(), OPTIONS);
    expect(plan.changes[0]).toEqual({
      kind: 'organization',
      name: 'Default organization',
      action: 'update',
      fields: [{ field: 'spendLimit.allTimeUsd', from: null, to: 100 }],
    });
  });
});
