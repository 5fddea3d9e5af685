import { afterEach, describe, expect, it } from 'vitest';
import { allowLinkLocalUpstreams, isRefusedAddress, isRefusedHost, refusedUrl } from './upstream-address.ts';

describe('upstream addresses', () => {
  afterEach(() => allowLinkLocalUpstreams(false));

  it.each([
    '169.254.169.254',
    '169.254.170.2',
    '169.254.0.1',
    '100.100.100.200',
    'fe80::1',
    'FE80::abcd:1',
    'fd00:ec2::254',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '64:ff9b::169.254.169.254',
  ])('refuses %s', (address) => {
    expect(isRefusedAddress(address)).toBe(true);
  });

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.5',
    '192.168.1.20',
    '100.64.0.1',
    '8.8.8.8',
    '::1',
    'fd12:3456::1',
    '2001:db8::1',
  ])('allows %s (loopback, private and public addresses)', (address) => {
    expect(isRefusedAddress(address)).toBe(false);
  });

  it('refuses metadata host names and bracketed IPv6 literals', () => {
    expect(isRefusedHost('metadata.google.internal')).toBe(true);
    expect(isRefusedHost('METADATA.GOOGLE.INTERNAL.')).toBe(true);
    expect(isRefusedHost('[fd00:ec2::254]')).toBe(true);
    expect(isRefusedHost('api.openai.com')).toBe(false);
  });

  it('says why a URL is refused', () => {
    expect(refusedUrl('http://169.254.169.254/latest/meta-data/')).toMatch(
      /^169\.254\.169\.254: link-local .*TOLLGATE_ALLOW_LINK_LOCAL_UPSTREAMS=true/,
    );
    expect(refusedUrl('http://[::ffff:169.254.169.254]:80/v1')).toBeDefined();
    expect(refusedUrl('http://127.0.0.1:11434/v1')).toBeUndefined();
    expect(refusedUrl('not a url')).toBeUndefined();
  });

  it('allows everything when TOLLGATE_ALLOW_LINK_LOCAL_UPSTREAMS is set', () => {
    allowLinkLocalUpstreams(true);
    expect(isRefusedAddress('169.254.169.254')).toBe(false);
    expect(isRefusedHost('metadata.google.internal')).toBe(false);
  });
});
