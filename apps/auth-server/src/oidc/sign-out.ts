// Sign-out at the server: when it may happen without asking, and what it ends.
import type { IncomingMessage } from 'node:http';
import type { Adapter, AdapterPayload, KoaContextWithOIDC } from 'oidc-provider';

/** Set by the HTTP layer on a request it forwards from Auth0's /v2/logout after checking client_id and returnTo. */
export const AUTH0_LOGOUT = Symbol('auth0 /v2/logout');

export const fromAuth0Logout = (req: IncomingMessage): boolean =>
  (req as IncomingMessage & { [AUTH0_LOGOUT]?: boolean })[AUTH0_LOGOUT] === true;

export function markAuth0Logout(req: IncomingMessage): void {
  (req as IncomingMessage & { [AUTH0_LOGOUT]?: boolean })[AUTH0_LOGOUT] = true;
}

/**
 * Sign out without a confirmation page only when the request comes from the application whose user is
 * signed in: Auth0's /v2/logout with a listed returnTo (Auth0's behaviour), or the standard end-session
 * endpoint with a registered return URL and an ID token (checked by oidc-provider) issued in this very
 * session: its user (`sub`) and its sign-in (`auth_time`; `sid` too when the token carries one). Anything
 * else asks (OIDC RP-Initiated Logout 1.0 §6): another user's ID token, or an old one of the same user,
 * must not sign the victim out.
 */
export function silentSignOut(ctx: KoaContextWithOIDC): boolean {
  if (fromAuth0Logout(ctx.req)) return true;
  const { client, params, session } = ctx.oidc;
  const hint = ctx.oidc.entities.IdTokenHint as
    | { payload?: { sub?: unknown; sid?: unknown; auth_time?: unknown; iat?: unknown } }
    | undefined;
  if (!client || !params?.post_logout_redirect_uri || !hint?.payload || !session?.accountId) return false;
  if (hint.payload.sub !== session.accountId) return false;
  // auth_time when the token has it; else it must have been issued since this session's sign-in.
  const signedInAt = session.authTime();
  const { auth_time: authTime, iat } = hint.payload as { auth_time?: unknown; iat?: unknown };
  if (
    authTime !== undefined
      ? authTime !== signedInAt
      : !(typeof iat === 'number' && iat >= (signedInAt ?? Infinity))
  ) {
    return false;
  }
  return hint.payload.sid === undefined || hint.payload.sid === session.sidFor(client.clientId);
}

type AdapterClass = new (model: string) => Adapter & { readonly model: string };

/**
 * oidc-provider keeps a grant alive across sign-out when it carries offline_access ("persistsLogout"), so
 * refresh tokens would outlive the sign-out. Here every sign-out at the server revokes the session's grants
 * and their refresh tokens: the flag is dropped whenever a session is read, and oidc-provider's end-session
 * then revokes every grant of the session.
 */
export function grantsEndAtSignOut(Base: AdapterClass): AdapterClass {
  return class extends Base {
    override async find(id: string): Promise<AdapterPayload | undefined> {
      const found = (await super.find(id)) ?? undefined;
      return this.model === 'Session' ? withoutPersistentLogout(found) : found;
    }

    override async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const found = (await super.findByUid(uid)) ?? undefined;
      return this.model === 'Session' ? withoutPersistentLogout(found) : found;
    }
  };
}

function withoutPersistentLogout(session: AdapterPayload | undefined): AdapterPayload | undefined {
  const authorizations = session?.authorizations as Record<string, Record<string, unknown>> | undefined;
  if (!session || !authorizations) return session;
  return {
    ...session,
    authorizations: Object.fromEntries(
      Object.entries(authorizations).map(([clientId, { persistsLogout: _, ...rest }]) => [clientId, rest]),
    ),
  };
}
