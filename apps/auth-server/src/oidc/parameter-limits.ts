// Length limits on every parameter of an authorization request (AUTHORIZE_POLICY): a request that sends
// a 6 KB `state` is refused with invalid_request before oidc-provider stores anything for it. They run
// as oidc-provider's extraParams validators, after its own checks of the client and redirect_uri, so
// the refusal goes back to a verified redirect_uri as any other OAuth error would.
import { type Client, errors, type KoaContextWithOIDC } from 'oidc-provider';
import { AUTHORIZE_POLICY, type AuthorizePolicy } from '../security/abuse-policy.ts';

type Validator = (ctx: KoaContextWithOIDC, value: string | undefined, client: Client) => void | Promise<void>;

/**
 * `validators` (oidc-provider's extraParams, null for "no validation"), each run after one check of
 * all the request's parameters, whichever oidc-provider recognises: new ones are covered as well.
 */
export function withParameterLimits(
  validators: Record<string, Validator | null>,
  policy: AuthorizePolicy = AUTHORIZE_POLICY,
): Record<string, Validator> {
  const checked = new WeakSet<object>();
  const limited =
    (validate: Validator | null): Validator =>
    async (ctx, value, client) => {
      if (!checked.has(ctx)) {
        checked.add(ctx);
        refuseOversized(ctx.oidc.params ?? {}, policy);
      }
      await validate?.(ctx, value, client);
    };
  return Object.fromEntries(Object.entries(validators).map(([name, v]) => [name, limited(v)]));
}

function refuseOversized(params: Record<string, unknown>, policy: AuthorizePolicy): void {
  let total = 0;
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const bytes = [value].flat().reduce((sum: number, v) => sum + Buffer.byteLength(String(v)), 0);
    const max = policy.longerParameters[name] ?? policy.maxParameterBytes;
    if (bytes > max) throw new errors.InvalidRequest(`${name} is longer than ${max} bytes`);
    total += bytes;
  }
  if (total > policy.maxTotalBytes) {
    throw new errors.InvalidRequest(`the parameters are longer than ${policy.maxTotalBytes} bytes together`);
  }
}
