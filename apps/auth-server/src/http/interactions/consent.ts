// POST /interaction/:uid/confirm: the user accepts what the application asked for; the grant records it.
import { allowedScopes, permissionsOf } from '../../oidc/rbac-policy.ts';
import { fromResource } from '../../oidc/resources.ts';
import { PageError, UnexpectedStep } from './errors.ts';
import { finish, type Step } from './step.ts';

type Missing = {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
};

const OIDC_SCOPE_TEXT: Record<string, string> = {
  profile: 'Your name and nickname',
  email: 'Your email address',
  offline_access: 'Stay signed in (refresh tokens)',
};

/** The scopes to show on the consent page: the requested API scopes this user may receive, with descriptions. */
export async function consentScopes({ details, deps }: Step, userId: string) {
  const view = await deps.tenant.fresh();
  const roles = await deps.users.userRoles(userId);
  const out: { value: string; description: string }[] = [];
  for (const s of String(details.params.scope ?? '').split(' ')) {
    const description = OIDC_SCOPE_TEXT[s];
    if (description) out.push({ value: s, description });
  }
  const missing = details.prompt.details as Missing;
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    const api = view.api(fromResource(resource));
    if (!api) continue;
    const permissions = permissionsOf(view, roles, api.identifier);
    const allowed = allowedScopes(api, { kind: 'user', permissions }) ?? [];
    for (const s of api.scopes) if (scopes.includes(s.value) && allowed.includes(s.value)) out.push(s);
  }
  return out;
}

export async function confirm(step: Step): Promise<void> {
  const { details } = step;
  const accountId = details.session?.accountId;
  if (details.prompt.name !== 'consent' || !accountId) throw new UnexpectedStep();
  const provider = step.deps.provider();
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  if (!grant) throw new PageError(400, 'Sign-in expired', 'Return to the application and start again.');
  const missing = details.prompt.details as Missing;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  await finish(step, { consent: { grantId: await grant.save() } }, true);
}
