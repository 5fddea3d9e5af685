import { and, eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { TollgateError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { memberships, organizations, users } from '../store/schema.ts';
import { SignInThrottle } from './attempts.ts';
import { ConcurrencyGate } from './concurrency-gate.ts';
import { createOwner, hasOwner, setupTokenMatches } from './first-owner.ts';
import { passwordProblem, verifyPassword } from './passwords.ts';
import { SESSION_COOKIE, SESSION_TTL_MS, type Sessions } from './sessions.ts';

const SignIn = Type.Object({
  email: Type.String({ minLength: 3, maxLength: 320 }),
  password: Type.String({ minLength: 1, maxLength: 1000 }),
});
const Setup = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 200 }),
  email: Type.String({ format: 'email', maxLength: 320 }),
  password: Type.String({ minLength: 1, maxLength: 1000 }),
  name: Type.Optional(Type.String({ maxLength: 200 })),
});

interface AuthContext {
  db: Db;
  sessions: Sessions;
  orgId: string;
  clock: () => number;
}

/** Dashboard sign-in: email and password, a session cookie, first-owner set-up. */
export function authRoutes(app: FastifyInstance, ctx: AuthContext): void {
  const throttle = new SignInThrottle();
  // Password checks at once: two, and a few more waiting; the rest are refused at once (503).
  const passwordChecks = new ConcurrencyGate(2, 8);
  const tags = ['auth'];

  async function startSession(request: FastifyRequest, reply: FastifyReply, userId: string) {
    const session = await ctx.sessions.create(userId, ctx.orgId);
    reply.setCookie(SESSION_COOKIE, session.token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: request.protocol === 'https',
      maxAge: SESSION_TTL_MS / 1000,
    });
    return me(session.token);
  }

  async function me(token: string | undefined) {
    const session = await ctx.sessions.find(token);
    if (!session) throw new TollgateError('TG_ERR_ADMIN_UNAUTHORIZED');
    const [org] = await ctx.db.select().from(organizations).where(eq(organizations.id, session.orgId));
    return {
      user: { id: session.userId, email: session.email, name: session.name, role: session.role },
      organization: { id: org?.id, name: org?.name },
      csrfToken: session.csrfToken,
    };
  }

  app.get(
    '/api/auth/status',
    { schema: { tags, summary: 'Whether the first owner still has to be set up' } },
    async () => ({
      setupRequired: !(await hasOwner(ctx.db, ctx.orgId)),
    }),
  );

  app.get(
    '/api/auth/me',
    { schema: { tags, summary: 'The signed-in user, organisation and CSRF token' } },
    async (request) => me(request.cookies[SESSION_COOKIE]),
  );

  app.post<{ Body: Static<typeof SignIn> }>(
    '/api/auth/login',
    { schema: { tags, summary: 'Sign in with email and password; sets the session cookie', body: SignIn } },
    async (request, reply) => {
      const email = request.body.email.trim().toLowerCase();
      // The client's address: the socket's peer, or X-Forwarded-For's from a trusted proxy.
      const address = request.ip;
      const now = ctx.clock();
      // The cheap check first: a throttled client costs no database query and no scrypt.
      const wait = throttle.wait(address, email, now);
      if (wait > 0) {
        throw new TollgateError('TG_ERR_SIGN_IN_THROTTLED', wait).withHeaders({ 'retry-after': String(wait) });
      }
      const [row] = await ctx.db
        .select({ id: users.id, passwordHash: users.passwordHash })
        .from(users)
        .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.orgId, ctx.orgId)))
        .where(eq(users.email, email))
        .limit(1);
      const checking = passwordChecks.run(() => verifyPassword(request.body.password, row?.passwordHash ?? null));
      if (!checking) throw new TollgateError('TG_ERR_SIGN_IN_BUSY').withHeaders({ 'retry-after': '1' });
      const valid = await checking;
      if (!row || !valid) {
        throttle.failed(address, email, now);
        throw new TollgateError('TG_ERR_SIGN_IN_FAILED');
      }
      throttle.succeeded(address, email);
      return startSession(request, reply, row.id);
    },
  );

  app.post('/api/auth/logout', { schema: { tags, summary: 'Sign out: ends the session' } }, async (request, reply) => {
    await ctx.sessions.destroy(request.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { signedOut: true };
  });

  app.post<{ Body: Static<typeof Setup> }>(
    '/api/auth/setup',
    { schema: { tags, summary: 'Create the first owner with the one-time set-up link', body: Setup } },
    async (request, reply) => {
      if ((await hasOwner(ctx.db, ctx.orgId)) || !(await setupTokenMatches(ctx.db, request.body.token))) {
        throw new TollgateError('TG_ERR_SETUP_CLOSED');
      }
      const problem = passwordProblem(request.body.password);
      if (problem) throw new TollgateError('TG_ERR_INVALID_REQUEST', problem);
      const userId = await createOwner(
        ctx.db,
        ctx.orgId,
        request.body.email.toLowerCase(),
        request.body.password,
        request.body.name,
      );
      return startSession(request, reply, userId);
    },
  );
}
