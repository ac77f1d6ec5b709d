// The hosted login, sign-up and consent pages on oidc-provider's interaction API.
import express, { type Request, type Response, Router } from 'express';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { z } from 'zod';
import { allowedScopes, permissionsOf } from '../oidc/rbac-policy.ts';
import { fromResource } from '../oidc/resources.ts';
import { csrfToken, csrfValid } from '../security/csrf.ts';
import type { LoginThrottle } from '../security/login-throttle.ts';
import { hashPassword, needsRehash, verifyPassword } from '../security/passwords.ts';
import { isStoreUnavailable, type TenantStore, type UserRecord } from '../store/storage.ts';
import { registerUser, TenantAdminError } from '../tenant/tenant-admin.ts';
import { PASSWORD_MIN_LENGTH, passwordSchema } from '../tenant/tenant-schema.ts';
import type { TenantSnapshot } from '../tenant/tenant-snapshot.ts';
import { consentPage, loginPage, messagePage, signupPage } from './views.ts';

export type InteractionDeps = {
  provider: () => Provider;
  tenant: TenantSnapshot;
  users: TenantStore;
  throttle: LoginThrottle;
  csrfSecret: string;
  signupEnabled: boolean;
  logger: Logger;
};

const GENERIC_LOGIN_ERROR = 'Wrong email or password.';
const LOCKED_ERROR = 'Too many failed attempts. Wait a few minutes and try again.';
const BUSY_ERROR = 'Too many sign-in attempts at once. Wait a moment and try again.';
const SIGNUP_LOCKED_ERROR = 'Too many sign-ups from your network. Wait a few minutes and try again.';

const loginForm = z.object({ email: z.string().trim().max(320), password: z.string().max(1024) });
const signupForm = z.object({
  name: z.string().trim().max(200).optional(),
  email: z.string().trim().email().max(320),
  password: passwordSchema,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function interactionRoutes(deps: InteractionDeps): Router {
  const { tenant, users, throttle, csrfSecret, logger } = deps;
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });

  router.use('/interaction', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    res.set('Pragma', 'no-cache');
    next();
  });

  /** Loads the interaction behind the cookie, checks it is the one in the URL; answers itself when not. */
  async function details(req: Request, res: Response) {
    try {
      const d = await deps.provider().interactionDetails(req, res);
      if (d.uid !== req.params.uid) throw new Error('uid mismatch');
      return d;
    } catch (err) {
      if (isStoreUnavailable(err)) throw err;
      res
        .status(400)
        .type('html')
        .send(
          messagePage(
            'Sign-in expired',
            'This sign-in page has expired or was opened in another browser. Return to the application and start again.',
          ),
        );
      return undefined;
    }
  }

  function csrfOk(req: Request, res: Response): boolean {
    if (
      csrfValid(csrfSecret, String(req.params.uid), (req.body as Record<string, unknown> | undefined)?._csrf)
    )
      return true;
    res
      .status(403)
      .type('html')
      .send(
        messagePage('Request refused', 'The form was not submitted from this site. Go back and try again.'),
      );
    return false;
  }

  const clientName = async (clientId: unknown) => {
    const client = typeof clientId === 'string' ? await deps.provider().Client.find(clientId) : undefined;
    return client?.clientName ?? (typeof clientId === 'string' ? clientId : 'the application');
  };

  router.get('/interaction/:uid', async (req, res) => {
    const d = await details(req, res);
    if (!d) return;
    const csrf = csrfToken(csrfSecret, d.uid);
    const name = await clientName(d.params.client_id);
    if (d.prompt.name === 'login') {
      // Auth0's screen_hint=signup opens the sign-up form; login_hint fills in the email.
      const email = typeof d.params.login_hint === 'string' ? d.params.login_hint : undefined;
      if (d.params.screen_hint === 'signup' && deps.signupEnabled) {
        res
          .type('html')
          .send(signupPage({ uid: d.uid, csrf, clientName: name, ...(email ? { email } : {}) }));
        return;
      }
      res.type('html').send(
        loginPage({
          uid: d.uid,
          csrf,
          clientName: name,
          signup: deps.signupEnabled,
          ...(email ? { email } : {}),
        }),
      );
      return;
    }
    if (d.prompt.name === 'consent') {
      const accountId = d.session?.accountId;
      const user = accountId ? await users.findUserById(accountId) : undefined;
      if (!user) {
        res
          .status(400)
          .type('html')
          .send(messagePage('Sign-in expired', 'Return to the application and start again.'));
        return;
      }
      res.type('html').send(
        consentPage({
          uid: d.uid,
          csrf,
          clientName: name,
          user: user.name,
          scopes: await consentScopes(d, user.id),
        }),
      );
      return;
    }
    res
      .status(400)
      .type('html')
      .send(messagePage('Unsupported step', 'Return to the application and start again.'));
  });

  /** The scopes to show on the consent page: the requested API scopes this user may receive, with descriptions. */
  async function consentScopes(d: Awaited<ReturnType<Provider['interactionDetails']>>, userId: string) {
    const view = await tenant.fresh();
    const roles = await users.userRoles(userId);
    const out: { value: string; description: string }[] = [];
    const oidc: Record<string, string> = {
      profile: 'Your name and nickname',
      email: 'Your email address',
      offline_access: 'Stay signed in (refresh tokens)',
    };
    const requested = String(d.params.scope ?? '').split(' ');
    for (const s of requested) if (oidc[s]) out.push({ value: s, description: oidc[s] });
    const details = d.prompt.details as { missingResourceScopes?: Record<string, string[]> };
    for (const [resource, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      const api = view.api(fromResource(resource));
      if (!api) continue;
      const permissions = permissionsOf(view, roles, api.identifier);
      const allowed = allowedScopes(api, { kind: 'user', permissions }) ?? [];
      for (const s of api.scopes) if (scopes.includes(s.value) && allowed.includes(s.value)) out.push(s);
    }
    return out;
  }

  router.post('/interaction/:uid/login', form, async (req, res) => {
    const d = await details(req, res);
    if (!d || !csrfOk(req, res)) return;
    if (d.prompt.name !== 'login') {
      res
        .status(400)
        .type('html')
        .send(messagePage('Unexpected step', 'Return to the application and start again.'));
      return;
    }
    const parsed = loginForm.safeParse(req.body);
    const email = parsed.success ? parsed.data.email : '';
    const csrf = csrfToken(csrfSecret, d.uid);
    const name = await clientName(d.params.client_id);
    const fail = (status: number, error: string) =>
      res
        .status(status)
        .type('html')
        .send(loginPage({ uid: d.uid, csrf, clientName: name, email, error, signup: deps.signupEnabled }));
    if (!parsed.success || email === '' || parsed.data.password === '') {
      fail(400, 'Enter your email and password.');
      return;
    }
    const address = req.ip ?? 'unknown';
    const verdict = throttle.admit(email, address); // holds a place before the slow hash: see admit()
    if (verdict.locked) {
      res.set('Retry-After', String(verdict.retryAfterSeconds));
      logger.warn({ address, reason: verdict.reason }, 'login refused: throttled');
      fail(429, verdict.reason === 'busy' ? BUSY_ERROR : LOCKED_ERROR);
      return;
    }
    let user: UserRecord | undefined;
    let ok = false;
    try {
      if (verdict.delayMs > 0) await sleep(verdict.delayMs);
      user = await users.findUserByEmail(email);
      // Unknown users cost the same hashing work and get the same message.
      ok = (await verifyPassword(parsed.data.password, user?.passwordHash)) && Boolean(user);
    } finally {
      throttle.settle(email, address, ok);
    }
    if (!ok || !user) {
      logger.info({ address }, 'login failed');
      fail(401, GENERIC_LOGIN_ERROR);
      return;
    }
    if (needsRehash(user.passwordHash)) {
      // The password is at hand only now: store it under today's hash parameters.
      await users.updatePasswordHash(user.id, await hashPassword(parsed.data.password));
      logger.info({ userId: user.id }, 'password hash upgraded');
    }
    await deps
      .provider()
      .interactionFinished(
        req,
        res,
        { login: { accountId: user.id, amr: ['pwd'], remember: true } },
        { mergeWithLastSubmission: false },
      );
  });

  router.get('/interaction/:uid/signup', async (req, res) => {
    const d = await details(req, res);
    if (!d) return;
    if (!deps.signupEnabled) {
      res.status(404).type('html').send(messagePage('Sign-up is off', 'This tenant does not allow sign-up.'));
      return;
    }
    res.type('html').send(
      signupPage({
        uid: d.uid,
        csrf: csrfToken(csrfSecret, d.uid),
        clientName: await clientName(d.params.client_id),
      }),
    );
  });

  router.post('/interaction/:uid/signup', form, async (req, res) => {
    const d = await details(req, res);
    if (!d || !csrfOk(req, res)) return;
    if (!deps.signupEnabled || d.prompt.name !== 'login') {
      res.status(404).type('html').send(messagePage('Sign-up is off', 'This tenant does not allow sign-up.'));
      return;
    }
    const body = req.body as Record<string, unknown>;
    const parsed = signupForm.safeParse(body);
    const name = await clientName(d.params.client_id);
    const again = (status: number, error: string) =>
      res
        .status(status)
        .type('html')
        .send(
          signupPage({
            uid: d.uid,
            csrf: csrfToken(csrfSecret, d.uid),
            clientName: name,
            email: typeof body.email === 'string' ? body.email : '',
            name: typeof body.name === 'string' ? body.name : '',
            error,
          }),
        );
    // Every attempt counts, before any work: sign-up must not create accounts in bulk, nor test
    // whether many emails are registered (its answer for a taken email says so, as Auth0's does).
    const address = req.ip ?? 'unknown';
    const verdict = throttle.admitSignup(address);
    if (verdict.locked) {
      res.set('Retry-After', String(verdict.retryAfterSeconds));
      logger.warn({ address }, 'sign-up refused: throttled');
      again(429, SIGNUP_LOCKED_ERROR);
      return;
    }
    if (!parsed.success) {
      again(400, `Enter a valid email and a password of at least ${PASSWORD_MIN_LENGTH} characters.`);
      return;
    }
    const { email, password } = parsed.data;
    if (password.toLowerCase().includes(email.split('@')[0]!.toLowerCase())) {
      again(400, 'Choose a password that does not contain your email.');
      return;
    }
    let user: UserRecord;
    try {
      user = await registerUser(users, { email, name: parsed.data.name || email.split('@')[0]!, password });
    } catch (err) {
      if (!(err instanceof TenantAdminError)) throw err;
      again(400, 'This email cannot be used to sign up. Sign in instead.');
      return;
    }
    logger.info({ userId: user.id }, 'user signed up');
    await deps
      .provider()
      .interactionFinished(
        req,
        res,
        { login: { accountId: user.id, amr: ['pwd'] } },
        { mergeWithLastSubmission: false },
      );
  });

  router.post('/interaction/:uid/confirm', form, async (req, res) => {
    const d = await details(req, res);
    if (!d || !csrfOk(req, res)) return;
    if (d.prompt.name !== 'consent' || !d.session?.accountId) {
      res
        .status(400)
        .type('html')
        .send(messagePage('Unexpected step', 'Return to the application and start again.'));
      return;
    }
    const provider = deps.provider();
    const grant = d.grantId
      ? await provider.Grant.find(d.grantId)
      : new provider.Grant({ accountId: d.session.accountId, clientId: String(d.params.client_id) });
    if (!grant) {
      res
        .status(400)
        .type('html')
        .send(messagePage('Sign-in expired', 'Return to the application and start again.'));
      return;
    }
    const missing = d.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  router.post('/interaction/:uid/abort', form, async (req, res) => {
    const d = await details(req, res);
    if (!d || !csrfOk(req, res)) return;
    await deps
      .provider()
      .interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'the user cancelled the sign-in' },
        { mergeWithLastSubmission: false },
      );
  });

  return router;
}
