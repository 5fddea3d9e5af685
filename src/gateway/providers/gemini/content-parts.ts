import { isHttpUrl, parseDataUrl } from '../shared/data-url.ts';
import { unsupported } from '../shared/refusals.ts';
import type { GeminiPart } from './wire.ts';

/**
 * OpenAI message content (a string or an array of typed parts) → Gemini parts.
 *
 * Images given as `data:` URLs travel inline. Images given as http(s) URLs become `fileData`
 * references with a MIME type guessed from the file extension: Tollgate never fetches a
 * caller-supplied URL itself (that would let any key holder make the gateway reach internal
 * addresses). The Gemini API reads Files API URIs (`…/v1beta/files/…`) and, on current models,
 * public URLs; where a model cannot, it answers 400 and the caller sees that message.
 */

type OpenAIPart = Record<string, unknown> & { type?: unknown };

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

/** A `data:` URL → Gemini's inline data, base64-encoded as Gemini wants it. */
function inlineData(url: string): { mimeType: string; data: string } | undefined {
  const parsed = parseDataUrl(url);
  return parsed && { mimeType: parsed.mediaType, data: parsed.data };
}

export function guessMimeType(url: string, fallback: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not a URL: guess from the string as given.
  }
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (extension && MIME_BY_EXTENSION[extension]) || fallback;
}

function mediaPart(url: string, fallbackMime: string): GeminiPart {
  const inline = inlineData(url);
  if (inline) return { inlineData: inline };
  if (!isHttpUrl(url)) {
    throw unsupported('gemini', 'an image_url must be a data: URL or an http(s) URL');
  }
  return { fileData: { mimeType: guessMimeType(url, fallbackMime), fileUri: url } };
}

function partOf(part: OpenAIPart): GeminiPart | undefined {
  switch (part.type) {
    case 'text':
    case 'refusal': {
      const text = String(part.text ?? part.refusal ?? '');
      return text === '' ? undefined : { text };
    }
    case 'image_url': {
      const image = part.image_url as { url?: unknown } | string | undefined;
      const url = typeof image === 'string' ? image : image?.url;
      if (typeof url !== 'string') throw unsupported('gemini', 'an image_url part needs a url');
      return mediaPart(url, 'image/jpeg');
    }
    case 'input_audio': {
      const audio = (part.input_audio ?? {}) as { data?: unknown; format?: unknown };
      const format = String(audio.format ?? 'wav');
      return { inlineData: { mimeType: format === 'mp3' ? 'audio/mp3' : `audio/${format}`, data: String(audio.data) } };
    }
    case 'file': {
      const file = (part.file ?? {}) as { file_data?: unknown; file_id?: unknown; filename?: unknown };
      if (typeof file.file_data === 'string') {
        const inline = inlineData(file.file_data);
        const mimeType = guessMimeType(String(file.filename ?? ''), 'application/pdf');
        return { inlineData: inline ?? { mimeType, data: file.file_data } };
      }
      throw unsupported('gemini', 'file parts must carry file_data: OpenAI file ids cannot be sent to Gemini');
    }
    default:
      throw unsupported('gemini', `content parts of type "${String(part.type)}" cannot be sent to Gemini`);
  }
}

/** The parts of one message's content; empty text is dropped (Gemini refuses empty parts). */
export function contentParts(content: unknown): GeminiPart[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw unsupported('gemini', 'message content must be a string or an array of parts');
  const parts: GeminiPart[] = [];
  for (const part of content as OpenAIPart[]) {
    const translated = partOf(part);
    if (translated) parts.push(translated);
  }
  return parts;
}

/** The text of a content (string or parts), for places that take text only (tool results). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === null || content === undefined ? '' : JSON.stringify(content);
  return (content as OpenAIPart[])
    .map((part) => (typeof part.text === 'string' ? part.text : ''))
    .filter(Boolean)
    .join('\n');
}
