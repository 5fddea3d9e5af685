import { describe, expect, it } from 'vitest';
import { isHttpUrl, parseDataUrl } from './data-url.ts';
import { errorBodyMessage } from './error-body.ts';

describe('parseDataUrl', () => {
  it('reads a base64 data: URL, lower-casing the media type and dropping white space', () => {
    expect(parseDataUrl('data:Image/PNG;BASE64,iVBO\nRw0K')).toEqual({ mediaType: 'image/png', data: 'iVBORw0K' });
  });

  it('re-encodes a URL-encoded payload as base64, and defaults the media type to text/plain', () => {
    expect(parseDataUrl('data:,hello%20world')).toEqual({
      mediaType: 'text/plain',
      data: Buffer.from('hello world').toString('base64'),
    });
    expect(parseDataUrl('data:image/svg+xml;charset=utf-8,%3Csvg%2F%3E')).toEqual({
      mediaType: 'image/svg+xml',
      data: Buffer.from('<svg/>').toString('base64'),
    });
  });

  it('keeps an empty payload empty, for the caller to refuse, and is undefined for anything else', () => {
    expect(parseDataUrl('data:image/png;base64,')).toEqual({ mediaType: 'image/png', data: '' });
    expect(parseDataUrl('https://example.com/a.png')).toBeUndefined();
    expect(parseDataUrl('data:image/png;base64')).toBeUndefined();
  });

  it('tells http(s) links from everything else', () => {
    expect(isHttpUrl('HTTPS://example.com/a.png')).toBe(true);
    expect(isHttpUrl('http://example.com')).toBe(true);
    expect(isHttpUrl('file:///etc/passwd')).toBe(false);
    expect(isHttpUrl('data:,x')).toBe(false);
  });
});

describe('errorBodyMessage', () => {
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it('reads every shape providers answer with', () => {
    expect(errorBodyMessage(bytes({ error: { message: 'openai says', type: 'x' } }))).toBe('openai says');
    expect(errorBodyMessage(bytes({ type: 'error', error: { type: 'x', message: 'anthropic says' } }))).toBe(
      'anthropic says',
    );
    expect(errorBodyMessage(bytes({ error: 'plain string' }))).toBe('plain string');
    expect(errorBodyMessage(bytes({ message: 'bedrock says' }))).toBe('bedrock says');
    expect(errorBodyMessage(bytes({ Message: 'an AWS front end says' }))).toBe('an AWS front end says');
    expect(errorBodyMessage(bytes([{ error: { code: 400, message: 'gemini says' } }]))).toBe('gemini says');
    expect(errorBodyMessage(JSON.stringify({ error: { message: 'from a string' } }))).toBe('from a string');
  });

  it('is undefined for a body that is not JSON or carries no message', () => {
    expect(errorBodyMessage(new TextEncoder().encode('<html>502 Bad Gateway</html>'))).toBeUndefined();
    expect(errorBodyMessage(bytes({ error: { message: '' } }))).toBeUndefined();
    expect(errorBodyMessage(bytes({ error: { message: 42 } }))).toBeUndefined();
    expect(errorBodyMessage(bytes(null))).toBeUndefined();
    expect(errorBodyMessage(bytes('just a string'))).toBeUndefined();
  });
});
