import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../../errors.ts';
import type { OpenAIObject } from '../adapter.ts';
import { GeminiChunkDecoder } from './stream.ts';
import { thoughtSignatureOf } from './tool-call-id.ts';

const transcript = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8');
const TRANSCRIPTS = [
  'stream-generate-content.txt',
  'stream-thoughts.txt',
  'stream-function-call.txt',
  'stream-max-tokens.txt',
];

function decodeWhole(text: string, model = 'gemini-2.5-flash'): OpenAIObject[] {
  const decoder = new GeminiChunkDecoder(model);
  return [...decoder.push(Buffer.from(text)), ...decoder.end()];
}

function decodeByteByByte(text: string, model = 'gemini-2.5-flash'): OpenAIObject[] {
  const decoder = new GeminiChunkDecoder(model);
  const bytes = Buffer.from(text);
  const chunks: OpenAIObject[] = [];
  for (let at = 0; at < bytes.length; at++) chunks.push(...decoder.push(bytes.subarray(at, at + 1)));
  return [...chunks, ...decoder.end()];
}

/** Tool call ids are random and `created` is the clock: compare everything else. */
function comparable(chunks: OpenAIObject[]): unknown {
  return JSON.parse(
    JSON.stringify(chunks)
      .replace(/"call_[A-Za-z0-9_-]{24}/g, '"call_<random>')
      .replace(/"created":\d+/g, '"created":0'),
  );
}

const deltas = (chunks: OpenAIObject[]) =>
  chunks.map((chunk) => {
    const choice = (chunk.choices as any[])[0];
    return choice ? { delta: choice.delta, finish_reason: choice.finish_reason } : { usage: chunk.usage };
  });

describe('GeminiChunkDecoder', () => {
  it('reads a recorded stream into a role chunk, a chunk per text part, the finish, then usage', () => {
    const chunks = decodeWhole(transcript('stream-generate-content.txt'), 'gemini-2.5-flash-lite');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish_reason: null },
      { delta: { content: 'AI learns' }, finish_reason: null },
      { delta: { content: ' from data to make decisions or predictions.' }, finish_reason: null },
      { delta: {}, finish_reason: 'stop' },
      {
        usage: {
          prompt_tokens: 8,
          completion_tokens: 10,
          total_tokens: 18,
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      },
    ]);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({
        id: 'chatcmpl-znFzaPOHN6aTjMcP5u2r4AI',
        object: 'chat.completion.chunk',
        model: 'gemini-2.5-flash-lite-preview-06-17',
      });
    }
    expect(chunks.at(-1)?.choices).toEqual([]);
  });

  it.each(TRANSCRIPTS)('gives the same chunks for %s fed byte by byte as fed whole, LF or CRLF', (name) => {
    const text = transcript(name);
    const whole = comparable(decodeWhole(text));
    expect(comparable(decodeByteByByte(text))).toEqual(whole);
    expect(comparable(decodeByteByByte(text.replaceAll('\n\n', '\r\n\r\n')))).toEqual(whole);
  });

  it('emits each text chunk as soon as its event is complete, before the stream ends', () => {
    const [first, second] = transcript('stream-generate-content.txt').split('\n\n');
    const decoder = new GeminiChunkDecoder('m');
    expect(deltas(decoder.push(Buffer.from(`${first}\n`)))).toEqual([]);
    expect(deltas(decoder.push(Buffer.from('\n')))).toEqual([
      { delta: { role: 'assistant', content: '' }, finish_reason: null },
      { delta: { content: 'AI learns' }, finish_reason: null },
    ]);
    expect(decoder.usage).toEqual({ promptTokens: 8, completionTokens: 2, cachedTokens: 0 });
    expect(deltas(decoder.push(Buffer.from(`${second}\n\n`)))).toEqual([
      { delta: { content: ' from data to make decisions or predictions.' }, finish_reason: null },
      { delta: {}, finish_reason: 'stop' },
    ]);
  });

  it('leaves thought summaries out but counts thinking tokens as completion tokens', () => {
    const decoder = new GeminiChunkDecoder('gemini-2.5-flash');
    const chunks = [...decoder.push(Buffer.from(transcript('stream-thoughts.txt'))), ...decoder.end()];
    expect(deltas(chunks).slice(0, 3)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish_reason: null },
      { delta: { content: 'Hi there! How can I help you today?' }, finish_reason: null },
      { delta: {}, finish_reason: 'stop' },
    ]);
    expect(decoder.usage).toEqual({ promptTokens: 2, completionTokens: 351, cachedTokens: 0, reasoningTokens: 344 });
  });

  it('sends a function call as one complete tool call and finishes tool_calls on a later event (Gemini 3)', () => {
    const text = transcript('stream-function-call.txt');
    const signature = JSON.parse(text.split('\n\n')[0]!.slice(6)).candidates[0].content.parts[0].thoughtSignature;
    const chunks = decodeWhole(text, 'gemini-3.1-pro-preview');
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish_reason: null },
      {
        delta: {
          tool_calls: [
            {
              index: 0,
              id: expect.any(String),
              type: 'function',
              function: { name: 'bash', arguments: '{"command":"ls -R"}' },
            },
          ],
        },
        finish_reason: null,
      },
      { delta: {}, finish_reason: 'tool_calls' },
      { usage: expect.objectContaining({ prompt_tokens: 1964, completion_tokens: 103 }) },
    ]);
    const id = (chunks[1]!.choices as any[])[0].delta.tool_calls[0].id;
    expect(thoughtSignatureOf(id)).toBe(signature);
  });

  it('finishes length on MAX_TOKENS and sends nothing for an empty text part', () => {
    const chunks = decodeWhole(transcript('stream-max-tokens.txt'));
    expect(deltas(chunks).map((entry) => ('delta' in entry ? [entry.delta, entry.finish_reason] : 'usage'))).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ content: '### Two' }, null],
      [{ content: ' Wheels to' }, null],
      [{}, 'length'],
      'usage',
    ]);
  });

  it('numbers tool calls per candidate and keeps candidates apart', () => {
    const event = (body: unknown) => `data: ${JSON.stringify(body)}\n\n`;
    const stream =
      event({
        candidates: [
          { content: { role: 'model', parts: [{ functionCall: { name: 'a', args: {} } }] }, index: 0 },
          { content: { role: 'model', parts: [{ text: 'hello' }] }, index: 1 },
        ],
      }) +
      event({
        candidates: [
          {
            content: { role: 'model', parts: [{ functionCall: { name: 'b', args: { y: 2 } } }] },
            finishReason: 'STOP',
            index: 0,
          },
          { content: { role: 'model', parts: [{ text: '!' }] }, finishReason: 'STOP', index: 1 },
        ],
      });
    const chunks = decodeWhole(stream);
    const summary = chunks.map((chunk) => {
      const choice = (chunk.choices as any[])[0];
      const call = choice.delta.tool_calls?.[0];
      return [
        choice.index,
        call ? `${call.index}:${call.function.name}` : (choice.delta.content ?? ''),
        choice.finish_reason,
      ];
    });
    expect(summary).toEqual([
      [0, '', null],
      [0, '0:a', null],
      [1, '', null],
      [1, 'hello', null],
      [0, '1:b', null],
      [0, '', 'tool_calls'],
      [1, '!', null],
      [1, '', 'stop'],
    ]);
    expect(chunks.every((chunk) => typeof chunk.id === 'string')).toBe(true);
  });

  it('finishes content_filter when the prompt was blocked', () => {
    const chunks = decodeWhole(
      `data: ${JSON.stringify({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } })}\n\n`,
    );
    expect(deltas(chunks)).toEqual([
      { delta: { role: 'assistant', content: '' }, finish_reason: null },
      { delta: {}, finish_reason: 'content_filter' },
    ]);
  });

  it('fails with the provider error when Gemini reports one mid-stream', () => {
    const decoder = new GeminiChunkDecoder('m');
    decoder.push(Buffer.from(transcript('stream-generate-content.txt').split('\n\n')[0]!));
    const error = `\n\ndata: {"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}\n\n`;
    expect(() => decoder.push(Buffer.from(error))).toThrow(TollgateError);
    expect(() => new GeminiChunkDecoder('m').push(Buffer.from(error.trimStart()))).toThrow(/503.*overloaded/);
  });

  it('sends no usage chunk when Gemini reported none', () => {
    const chunks = decodeWhole(
      `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'x' }] } }] })}\n\n`,
    );
    expect(chunks.some((chunk) => 'usage' in chunk)).toBe(false);
  });
});
