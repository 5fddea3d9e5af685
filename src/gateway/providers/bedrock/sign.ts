import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { misconfigured } from '../shared/refusals.ts';
import type { ResolvedCredential } from '../types.ts';

/** Bedrock's SigV4 signing name (the runtime endpoint signs as "bedrock", not "bedrock-runtime"). */
export const SIGNING_SERVICE = 'bedrock';

export interface AwsKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
}

/** The AWS keys and region of a Bedrock credential, or a 502 `TG_ERR_PROVIDER_AUTH` naming what is missing. */
export function awsKeys(credential: ResolvedCredential): AwsKeys {
  const { accessKeyId, secretAccessKey, sessionToken } = credential.secrets;
  const region = credential.settings.region;
  const missing = [!accessKeyId && 'accessKeyId', !secretAccessKey && 'secretAccessKey', !region && 'region'].filter(
    Boolean,
  );
  if (missing.length > 0) {
    throw misconfigured(credential, `no ${missing.join(', ')}`);
  }
  // The region names the host: refuse anything that could point the call elsewhere.
  if (!/^[a-z0-9-]+$/.test(region!)) {
    throw misconfigured(credential, 'an invalid region');
  }
  return { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, region: region!, sessionToken };
}

/**
 * The headers of a SigV4-signed POST: the given headers plus `host`, `x-amz-date`,
 * `x-amz-content-sha256` (the SHA-256 of exactly `body`), `x-amz-security-token` for temporary
 * credentials, and `authorization`. Every header returned is signed, `host` included, so the
 * caller must send them as they are and the body byte for byte.
 */
export async function signedHeaders(
  url: string,
  headers: Record<string, string>,
  body: string,
  keys: AwsKeys,
  signingDate: Date = new Date(),
): Promise<Record<string, string>> {
  const target = new URL(url);
  const signer = new SignatureV4({
    service: SIGNING_SERVICE,
    region: keys.region,
    credentials: {
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
      ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}),
    },
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers: { ...headers, host: target.host },
      body,
    },
    { signingDate },
  );
  return signed.headers as Record<string, string>;
}
