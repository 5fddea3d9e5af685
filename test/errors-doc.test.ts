import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode, type ErrorInit, publicCode, renderError, TollgateError } from '../src/errors.ts';

/** docs/errors.md keeps one catalogue row per code: `| `TG_ERR_X` | status | `code` | `type` | `type` | … |`. */
const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

interface DocRow {
  status: number;
  code: string;
  type: string;
  anthropicType: string;
  when: string;
  action: string;
}

function catalogueRows(markdown: string): { rows: Map<string, DocRow>; duplicates: string[] } {
  const rows = new Map<string, DocRow>();
  const duplicates: string[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| `TG_ERR_')) continue;
    // Biome pads the table's columns; cells are split on unescaped pipes and trimmed.
    const cells = line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim().replace(/^`(.*)`$/, '$1'));
    const [name = '', status = '', code = '', type = '', anthropicType = '', when = '', action = ''] = cells;
    if (rows.has(name)) duplicates.push(name);
    rows.set(name, { status: Number(status), code, type, anthropicType, when, action });
  }
  return { rows, duplicates };
}

const { rows, duplicates } = catalogueRows(doc);
const codes = Object.keys(ERRORS) as ErrorCode[];

describe('docs/errors.md', () => {
  it('has a catalogue row for every code in ERRORS', () => {
    const undocumented = codes.filter((code) => !rows.has(code));
    expect(undocumented).toEqual([]);
    expect(duplicates).toEqual([]);
  });

  it('mentions no TG_ERR_ code that ERRORS no longer has', () => {
    const mentioned = new Set(doc.match(/TG_ERR_[A-Z0-9_]+/g) ?? []);
    const stale = [...mentioned].filter((code) => !(code in ERRORS));
    expect(stale).toEqual([]);
  });

  it.each(codes)('documents %s with the status, public code and dialect types it is served with', (name) => {
    const row = rows.get(name);
    const spec = ERRORS[name];
    expect(row).toMatchObject({
      status: spec.status,
      code: publicCode(name),
      type: spec.type,
      anthropicType: spec.anthropicType,
    });
    expect(row?.when.length, `${name}: say when it happens`).toBeGreaterThan(10);
    expect(row?.action.length, `${name}: say what the caller should do`).toBeGreaterThan(10);
  });
});

describe('renderError', () => {
  const error = new TollgateError('TG_ERR_MODEL_NOT_FOUND', 'gpt-9');

  it('renders the OpenAI dialect as {"error":{"message","type","code","status"}}', () => {
    const body = JSON.parse(renderError(error, 'openai'));
    expect(body).toEqual({
      error: {
        message: 'Model gpt-9 does not exist or is not published on this gateway',
        type: 'not_found_error',
        code: 'model_not_found',
        status: 404,
      },
    });
  });

  it('renders the Anthropic dialect as {"type":"error","error":{"type","message"}}', () => {
    const body = JSON.parse(renderError(error, 'anthropic'));
    expect(body).toEqual({
      type: 'error',
      error: { type: 'not_found_error', message: 'Model gpt-9 does not exist or is not published on this gateway' },
    });
  });

  it('renders exactly the examples shown in docs/errors.md', () => {
    const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => JSON.parse(match[1] ?? ''));
    expect(examples).toEqual([JSON.parse(renderError(error, 'openai')), JSON.parse(renderError(error, 'anthropic'))]);
  });

  it("types each code's message arguments, so a wrong one does not compile (checked by tsc)", () => {
    expect(new TollgateError('TG_ERR_PROVIDER_TIMEOUT', 'openai', 100).message).toBe(
      'Provider openai did not answer within 100 ms',
    );
    // @ts-expect-error: milliseconds are a number
    expect(new TollgateError('TG_ERR_PROVIDER_TIMEOUT', 'openai', '100').status).toBe(504);
    // @ts-expect-error: one argument too many
    expect(new TollgateError('TG_ERR_KEY_MISSING', 'extra').status).toBe(401);
    // @ts-expect-error: one too few
    expect(new TollgateError('TG_ERR_NOT_FOUND', 'key').status).toBe(404);
  });

  it.each(codes)('renders %s in both dialects with the catalogue status and types', (name) => {
    const spec = ERRORS[name];
    // Every code with stand-in arguments: the catalogue's types hold for literal codes, not a loop's.
    const failure = new TollgateError(...([name, 'x', 'y'] as unknown as ErrorInit));
    const openai = JSON.parse(renderError(failure, 'openai'));
    expect(Object.keys(openai)).toEqual(['error']);
    expect(openai.error).toEqual({
      message: failure.message,
      type: spec.type,
      code: publicCode(name),
      status: spec.status,
    });
    expect(JSON.parse(renderError(failure, 'anthropic'))).toEqual({
      type: 'error',
      error: { type: spec.anthropicType, message: failure.message },
    });
  });
});
