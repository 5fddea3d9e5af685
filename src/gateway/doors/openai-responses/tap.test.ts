import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TollgateError } from '../../../errors.ts';
import { eventData, SseSplitter } from '../../sse.ts';
import { ResponsesStreamTap, readResponse } from './tap.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../../../../test/fixtures/openai/${name}`, import.meta.url), 'utf8');

/** The fixture's events, split as they pass through the gateway. */
const events = (name: string) => new SseSplitter().push(Buffer.from(fixture(name)));

const USAGE = { promptTokens: 1187, completionTokens: 73, cachedTokens: 384, reasoningTokens: 17 };

describe('Responses stream tap', () => {
  it('forwards every event and reads usage from response.completed', () => {
    const tap = new ResponsesStreamTap('openai');
    const stream = events('responses-stream.sse');
    expect(stream.every((event) => tap.observe(event))).toBe(true);
    expect(tap.usage).toEqual(USAGE);
    expect(tap.error).toBeUndefined();
    expect(tap.outputText).toBe('The gateway is up and answering. Every request is metered.');
  });

  it('reads function call arguments as output, for counting', () => {
    const tap = new ResponsesStreamTap('openai');
    for (const event of events('responses-stream-function-call.sse')) tap.observe(event);
    expect(tap.outputText).toBe('{"city":"Paris"}');
    expect(tap.usage).toEqual(USAGE);
  });

  it('keeps the output streamed so far when the stream ends before usage', () => {
    const tap = new ResponsesStreamTap('openai');
    for (const event of events('responses-stream.sse').slice(0, 7)) tap.observe(event);
    expect(tap.usage).toBeUndefined();
    expect(tap.outputText).toBe('The gateway is up and answering.');
  });

  it('reports the provider error from error and response.failed events, forwarding them as they came', () => {
    const tap = new ResponsesStreamTap('azure');
    const stream = events('responses-stream-error.sse');
    expect(stream.every((event) => tap.observe(event))).toBe(true);
    expect(tap.error).toBeInstanceOf(TollgateError);
    expect(tap.error?.code).toBe('TG_ERR_PROVIDER_ERROR');
    expect(tap.error?.message).toMatch(
      /^Provider azure answered HTTP 200 with an error event: The model produced invalid content/,
    );
    expect(tap.usage).toBeUndefined();
    expect(tap.outputText).toBe('The gateway');
  });

  it('reads the flat error event shape too', () => {
    const tap = new ResponsesStreamTap('openai');
    tap.observe(
      'event: error\ndata: {"type":"error","code":"rate_limit_exceeded","message":"Slow down","param":null,"sequence_number":3}\n\n',
    );
    expect(tap.error?.message).toMatch(/an error event: Slow down$/);
  });

  it('reads usage with a JSON parser, whatever the whitespace, and never from text that only mentions it', () => {
    const tap = new ResponsesStreamTap('openai');
    // Output that quotes an event name and a usage object is output, not usage.
    tap.observe(
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"event: response.completed \\"usage\\": {\\"input_tokens\\": 9}","sequence_number":4}\n\n',
    );
    expect(tap.usage).toBeUndefined();
    tap.observe(
      'event: response.completed\ndata: {"type": "response.completed", "response": {"usage": {\ndata:   "input_tokens": 50,\ndata:   "input_tokens_details": {"cached_tokens": 0},\ndata:   "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 0},\ndata:   "total_tokens": 57}}, "sequence_number": 5}\n\n',
    );
    expect(tap.usage).toEqual({ promptTokens: 50, completionTokens: 7, cachedTokens: 0 });
  });

  it('reads events from servers that leave out the event: line', () => {
    const tap = new ResponsesStreamTap('openai');
    for (const event of events('responses-stream.sse')) tap.observe(event.replace(/^event: [^\n]*\n/, ''));
    expect(tap.usage).toEqual(USAGE);
    expect(tap.outputText).toBe('The gateway is up and answering. Every request is metered.');
  });

  it('numbers its own error event after the events that went through', () => {
    const tap = new ResponsesStreamTap('openai');
    const stream = events('responses-stream.sse').slice(0, 6);
    for (const event of stream) tap.observe(event);
    const ending = tap.streamError(new TollgateError('TG_ERR_PROVIDER_UNREACHABLE', 'openai', 'stream interrupted'));
    expect(eventData(ending)).toMatchObject({
      type: 'error',
      sequence_number: 6,
      error: { code: 'provider_unreachable' },
    });
  });
});

describe('a whole native response', () => {
  it('gives its usage and output text', () => {
    const answer = JSON.parse(fixture('responses-function-call.json'));
    expect(readResponse(answer, 'openai')).toEqual({ usage: USAGE, outputText: 'get_weather{"city":"Paris"}' });
  });

  it('gives a failed response as the provider error', () => {
    const read = readResponse(
      {
        object: 'response',
        status: 'failed',
        error: { code: 'server_error', message: 'boom' },
        usage: null,
        output: [],
      },
      'openai',
    );
    expect(read.error?.message).toMatch(/with an error: boom$/);
    expect(read.usage).toBeUndefined();
  });
});
