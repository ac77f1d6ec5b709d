// Verifier options from the environment: ISSUER_BASE_URL / AUDIENCE / JWKS_URI, or, for a
// hosted Auth0 tenant, AUTH0_DOMAIN / AUTH0_AUDIENCE (which also selects the Auth0 profile).
import type { VerifierOptions } from './verifier.ts';

export type BearerEnv = Readonly<Record<string, string | undefined>>;

const present = (value: string | undefined): string | undefined =>
  value !== undefined && value.trim() !== '' ? value.trim() : undefined;

/** Throws a TypeError naming the missing variable; the caller decides whether defaults apply. */
export function optionsFromEnv(env: BearerEnv = process.env): VerifierOptions {
  const domain = present(env['AUTH0_DOMAIN']);
  if (domain !== undefined) {
    const host = domain.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    const audience = present(env['AUTH0_AUDIENCE']) ?? present(env['AUDIENCE']);
    if (audience === undefined) throw new TypeError('AUTH0_DOMAIN is set but AUTH0_AUDIENCE is missing');
    // Auth0's issuer is "https://<domain>/", trailing slash included.
    return {
      issuerBaseURL: `https://${host}/`,
      audience,
      profile: 'auth0',
      jwksUri: present(env['JWKS_URI']),
      issuer: present(env['JWKS_URI']) !== undefined ? `https://${host}/` : undefined,
    };
  }
  const issuerBaseURL = present(env['ISSUER_BASE_URL']);
  const audience = present(env['AUDIENCE']);
  if (issuerBaseURL === undefined) throw new TypeError('ISSUER_BASE_URL is missing');
  if (audience === undefined) throw new TypeError('AUDIENCE is missing');
  return { issuerBaseURL, audience, jwksUri: present(env['JWKS_URI']) };
}
