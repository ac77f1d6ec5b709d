// What each interaction step receives: the request, the interaction it belongs to, and the server's parts.
import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { DeviceCookies } from '../../security/device-cookie.ts';
import type { LoginThrottle } from '../../security/login-throttle.ts';
import type { PasswordHasher } from '../../security/password-hasher.ts';
import type { TenantStore } from '../../store/storage.ts';
import type { TenantSnapshot } from '../../tenant/tenant-snapshot.ts';
import type { Screen } from './render.ts';

export type InteractionDeps = {
  provider: () => Provider;
  tenant: TenantSnapshot;
  /** Users (and the rest of the tenant's storage). */
  users: TenantStore;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  devices: DeviceCookies;
  csrfSecret: string;
  signupEnabled: boolean;
  logger: Logger;
};

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export type Step = {
  req: Request;
  res: Response;
  details: Details;
  screen: Screen;
  deps: InteractionDeps;
};

/** Ends the interaction with `result` and sends the browser back to oidc-provider. */
export function finish(step: Step, result: Parameters<Provider['interactionFinished']>[2], merge = false) {
  return step.deps
    .provider()
    .interactionFinished(step.req, step.res, result, { mergeWithLastSubmission: merge });
}
