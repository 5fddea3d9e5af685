/**
 * `data:` URLs as callers send images and files (`data:image/png;base64,iVBOR…`), read once for
 * every provider. Tollgate never fetches a caller's http(s) URL itself: a provider that takes
 * links gets the link, one that does not refuses it.
 */

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;

export interface DataUrl {
  /** The media type, lower-cased; `text/plain` when the URL names none (RFC 2397). */
  mediaType: string;
  /** The payload, base64-encoded (a URL-encoded payload is re-encoded; white space dropped). */
  data: string;
}

/** A `data:` URL's media type and base64 payload; undefined when the string is not a `data:` URL. */
export function parseDataUrl(url: string): DataUrl | undefined {
  const match = DATA_URL.exec(url);
  if (!match) return undefined;
  const mediaType = (match[1] || 'text/plain').toLowerCase();
  const base64 = (match[2] ?? '').toLowerCase().split(';').includes('base64');
  const payload = match[3] ?? '';
  const data = base64
    ? payload.replace(/\s+/g, '')
    : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { mediaType, data };
}

/** Whether a URL is an http(s) link (which some providers fetch themselves). */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}
