/**
 * Why an Azure credential could not be turned into an authenticated call:
 * - `misconfigured`: a setting or secret is missing or malformed (an administrator must fix it);
 * - `rejected`: Entra ID refused the client credentials (wrong secret, tenant or client id);
 * - `unreachable`: the token endpoint could not be reached or did not answer in time;
 * - `invalid-response`: the token endpoint answered with something that is not a token.
 *
 * Messages name the credential and what to check; they never contain a secret or a token.
 */
export type AzureCredentialFailure = 'misconfigured' | 'rejected' | 'unreachable' | 'invalid-response';

export class AzureCredentialError extends Error {
  override name = 'AzureCredentialError';
  constructor(
    readonly reason: AzureCredentialFailure,
    message: string,
    /** The token endpoint's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}
