import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeBedrock } from '../../../../test/support/fake-bedrock.ts';
import type { ChatRequest, HttpCall, OpenAIObject } from '../adapter.ts';
import type { ResolvedCredential } from '../types.ts';
import { bedrockAdapter } from './index.ts';

const KEYS = { accessKeyId: 'AKIAFAKEBEDROCK00001', secretAccessKey: 'fake/secret+key/for/tests/only/0000000000' };

async function send(call: HttpCall) {
  const response = await request(call.url, { method: 'POST', headers: call.headers, body: call.body });
  return { status: response.statusCode, headers: response.headers, body: response.body };
}

describe('Bedrock adapter against a fake Bedrock Runtime', () => {
  let fake: FakeBedrock;
  let credential: ResolvedCredential;
  const chat = (model: string, extra: Record<string, unknown> = {}): ChatRequest => ({
    model,
    messages: [
      { role: 'system', content: 'You are a radio DJ.' },
      { role: 'user', content: 'Name three pop songs from the UK' },
    ],
    ...extra,
  });

  beforeAll(async () => {
    fake = await new FakeBedrock(KEYS).start();
    credential = {
      id: 'c1',
      name: 'aws',
      provider: 'bedrock',
      authMethod: 'access-key',
      secrets: { ...KEYS },
      settings: { region: 'us-east-1', baseUrl: fake.url },
    };
  });
  afterAll(() => fake.close());

  it('is declared as data: access-key auth with secret keys, a required region and an endpoint override', () => {
    const [method] = bedrockAdapter.spec.authMethods;
    expect(bedrockAdapter.spec).toMatchObject({
      id: 'bedrock',
      label: 'AWS Bedrock',
      format: 'bedrock',
      endpoints: ['chat'],
    });
    expect(method?.id).toBe('access-key');
    expect(method?.fields.map((field) => [field.name, field.secret, field.required])).toEqual([
      ['accessKeyId', true, true],
      ['secretAccessKey', true, true],
      ['sessionToken', true, false],
      ['region', false, true],
      ['baseUrl', false, false],
    ]);
  });

  it('sends a signed Converse call that Bedrock accepts and reads the answer', async () => {
    const call = await bedrockAdapter.chatRequest(chat('anthropic.claude-3-haiku-20240307-v1:0'), credential, false);
    const response = await send(call);
    expect(response.status).toBe(200);
    const { body, usage } = bedrockAdapter.chatResponse(new Uint8Array(await response.body.arrayBuffer()), 'haiku');
    expect((body.choices as any)[0].message.content).toMatch(/Spice Girls/);
    // The fake counts words: "You are a radio DJ." + "Name three pop songs from the UK".
    expect(usage).toEqual({ promptTokens: 12, completionTokens: 60, cachedTokens: 0 });
    const received = fake.received.at(-1)!;
    expect(received).toMatchObject({
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      operation: 'converse',
      signatureValid: true,
    });
    expect(received.body.system).toEqual([{ text: 'You are a radio DJ.' }]);
  });

  it('is refused when the body is changed after signing', async () => {
    const call = await bedrockAdapter.chatRequest(chat('m'), credential, false);
    const tampered = String(call.body).replace('three', 'four!');
    const response = await send({ ...call, body: tampered });
    expect(response.status).toBe(403);
    expect(response.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException/);
    const message = bedrockAdapter.errorMessage(new Uint8Array(await response.body.arrayBuffer()));
    expect(message).toMatch(/^The request signature we calculated does not match/);
  });

  it('is refused with a wrong secret or an unknown access key', async () => {
    const wrongSecret = { ...credential, secrets: { ...KEYS, secretAccessKey: 'not-the-secret' } };
    const wrongKey = { ...credential, secrets: { ...KEYS, accessKeyId: 'AKIAUNKNOWN000000000' } };
    const bad = await send(await bedrockAdapter.chatRequest(chat('m'), wrongSecret, false));
    expect(bad.status).toBe(403);
    await bad.body.dump();
    const unknown = await send(await bedrockAdapter.chatRequest(chat('m'), wrongKey, false));
    expect(unknown.status).toBe(403);
    expect(bedrockAdapter.errorMessage(new Uint8Array(await unknown.body.arrayBuffer()))).toBe(
      'The security token included in the request is invalid.',
    );
  });

  it('signs with temporary credentials', async () => {
    const temporary = await new FakeBedrock({
      ...KEYS,
      sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE',
      region: 'us-east-1',
    }).start();
    try {
      const withToken = {
        ...credential,
        secrets: { ...KEYS, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE' },
        settings: { region: 'us-east-1', baseUrl: temporary.url },
      };
      const ok = await send(await bedrockAdapter.chatRequest(chat('m'), withToken, false));
      expect(ok.status).toBe(200);
      await ok.body.dump();
      const otherRegion = { ...withToken, settings: { ...withToken.settings, region: 'eu-central-1' } };
      const refused = await send(await bedrockAdapter.chatRequest(chat('m'), otherRegion, false));
      expect(refused.status).toBe(403);
      await refused.body.dump();
    } finally {
      await temporary.close();
    }
  });

  it('passes on Bedrock errors with their message', async () => {
    const response = await send(await bedrockAdapter.chatRequest(chat('fail-429'), credential, false));
    expect(response.status).toBe(429);
    expect(response.headers['x-amzn-errortype']).toMatch(/^ThrottlingException/);
    expect(bedrockAdapter.errorMessage(new Uint8Array(await response.body.arrayBuffer()))).toBe(
      'Too many requests, please wait before trying again.',
    );
  });

  it('round-trips a tool call', async () => {
    const tools = [{ type: 'function', function: { name: 'top_song', parameters: { type: 'object' } } }];
    const first = await send(await bedrockAdapter.chatRequest(chat('tool-call', { tools }), credential, false));
    const answer = bedrockAdapter.chatResponse(new Uint8Array(await first.body.arrayBuffer()), 'tool-call').body;
    const message = (answer.choices as any)[0].message;
    expect(message.tool_calls[0].function).toEqual({ name: 'top_song', arguments: '{"sign":"WZPZ"}' });
    const followUp = chat('anthropic.claude-3-haiku-20240307-v1:0', { tools });
    followUp.messages.push(message, {
      role: 'tool',
      tool_call_id: message.tool_calls[0].id,
      content: '{"song":"Elemental Hotel","artist":"8 Storey Hike"}',
    });
    const second = await send(await bedrockAdapter.chatRequest(followUp, credential, false));
    expect(second.status).toBe(200);
    await second.body.dump();
  });

  it('streams: text reaches the decoder while Bedrock is still sending', async () => {
    fake.chunkDelayMs = 40;
    try {
      const call = await bedrockAdapter.chatRequest(chat('anthropic.claude-3-haiku-20240307-v1:0'), credential, true);
      const response = await send(call);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/vnd.amazon.eventstream');
      const decoder = bedrockAdapter.chatStream('haiku');
      const started = Date.now();
      const arrivals: Array<{ at: number; chunk: OpenAIObject }> = [];
      for await (const bytes of response.body) {
        for (const chunk of decoder.push(bytes as Uint8Array)) arrivals.push({ at: Date.now() - started, chunk });
      }
      const ended = Date.now() - started;
      for (const chunk of decoder.end()) arrivals.push({ at: ended, chunk });
      const firstText = arrivals.find(({ chunk }) => (chunk.choices as any)[0]?.delta?.content);
      expect(firstText!.at).toBeLessThan(ended - 100);
      expect(arrivals.at(-1)!.chunk.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 60 });
      expect(decoder.usage).toEqual({ promptTokens: 12, completionTokens: 60, cachedTokens: 0 });
      expect(fake.received.at(-1)).toMatchObject({ operation: 'converse-stream', signatureValid: true });
    } finally {
      fake.chunkDelayMs = 0;
    }
  });

  it('surfaces an exception event in the middle of a stream', async () => {
    const response = await send(await bedrockAdapter.chatRequest(chat('stream-exception'), credential, true));
    const decoder = bedrockAdapter.chatStream('m');
    const texts: string[] = [];
    await expect(
      (async () => {
        for await (const bytes of response.body) {
          for (const chunk of decoder.push(bytes as Uint8Array)) texts.push((chunk.choices as any)[0]?.delta?.content);
        }
        decoder.end();
      })(),
    ).rejects.toThrow('Too many requests, please wait before trying again.');
    expect(texts.join('')).toMatch(/^Here is a list/);
  });

  it('answers 400 with the reason when Bedrock would refuse the conversation', async () => {
    const call = await bedrockAdapter.chatRequest(
      { model: 'm', messages: [{ role: 'assistant', content: 'I speak first' }] },
      credential,
      false,
    );
    const response = await send(call);
    expect(response.status).toBe(400);
    expect(bedrockAdapter.errorMessage(new Uint8Array(await response.body.arrayBuffer()))).toMatch(
      /must start with a user message/,
    );
  });
});
