/** Dashboard sessions for suites: sign in over HTTP, then call the admin API with the cookie. */
export interface Session {
  cookie: string;
  csrf: string;
}

export interface SignedIn extends Session {
  status: number;
  body: any;
}

/** Signs in; `headers` lets a suite pose as a client behind a proxy (X-Forwarded-For). */
export async function signIn(
  url: string,
  email: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<SignedIn> {
  const response = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email, password }),
  });
  const setCookie = response.headers.get('set-cookie') ?? '';
  const body = await response.json();
  return { status: response.status, body, cookie: setCookie.split(';')[0] ?? '', csrf: body.csrfToken };
}

/** An admin API call made with a session's cookie and CSRF token. */
export async function asSession<T = any>(
  url: string,
  session: Session,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrf,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
