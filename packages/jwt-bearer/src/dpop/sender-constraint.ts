// RFC 9449 §7: whether a verified access token came the way its binding says. A token bound to a key
// (`cnf.jkt`) is good only with the DPoP scheme and a proof by that key; an unbound one only as a bearer
// token; and an API may take DPoP-bound tokens only, both, or none.
import { type AuthScheme, InvalidTokenError } from '../errors.ts';
import { type DpopCheckOptions, type DpopRequest, verifyDpopProof } from './proof.ts';
import { ReplayCache } from './replay-cache.ts';

/** `required`: DPoP-bound tokens only; `allowed`: either kind; `off`: bearer tokens only (the DPoP scheme is unknown). */
export type DpopMode = 'required' | 'allowed' | 'off';

export type DpopSettings = Partial<Omit<DpopCheckOptions, 'replay'>> & {
  mode?: DpopMode;
  /** Proofs seen recently (per process); default one bounded in-memory cache. */
  replay?: ReplayCache;
};

export type SenderConstraint = {
  readonly mode: DpopMode;
  /** The schemes a request may use, in the order challenges list them. */
  readonly schemes: readonly AuthScheme[];
  /** Throws when the token did not come the way its binding and the API's mode allow. */
  check(
    scheme: AuthScheme,
    payload: Record<string, unknown>,
    request: () => Omit<DpopRequest, 'boundTo'>,
  ): void;
};

const BOUND_AS_BEARER = new InvalidTokenError(
  'The access token is bound to a DPoP key: send it with the DPoP scheme and a proof.',
  'ERR_DPOP_BOUND_AS_BEARER',
);
const NOT_BOUND = new InvalidTokenError(
  'The access token is not bound to a DPoP key: send it with the Bearer scheme.',
  'ERR_DPOP_NOT_BOUND',
);
const REQUIRED = new InvalidTokenError(
  'This API accepts only DPoP-bound access tokens.',
  'ERR_DPOP_REQUIRED',
);

export function senderConstraint(settings: DpopSettings = {}): SenderConstraint {
  const mode = settings.mode ?? 'off';
  if (!['required', 'allowed', 'off'].includes(mode))
    throw new TypeError(`unknown DPoP mode ${String(mode)}`);
  const options: DpopCheckOptions = { ...settings, replay: settings.replay ?? new ReplayCache() };
  const schemes: AuthScheme[] =
    mode === 'off' ? ['Bearer'] : mode === 'required' ? ['DPoP'] : ['Bearer', 'DPoP'];
  return {
    mode,
    schemes,
    check(scheme, payload, request) {
      const jkt = (payload['cnf'] as { jkt?: unknown } | undefined)?.jkt;
      if (scheme === 'Bearer') {
        // A bound token presented as a bearer one is a copy: the holder of the key would send a proof
        // (refused in every mode: an API that does not take DPoP must not take bound tokens as bearers).
        if (jkt !== undefined) throw BOUND_AS_BEARER;
        if (mode === 'required') throw REQUIRED;
        return;
      }
      if (typeof jkt !== 'string') throw NOT_BOUND;
      verifyDpopProof({ ...request(), boundTo: jkt }, options);
    },
  };
}

/**
 * The schemes to challenge with for a refusal: every scheme the API takes when the request brought no
 * credentials (RFC 9110 §11.6.1), the scheme the token must move to for a binding refusal, else the
 * scheme the request used.
 */
export function challengeSchemes(
  code: string,
  used: AuthScheme | undefined,
  constraint: SenderConstraint,
): readonly AuthScheme[] {
  if (code === 'ERR_BEARER_MISSING') return constraint.schemes;
  if (code === 'ERR_DPOP_BOUND_AS_BEARER' || code === 'ERR_DPOP_REQUIRED') return ['DPoP'];
  if (code === 'ERR_DPOP_NOT_BOUND') return constraint.mode === 'required' ? ['DPoP'] : ['Bearer'];
  return [used ?? 'Bearer'];
}
