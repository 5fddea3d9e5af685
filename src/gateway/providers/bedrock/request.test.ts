import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validateConverse } from '../../../../test/support/fake-bedrock.ts';
import type { ChatRequest } from '../adapter.ts';
import type { ResolvedCredential } from '../types.ts';
import { chatRequest, converseUrl, toBedrockRequest } from './request.ts';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const credential = (
  settings: Record<string, string> = {},
  secrets: Record<string, string> = {},
): ResolvedCredential => ({
  id: 'cred-1',
  name: 'aws-prod',
  provider: 'bedrock',
  authMethod: 'access-key',
  secrets: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', ...secrets },
  settings: { region: 'eu-west-1', ...settings },
});

const chat = (messages: ChatRequest['messages'], extra: Record<string, unknown> = {}): ChatRequest => ({
  model: 'anthropic.claude-3-haiku-20240307-v1:0',
  messages,
  ...extra,
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'top_song',
    description: 'Get the most popular song played on a radio station.',
    parameters: { type: 'object', properties: { sign: { type: 'string' } }, required: ['sign'] },
  },
};

describe('Bedrock chat request', () => {
  it('sends a user message as a text block and nothing else', () => {
    expect(toBedrockRequest(chat([{ role: 'user', content: 'Hello there' }]))).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Hello there' }] }],
    });
  });

  it('moves system and developer messages, wherever they stand, into the system prompt', () => {
    const request = toBedrockRequest(
      chat([
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hi' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      ]),
    );
    expect(request.system).toEqual([{ text: 'You are terse.' }, { text: 'Answer in French.' }]);
    expect(request.messages).toEqual([{ role: 'user', content: [{ text: 'Hi' }] }]);
  });

  it('keeps a multi-turn conversation in order and merges consecutive turns of one role', () => {
    const request = toBedrockRequest(
      chat([
        { role: 'user', content: 'One' },
        { role: 'user', content: [{ type: 'text', text: 'Two' }] },
        { role: 'assistant', content: 'Three' },
        { role: 'user', content: 'Four' },
      ]),
    );
    expect(request.messages).toEqual([
      { role: 'user', content: [{ text: 'One' }, { text: 'Two' }] },
      { role: 'assistant', content: [{ text: 'Three' }] },
      { role: 'user', content: [{ text: 'Four' }] },
    ]);
    expect(validateConverse(request as never)).toBeUndefined();
  });

  it('drops blank text, which Converse refuses', () => {
    const request = toBedrockRequest(
      chat([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Question' },
            { type: 'text', text: '  ' },
          ],
        },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'More' },
      ]),
    );
    expect(request.messages).toEqual([{ role: 'user', content: [{ text: 'Question' }, { text: 'More' }] }]);
  });

  it('turns data: URL images into image blocks with the format from the mime type', () => {
    const request = toBedrockRequest(
      chat([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG}`, detail: 'high' } },
            { type: 'image_url', image_url: { url: `data:image/webp;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: `data:image/gif;base64,${PNG}` } },
          ],
        },
      ]),
    );
    expect(request.messages[0]!.content).toEqual([
      { text: 'What is in these?' },
      { image: { format: 'png', source: { bytes: PNG } } },
      { image: { format: 'jpeg', source: { bytes: PNG } } },
      { image: { format: 'webp', source: { bytes: PNG } } },
      { image: { format: 'gif', source: { bytes: PNG } } },
    ]);
    expect(validateConverse(request as never)).toBeUndefined();
  });

  it('refuses image links and image types Converse cannot take, saying why', () => {
    const withImage = (url: string) => chat([{ role: 'user', content: [{ type: 'image_url', image_url: { url } }] }]);
    expect(() => toBedrockRequest(withImage('https://example.com/cat.png'))).toThrow(/only as base64 data: URLs/);
    expect(() => toBedrockRequest(withImage(`data:image/bmp;base64,${PNG}`))).toThrow(/image\/bmp/);
    expect(() =>
      toBedrockRequest(chat([{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }])),
    ).toThrow(/"input_audio"/);
  });

  it('translates tool definitions, tool calls and tool results into a conversation Converse accepts', () => {
    const request = toBedrockRequest(
      chat(
        [
          { role: 'user', content: 'What is the most popular song on WZPZ and WKRP?' },
          {
            role: 'assistant',
            content: 'Let me check both.',
            tool_calls: [
              { id: 'tooluse_1', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WZPZ"}' } },
              { id: 'tooluse_2', type: 'function', function: { name: 'top_song', arguments: '{"sign":"WKRP"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'tooluse_1', content: '{"song":"Elemental Hotel","artist":"8 Storey Hike"}' },
          { role: 'tool', tool_call_id: 'tooluse_2', content: [{ type: 'text', text: 'Never Gonna Give You Up' }] },
          { role: 'user', content: 'Which is older?' },
        ],
        { tools: [weatherTool], tool_choice: 'auto' },
      ),
    );
    expect(request.messages).toEqual([
      { role: 'user', content: [{ text: 'What is the most popular song on WZPZ and WKRP?' }] },
      {
        role: 'assistant',
        content: [
          { text: 'Let me check both.' },
          { toolUse: { toolUseId: 'tooluse_1', name: 'top_song', input: { sign: 'WZPZ' } } },
          { toolUse: { toolUseId: 'tooluse_2', name: 'top_song', input: { sign: 'WKRP' } } },
        ],
      },
      {
        role: 'user',
        content: [
          {
            toolResult: {
              toolUseId: 'tooluse_1',
              content: [{ text: '{"song":"Elemental Hotel","artist":"8 Storey Hike"}' }],
            },
          },
          { toolResult: { toolUseId: 'tooluse_2', content: [{ text: 'Never Gonna Give You Up' }] } },
          { text: 'Which is older?' },
        ],
      },
    ]);
    expect(request.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'top_song',
            description: 'Get the most popular song played on a radio station.',
            inputSchema: { json: weatherTool.function.parameters },
          },
        },
      ],
      toolChoice: { auto: {} },
    });
    expect(validateConverse(request as never)).toBeUndefined();
  });

  it('maps each tool_choice, leaving tools out for "none" unless the conversation already used them', () => {
    const user = [{ role: 'user', content: 'Hi' }];
    const choice = (tool_choice: unknown, messages: ChatRequest['messages'] = user) =>
      toBedrockRequest(chat(messages, { tools: [weatherTool], tool_choice })).toolConfig;
    expect(choice('required')?.toolChoice).toEqual({ any: {} });
    expect(choice({ type: 'function', function: { name: 'top_song' } })?.toolChoice).toEqual({
      tool: { name: 'top_song' },
    });
    expect(choice(undefined)?.toolChoice).toBeUndefined();
    expect(choice('none')).toBeUndefined();
    const usedTools = [
      ...user,
      {
        role: 'assistant',
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'top_song', arguments: '' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: 'ok' },
    ];
    expect(choice('none', usedTools)).toEqual({ tools: [expect.any(Object)] });
    expect(toBedrockRequest(chat(usedTools, { tools: [weatherTool] })).messages[1]!.content).toEqual([
      { toolUse: { toolUseId: 't1', name: 'top_song', input: {} } },
    ]);
  });

  it('refuses tool calls whose arguments are not JSON', () => {
    const bad = chat([
      { role: 'user', content: 'Hi' },
      { role: 'assistant', tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{oops' } }] },
    ]);
    expect(() => toBedrockRequest(bad)).toThrow(/tool call "t1"/);
  });

  it('carries max tokens, temperature, top_p and stop sequences in inferenceConfig', () => {
    const user = [{ role: 'user', content: 'Hi' }];
    expect(
      toBedrockRequest(chat(user, { max_tokens: 300, temperature: 0.2, top_p: 0.9, stop: ['\n\nHuman:', 'END'] }))
        .inferenceConfig,
    ).toEqual({ maxTokens: 300, temperature: 0.2, topP: 0.9, stopSequences: ['\n\nHuman:', 'END'] });
    expect(
      toBedrockRequest(chat(user, { max_completion_tokens: 50, max_tokens: 300, stop: 'END' })).inferenceConfig,
    ).toEqual({ maxTokens: 50, stopSequences: ['END'] });
    expect(toBedrockRequest(chat(user, { stop: null })).inferenceConfig).toBeUndefined();
  });

  it('refuses n > 1 and roles Converse has no place for', () => {
    expect(() => toBedrockRequest(chat([{ role: 'user', content: 'Hi' }], { n: 2 }))).toThrow(/n must be 1/);
    expect(() => toBedrockRequest(chat([{ role: 'function', name: 'f', content: 'x' }]))).toThrow(/"function"/);
  });

  it('escapes the model id as one path segment, ARNs and versions included', () => {
    expect(
      converseUrl('https://bedrock-runtime.us-east-1.amazonaws.com', 'anthropic.claude-3-haiku-20240307-v1:0', false),
    ).toBe('https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
    expect(
      converseUrl(
        'https://vpce.example.com/',
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0',
        true,
      ),
    ).toBe(
      'https://vpce.example.com/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream',
    );
  });

  it("signs for the credential's region and the bedrock service, hashing exactly the body sent", async () => {
    const call = await chatRequest(chat([{ role: 'user', content: 'Hi' }]), credential(), false);
    expect(call.url).toBe(
      'https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse',
    );
    expect(call.headers.host).toBe('bedrock-runtime.eu-west-1.amazonaws.com');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.headers.accept).toBe('application/json');
    expect(call.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(call.body).digest('hex'));
    expect(call.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(call.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(call.headers['x-amz-security-token']).toBeUndefined();
    expect(JSON.parse(String(call.body))).toEqual({ messages: [{ role: 'user', content: [{ text: 'Hi' }] }] });
  });

  it('signs the path AWS canonicalises: the escaped model id escaped once more (%3A → %253A)', async () => {
    // An independent SigV4 computation (AWS's documented algorithm, node:crypto only), so a
    // regression in how the path is signed cannot hide behind the fake using the same library.
    const call = await chatRequest(chat([{ role: 'user', content: 'Hi' }]), credential(), false);
    const h = call.headers;
    const day = h['x-amz-date']!.slice(0, 8);
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
    const canonical = [
      'POST',
      '/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse',
      '',
      `accept:${h.accept}`,
      `content-type:${h['content-type']}`,
      `host:${h.host}`,
      `x-amz-content-sha256:${h['x-amz-content-sha256']}`,
      `x-amz-date:${h['x-amz-date']}`,
      '',
      'accept;content-type;host;x-amz-content-sha256;x-amz-date',
      sha256(String(call.body)),
    ].join('\n');
    const scope = `${day}/eu-west-1/bedrock/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', h['x-amz-date'], scope, sha256(canonical)].join('\n');
    let key = hmac(`AWS4${credential().secrets.secretAccessKey}`, day);
    for (const part of ['eu-west-1', 'bedrock', 'aws4_request']) key = hmac(key, part);
    expect(h.authorization).toContain(`Signature=${createHmac('sha256', key).update(toSign).digest('hex')}`);
  });

  it('adds and signs the session token of temporary credentials, and honours the endpoint override', async () => {
    const call = await chatRequest(
      chat([{ role: 'user', content: 'Hi' }]),
      credential({ baseUrl: 'http://127.0.0.1:4566/' }, { sessionToken: 'FwoGZXIvYXdzEXAMPLE' }),
      true,
    );
    expect(call.url).toBe('http://127.0.0.1:4566/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
    expect(call.headers.host).toBe('127.0.0.1:4566');
    expect(call.headers.accept).toBe('application/vnd.amazon.eventstream');
    expect(call.headers['x-amz-security-token']).toBe('FwoGZXIvYXdzEXAMPLE');
    expect(call.headers.authorization).toContain('x-amz-security-token');
  });

  it('names what a credential is missing', async () => {
    const incomplete = credential({ region: '' }, { secretAccessKey: '' });
    await expect(chatRequest(chat([{ role: 'user', content: 'Hi' }]), incomplete, false)).rejects.toMatchObject({
      code: 'TG_ERR_PROVIDER_AUTH',
      status: 502,
      message: expect.stringContaining('"aws-prod" (no secretAccessKey, region)'),
    });
    await expect(
      chatRequest(chat([{ role: 'user', content: 'Hi' }]), credential({ region: 'evil.example.com/#' }), false),
    ).rejects.toMatchObject({ code: 'TG_ERR_PROVIDER_AUTH', message: expect.stringMatching(/invalid region/) });
  });
});
