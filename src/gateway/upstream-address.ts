import { BlockList, isIP } from 'node:net';

/**
 * Addresses a provider call must never reach: link-local ranges, where every cloud puts its
 * instance metadata service (169.254.169.254 on AWS, GCP, Azure and OCI; 169.254.170.2 for ECS
 * task credentials), and the metadata addresses outside them (AWS's IPv6 fd00:ec2::254,
 * Alibaba's 100.100.100.200). A credential's base URL pointing there would let whoever can edit
 * credentials read the host's cloud credentials through the gateway.
 *
 * Loopback and private ranges (127/8, 10/8, 172.16/12, 192.168/16, fc00::/7) stay allowed:
 * self-hosted models (vLLM, Ollama) on the same host or network are a core use of Tollgate.
 */
const REFUSED = new BlockList();
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
REFUSED.addAddress('100.100.100.200', 'ipv4');
REFUSED.addSubnet('fe80::', 10, 'ipv6');
REFUSED.addAddress('fd00:ec2::254', 'ipv6');

/** Host names of metadata services, refused by name before any lookup. */
const REFUSED_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data']);

/** The process-wide policy; `TOLLGATE_ALLOW_LINK_LOCAL_UPSTREAMS=true` lifts it. */
const policy = { allowLinkLocal: false };

export function allowLinkLocalUpstreams(allow: boolean): void {
  policy.allowLinkLocal = allow;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address. */
function embeddedIpv4(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = Number.parseInt(match[2] ?? '0', 16);
  const low = Number.parseInt(match[3] ?? '0', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True when an IP address (v4 or v6, without brackets) is link-local or a metadata address. */
export function isRefusedAddress(address: string): boolean {
  if (policy.allowLinkLocal) return false;
  const family = isIP(address);
  if (family === 4) return REFUSED.check(address, 'ipv4');
  if (family !== 6) return false;
  const inner = embeddedIpv4(address.toLowerCase());
  return inner !== undefined ? REFUSED.check(inner, 'ipv4') : REFUSED.check(address, 'ipv6');
}

/** True when a host name or IP literal (brackets allowed) is refused without looking it up. */
export function isRefusedHost(host: string): boolean {
  if (policy.allowLinkLocal) return false;
  const bare = host
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  return REFUSED_NAMES.has(bare) || isRefusedAddress(bare);
}

export const REFUSAL_HINT =
  'link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200, metadata.google.internal) are refused; set TOLLGATE_ALLOW_LINK_LOCAL_UPSTREAMS=true to allow them';

/** Why a URL given in a credential may not be used, or undefined if it may. */
export function refusedUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (!isRefusedHost(url.hostname)) return undefined;
  return `${url.host}: ${REFUSAL_HINT}`;
}

/** A connection the guard stopped: the host resolved to, or was, a refused address. */
export class RefusedUpstreamAddress extends Error {
  override name = 'RefusedUpstreamAddress';
  readonly code = 'TG_UPSTREAM_ADDRESS_REFUSED';
  constructor(readonly host: string) {
    super(`the provider's address was refused: ${REFUSAL_HINT}`);
  }
}
