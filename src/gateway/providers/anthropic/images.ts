import { isHttpUrl, parseDataUrl } from '../shared/data-url.ts';
import { unsupported } from '../shared/refusals.ts';
import type { ImageSource } from './wire.ts';

/**
 * An OpenAI `image_url` (or `file_data`) URL → an Anthropic source: a `data:` URL becomes a
 * base64 source, an http(s) link a `url` source that Anthropic fetches itself.
 */
export function sourceFromUrl(url: string): ImageSource {
  if (isHttpUrl(url)) return { type: 'url', url };
  const parsed = parseDataUrl(url);
  if (!parsed) throw unsupported('anthropic', 'an image must be an http(s) URL or a data: URL');
  if (parsed.data === '') throw unsupported('anthropic', 'the image data: URL is empty');
  return { type: 'base64', media_type: parsed.mediaType, data: parsed.data };
}

/** An Anthropic source → the URL OpenAI's `image_url` takes (a `data:` URL for base64). */
export function urlFromSource(source: ImageSource | undefined): string | undefined {
  if (source?.type === 'url' && typeof source.url === 'string') return source.url;
  if (source?.type === 'base64' && typeof source.data === 'string')
    return `data:${source.media_type};base64,${source.data}`;
  return undefined;
}
