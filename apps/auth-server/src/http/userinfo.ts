// GET /userinfo for JWT access tokens: oidc-provider's own userinfo refuses any token that has an audience,
// yet Auth0 SPAs call /userinfo with the API access token. Opaque tokens go on to the provider.
// DPoP-bound tokens (RFC 9449) come with the DPoP scheme and a proof, checked by @calling-api/jwt-bearer.
import { InvalidDpopProofError, ReplayCache, verifyDpopProof } from '@calling-api/jwt-bearer';
import { type Response, Router } from 'express';
import { type createLocalJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { TenantStore } from '../store/storage.ts';
import type { TenantSnapshot } from '../tenant/tenant-snapshot.ts';

export type UserinfoDeps = {
  issuer: string;
  /** `<issuer>userinfo`: the second audience of Auth0-dialect access tokens. */
  userinfoAudience: string;
  tenant: TenantSnapshot;
  users: TenantStore;
  jwks: () => ReturnType<typeof createLocalJWKSet>;
};

const CREDENTIALS = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function bearerError(res: Response, status: number, error: string, description: string, scheme = 'Bearer') {
  res
    .status(status)
    .set(
      'WWW-Authenticate',
      `${scheme} realm="userinfo", error="${error}", error_description="${description}"`,
    )
    .json({ error, error_description: description });
}

export function userinfoRoute(deps: UserinfoDeps): Router {
  const router = Router();
  const replay = new ReplayCache();
  const url = `${deps.issuer.endsWith('/') ? deps.issuer : `${deps.issuer}/`}userinfo`;

  const cors = (origin: string | undefined, res: Response) => {
    if (origin && deps.tenant.current().webOrigins.has(origin)) {
      res.set('Access-Control-Allow-Origin', origin);
      res.vary('Origin');
      return true;
    }
    return false;
  };

  router.options('/userinfo', (req, res, next) => {
    if (!cors(req.get('origin'), res)) return next();
    res.set('Access-Control-Allow-Methods', 'GET');
    res.set('Access-Control-Allow-Headers', 'Authorization, DPoP');
    res.set('Access-Control-Max-Age', '600');
    res.status(204).end();
  });

  router.get('/userinfo', async (req, res, next) => {
    const [, scheme, token] = CREDENTIALS.exec(req.get('authorization') ?? '') ?? [];
    if (!token || !JWT_SHAPE.test(token)) return next();
    if (cors(req.get('origin'), res)) res.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
    res.set('Cache-Control', 'no-store');
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { typ },
      } = await jwtVerify(token, deps.jwks(), {
        issuer: deps.issuer,
        algorithms: ['RS256'],
      }));
    } catch {
      bearerError(res, 401, 'invalid_token', 'the access token is invalid or expired');
      return;
    }
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const tenant = await deps.tenant.fresh();
    // An RFC 9068 access token for one of our APIs, or one in Auth0's dialect (typ JWT) that names this
    // endpoint as an audience, as Auth0 requires; never an ID token (typ JWT, audience a client).
    const accepted =
      typ === 'at+jwt'
        ? aud.some((a) => typeof a === 'string' && tenant.api(a))
        : typ === 'JWT' && aud.includes(deps.userinfoAudience);
    const boundTo = (payload.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (scheme!.toLowerCase() === 'dpop' || boundTo !== undefined) {
      if (typeof boundTo !== 'string' || scheme!.toLowerCase() !== 'dpop') {
        bearerError(
          res,
          401,
          'invalid_token',
          'a DPoP-bound access token goes with the DPoP scheme and a proof, an unbound one with Bearer',
        );
        return;
      }
      try {
        await verifyDpopProof(
          { proof: req.headersDistinct.dpop, method: 'GET', url, accessToken: token, boundTo },
          { replay },
        );
      } catch (error) {
        if (!(error instanceof InvalidDpopProofError)) throw error;
        res.status(401).set(error.headers('userinfo')).json(error.body());
        return;
      }
    }
    if (!accepted) {
      bearerError(res, 401, 'invalid_token', 'the access token is not for an API of this issuer');
      return;
    }
    const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ') : []);
    if (!scopes.has('openid')) {
      bearerError(res, 403, 'insufficient_scope', 'the access token was not granted the openid scope');
      return;
    }
    const user = typeof payload.sub === 'string' ? await deps.users.findUserById(payload.sub) : undefined;
    if (!user) {
      bearerError(res, 401, 'invalid_token', 'the user no longer exists');
      return;
    }
    res.json({
      sub: user.id,
      ...(scopes.has('profile') ? { name: user.name, nickname: user.email.split('@')[0] } : {}),
      ...(scopes.has('email') ? { email: user.email, email_verified: false } : {}),
    });
  });

  return router;
}
