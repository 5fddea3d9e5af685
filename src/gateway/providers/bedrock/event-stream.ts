import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

export type { Message } from '@smithy/eventstream-codec';

/** Encodes and decodes single messages of the AWS event stream (CRC checks included). */
export const eventStreamCodec = new EventStreamCodec(toUtf8, fromUtf8);

/** Prelude (total length, headers length, prelude CRC) + message CRC. */
const OVERHEAD = 16;
/** AWS caps a message at 16 MiB of payload and 128 KiB of headers; anything longer is corruption. */
const MAX_MESSAGE = 16 * 1024 * 1024 + 128 * 1024 + OVERHEAD;
const EMPTY = new Uint8Array(0);

/**
 * Cuts an `application/vnd.amazon.eventstream` body into messages as bytes arrive. Each message
 * starts with its total length, so a message is decoded the moment its last byte is in; only
 * the bytes of the one incomplete message are kept between pushes.
 */
export class EventStreamSplitter {
  #pending: Uint8Array = EMPTY;

  push(bytes: Uint8Array): Message[] {
    const buffer = this.#pending.byteLength === 0 ? bytes : concat(this.#pending, bytes);
    const messages: Message[] = [];
    let offset = 0;
    while (buffer.byteLength - offset >= 4) {
      const length = new DataView(buffer.buffer, buffer.byteOffset + offset, 4).getUint32(0, false);
      if (length < OVERHEAD || length > MAX_MESSAGE) {
        throw new Error(`Corrupt AWS event stream: a message claims to be ${length} bytes long`);
      }
      if (buffer.byteLength - offset < length) break;
      messages.push(eventStreamCodec.decode(buffer.subarray(offset, offset + length)));
      offset += length;
    }
    // A copy, so the caller's buffer is never held on to.
    this.#pending = offset === buffer.byteLength ? EMPTY : buffer.slice(offset);
    return messages;
  }

  /** Bytes of a message not yet complete. */
  get pendingBytes(): number {
    return this.#pending.byteLength;
  }
}

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const joined = new Uint8Array(head.byteLength + tail.byteLength);
  joined.set(head, 0);
  joined.set(tail, head.byteLength);
  return joined;
}

/** A header's value as a string, whatever the header's type. */
export function headerString(message: Message, name: string): string | undefined {
  const header = message.headers[name];
  return header === undefined ? undefined : String(header.value);
}
