import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a server-sent-event byte stream into whole events, each returned with its
 * terminating blank line so it can be forwarded exactly as received. Handles `\n\n` and
 * `\r\n\r\n` separators and multi-byte characters split across chunks.
 */
export class SseSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #buffer = '';

  push(chunk: Buffer): string[] {
    this.#buffer += this.#decoder.write(chunk);
    const events: string[] = [];
    let start = 0;
    for (;;) {
      const lf = this.#buffer.indexOf('\n\n', start);
      const crlf = this.#buffer.indexOf('\r\n\r\n', start);
      let end: number;
      if (lf === -1 && crlf === -1) break;
      if (crlf !== -1 && (lf === -1 || crlf < lf)) end = crlf + 4;
      else end = (lf as number) + 2;
      events.push(this.#buffer.slice(start, end));
      start = end;
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  /** Whatever is left when the stream ends (an event without its final blank line). */
  rest(): string {
    const rest = this.#buffer + this.#decoder.end();
    this.#buffer = '';
    return rest;
  }
}

/** The JSON payload of an event's `data:` lines, or undefined for `[DONE]` and non-JSON. */
export function eventData(event: string): unknown {
  let data = '';
  for (const line of event.split(/\r?\n/)) {
    if (line.startsWith('data:')) data += line.slice(line[5] === ' ' ? 6 : 5);
  }
  if (data === '' || data === '[DONE]') return undefined;
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
