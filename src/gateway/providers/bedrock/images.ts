import { parseDataUrl } from '../shared/data-url.ts';
import { unsupported } from '../shared/refusals.ts';
import type { ContentBlock, ImageFormat } from './wire.ts';

const FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/**
 * An OpenAI `image_url` → a Converse image block. Converse takes image bytes only (base64 in
 * JSON), never a link, so an http(s) URL is refused rather than fetched: fetching arbitrary
 * URLs from the gateway would be a server-side request forgery hole.
 */
export function imageBlock(url: string): ContentBlock {
  const parsed = parseDataUrl(url);
  if (!parsed) {
    throw unsupported(
      'bedrock',
      'AWS Bedrock accepts images only as base64 data: URLs (data:image/png;base64,...); image links are not supported',
    );
  }
  const format = FORMATS[parsed.mediaType];
  if (!format) {
    throw unsupported(
      'bedrock',
      `AWS Bedrock does not accept images of type ${parsed.mediaType}; use PNG, JPEG, GIF or WebP`,
    );
  }
  // The REST-JSON protocol carries blobs as base64, which the parsed data: URL already is.
  if (parsed.data === '') throw unsupported('bedrock', 'The image data: URL is empty');
  return { image: { format, source: { bytes: parsed.data } } };
}
