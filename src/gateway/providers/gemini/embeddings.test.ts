import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResolvedCredential } from '../types.ts';
import { embeddingsRequest, embeddingsResponse } from './embeddings.ts';

const fixture = readFileSync(new URL('../../../../test/fixtures/gemini/batch-embed-contents.json', import.meta.url));
const recorded: number[] = JSON.parse(fixture.toString('utf8')).embeddings[0].values;

const credential: ResolvedCredential = {
  id: 'c1',
  name: 'gemini-prod',
  provider: 'gemini',
  authMethod: 'api-key',
  secrets: { apiKey: 'AIza-test' },
  settings: {},
};

/** What the official OpenAI SDKs do with `encoding_format: "base64"`. */
function fromBase64(text: string): number[] {
  const buffer = Buffer.from(text, 'base64');
  return Array.from(new Float32Array(buffer.buffer, buffer.byteOffset, buffer.length / 4));
}

describe('embeddingsRequest', () => {
  it('sends every input as one request of a batchEmbedContents call, in order', async () => {
    const call = await embeddingsRequest(
      {
        model: 'gemini-embedding-001',
        input: ['What is the meaning of life?', 'How does the brain work?'],
        dimensions: 768,
      },
      credential,
    );
    expect(call.url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents',
    );
    expect(call.headers['x-goog-api-key']).toBe('AIza-test');
    expect(JSON.parse(String(call.body))).toEqual({
      requests: [
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'What is the meaning of life?' }] },
          outputDimensionality: 768,
        },
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'How does the brain work?' }] },
          outputDimensionality: 768,
        },
      ],
    });
  });

  it('takes a single string, and refuses token arrays', async () => {
    const call = await embeddingsRequest({ model: 'gemini-embedding-001', input: 'hello' }, credential);
    expect(JSON.parse(String(call.body)).requests).toHaveLength(1);
    await expect(embeddingsRequest({ model: 'm', input: [[1, 2, 3]] }, credential)).rejects.toThrow(/text only/);
  });
});

describe('embeddingsResponse', () => {
  it('returns an OpenAI embeddings list with usage estimated at four characters a token', () => {
    const request = { model: 'gemini-embedding-001', input: 'What is the meaning of life?' };
    const { body, usage } = embeddingsResponse(fixture, 'gemini-embedding-001', request);
    expect(body).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: recorded }],
      model: 'gemini-embedding-001',
      usage: { prompt_tokens: 7, total_tokens: 7 },
    });
    expect(usage).toEqual({ promptTokens: 7, completionTokens: 0, cachedTokens: 0 });
  });

  it('encodes vectors as little-endian float32 base64 when the caller asked for base64 (the OpenAI SDK default)', () => {
    const { body } = embeddingsResponse(fixture, 'm', { input: 'x', encoding_format: 'base64' });
    const embedding = (body.data as any[])[0].embedding;
    expect(typeof embedding).toBe('string');
    expect(fromBase64(embedding)).toEqual(recorded.map((value) => Math.fround(value)));
  });

  it('uses a token count when Gemini reports one', () => {
    const payload = Buffer.from(
      JSON.stringify({ embeddings: [{ values: [1] }], usageMetadata: { promptTokenCount: 3 } }),
    );
    expect(embeddingsResponse(payload, 'm', { input: 'a much longer text than three tokens' }).usage).toEqual({
      promptTokens: 3,
      completionTokens: 0,
      cachedTokens: 0,
    });
  });

  it('reports no usage when it has neither a count nor the request to estimate from', () => {
    const { body, usage } = embeddingsResponse(fixture, 'm');
    expect(usage).toBeUndefined();
    expect((body.data as any[])[0].embedding).toEqual(recorded);
  });
});
