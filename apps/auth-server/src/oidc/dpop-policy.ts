// Which APIs take sender-constrained (DPoP) tokens: an API that only understands bearer tokens would treat a
// bound token as a bearer one, and an API that requires binding must never be sent an unbound token.
import { errors } from 'oidc-provider';
import type { ApiDefinition } from '../tenant/tenant-schema.ts';

/** At the token endpoint, after oidc-provider has verified any DPoP proof (RFC 9449 §4.3). */
export function requireDpopPolicy(api: Pick<ApiDefinition, 'identifier' | 'dpop'>, proofSent: boolean): void {
  if (api.dpop === 'required' && !proofSent) {
    throw new errors.InvalidRequest(`${api.identifier} accepts only DPoP-bound tokens: send a DPoP proof`);
  }
  if (api.dpop === 'off' && proofSent) {
    throw new errors.InvalidRequest(`${api.identifier} does not accept DPoP-bound tokens`);
  }
}
