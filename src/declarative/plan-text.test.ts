import { describe, expect, it } from 'vitest';
import type { ApplyResult } from './apply.ts';
import { planText } from './plan-text.ts';
import { ConfigProblems, parsePathText, pathText, problemsFromMessage } from './problems.ts';

const RESULT: ApplyResult = {
  dryRun: true,
  prune: false,
  changes: [
    {
      kind: 'credential',
      name: 'openai',
      action: 'create',
      fields: [
        { field: 'provider', to: 'openai' },
        { field: 'fields.organization', to: null },
        { field: 'fields.apiKey', secret: 'set' },
      ],
    },
    {
      kind: 'model',
      name: 'gpt-4o',
      action: 'update',
      fields: [
        { field: 'inputPrice', from: 2.5, to: 3 },
        { field: 'targets', from: ['a:gpt-4o (priority 0)'], to: ['a:gpt-4o (priority 0)', 'b:gpt-4o (priority 1)'] },
      ],
    },
    {
      kind: 'project',
      name: 'default',
      action: 'update',
      adopted: true,
      fields: [{ field: 'spendLimit.recurring', from: null, to: { usd: 10, window: '1d' } }],
    },
    { kind: 'project', name: 'research', action: 'unchanged', fields: [] },
    { kind: 'model', name: 'old', action: 'release', fields: [], note: 'no longer in the file' },
  ],
  summary: { create: 1, update: 2, unchanged: 1, release: 1, delete: 0 },
};

describe("tollgate apply's report", () => {
  it('shows each object, each changed field from and to, secrets only as set or changed, and the counts', () => {
    expect(planText(RESULT, 'tollgate.yaml')).toBe(
      [
        'Dry run of tollgate.yaml: nothing was changed. Applying it would do this:',
        '',
        '  create     credential openai',
        '               provider: openai',
        '               fields.apiKey: secret set',
        '  update     model gpt-4o',
        '               inputPrice: 2.5 → 3',
        '               targets: a:gpt-4o (priority 0) → a:gpt-4o (priority 0), b:gpt-4o (priority 1)',
        '  update     project default (adopted: it was made by hand, the file manages it from now on)',
        '               spendLimit.recurring: none → $10 per 1d',
        '  unchanged  project research',
        '  release    model old (no longer in the file)',
        '',
        '1 to create, 2 to update, 1 to release, 1 unchanged.',
      ].join('\n'),
    );
    expect(planText({ ...RESULT, dryRun: false }, 'tollgate.yaml')).toMatch(
      /^Applied tollgate\.yaml:[\s\S]*1 created, 2 updated, 1 released, 1 unchanged\.$/,
    );
  });
});

describe('problems sent back by the admin API', () => {
  it('read back as the problems they were, paths included', () => {
    const problems = [
      { path: ['models', 0, 'targets', 1, 'credential'], message: 'no credential "x" in the file or in Tollgate' },
      { path: [], message: 'credential "old" is no longer in the file: and more' },
      { path: ['credentials', 2, 'fields', 'apiKey'], message: 'is a secret' },
    ];
    const message = new ConfigProblems(problems).toTollgateError().message;
    expect(message).toMatch(/^Invalid request: the configuration has 3 problems; nothing was changed:\n- models\[0\]/);
    expect(problemsFromMessage(message)).toEqual(problems);
    expect(problemsFromMessage('Invalid request: name is too long')).toBeUndefined();
  });

  it('write paths as a reader would', () => {
    expect(pathText(['models', 0, 'targets', 1, 'weight'])).toBe('models[0].targets[1].weight');
    expect(parsePathText('models[0].targets[1].weight')).toEqual(['models', 0, 'targets', 1, 'weight']);
  });
});
