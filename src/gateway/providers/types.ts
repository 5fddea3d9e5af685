/** A field of a credential form: secret fields are encrypted and never shown again. */
export interface CredentialField {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
  /** Shown as a placeholder and used when the field is left empty. */
  default?: string;
}

export interface AuthMethod {
  id: string;
  label: string;
  fields: CredentialField[];
}

/** Everything Tollgate knows about reaching one provider, declared as data. */
export interface ProviderSpec {
  id: string;
  label: string;
  /**
   * The wire format spoken. OpenAI-format providers are passed through untouched behind the
   * OpenAI front door; the others are translated by their adapter.
   */
  format: 'openai' | 'anthropic' | 'gemini' | 'bedrock';
  authMethods: AuthMethod[];
  /**
   * Capabilities the gateway may route to this provider. `responses`: it serves OpenAI's
   * Responses API itself, so that door's bodies pass through untouched.
   */
  endpoints: Array<'chat' | 'embeddings' | 'responses'>;
}

/** A credential as the data plane holds it: decrypted, in memory only. */
export interface ResolvedCredential {
  id: string;
  name: string;
  provider: string;
  authMethod: string;
  secrets: Record<string, string>;
  settings: Record<string, string>;
}

/** An upstream HTTP call, ready to send. */
export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
}
