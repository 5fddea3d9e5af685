import { unsupported } from '../shared/refusals.ts';
import type { ContentBlock, ImageFormat } from './wire.ts';

const FORMATS: Record<string, ImageFormat> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s;

/**
 * An OpenAI `image_url` → a Converse image block. Converse takes image bytes only (base64 in
 * JSON), never a link, so an http(s) URL is refused rather than fetched: fetching arbitrary
 * URLs from the gateway would be a server-side request forgery hole.
 */
export function imageBlock(url: string): ContentBlock {
  const match = DATA_URL.exec(url);
  if (!match) {
    throw unsupported(
      'bedrock',
      'AWS Bedrock accepts images only as base64 data: URLs (data:image/png;base64,...); image links are not supported',
    );
  }
  const mime = match[1]!.toLowerCase();
  const format = FORMATS[mime];
  if (!format)
    throw unsupported('bedrock', `AWS Bedrock does not accept images of type ${mime}; use PNG, JPEG, GIF or WebP`);
  const parameters = match[2]!.toLowerCase().split(';');
  const data = match[3]!;
  // The REST-JSON protocol carries blobs as base64; a URL-encoded data: URL is re-encoded.
  const bytes = parameters.includes('base64')
    ? data.replace(/\s+/g, '')
    : Buffer.from(decodeURIComponent(data), 'utf8').toString('base64');
  if (bytes === '') throw unsupported('bedrock', 'The image data: URL is empty');
  return { image: { format, source: { bytes } } };
}
