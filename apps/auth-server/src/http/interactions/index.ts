// The hosted login, sign-up and consent pages on oidc-provider's interaction API: routing, and what every
// step shares (the interaction behind the cookie, the CSRF check, the rendering of refusals). Each step
// is its own file.
import express, { type Request, type Response, Router } from 'express';
import { csrfToken, csrfValid } from '../../security/csrf.ts';
import { isStoreUnavailable } from '../../store/storage.ts';
import { abort } from './abort.ts';
import { confirm } from './consent.ts';
import { ForgedForm, FormError, InteractionExpired, PageError } from './errors.ts';
import { login } from './login.ts';
import { showPrompt, showSignup } from './prompt.ts';
import { type FormKind, renderError, type Screen } from './render.ts';
import { signup } from './signup.ts';
import type { Details, InteractionDeps, Step } from './step.ts';

export type { InteractionDeps } from './step.ts';

export function interactionRoutes(deps: InteractionDeps): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });

  router.use('/interaction', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    res.set('Pragma', 'no-cache');
    next();
  });

  /** Loads the interaction behind the cookie, checks it is the one in the URL, runs the step, renders refusals. */
  const step =
    (run: (step: Step) => Promise<void>, opts: { post?: boolean; form?: FormKind } = {}) =>
    async (req: Request, res: Response) => {
      let screen: Screen | undefined;
      try {
        const details = await loadDetails(deps, req, res);
        if (opts.post && !csrfValid(deps.csrfSecret, details.uid, (req.body as Body | undefined)?._csrf)) {
          throw new ForgedForm();
        }
        screen = {
          uid: details.uid,
          csrf: csrfToken(deps.csrfSecret, details.uid),
          clientName: await clientName(deps, details.params.client_id),
          signupEnabled: deps.signupEnabled,
        };
        await run({ req, res, details, screen, deps });
      } catch (err) {
        if (!(err instanceof PageError || err instanceof FormError)) throw err;
        const refill =
          opts.form && screen ? { kind: opts.form, screen, body: (req.body ?? {}) as Body } : undefined;
        renderError(res, err, refill);
      }
    };

  router.get('/interaction/:uid', step(showPrompt));
  router.get('/interaction/:uid/signup', step(showSignup));
  router.post('/interaction/:uid/login', form, step(login, { post: true, form: 'login' }));
  router.post('/interaction/:uid/signup', form, step(signup, { post: true, form: 'signup' }));
  router.post('/interaction/:uid/confirm', form, step(confirm, { post: true }));
  router.post('/interaction/:uid/abort', form, step(abort, { post: true }));
  return router;
}

type Body = Record<string, unknown>;

async function loadDetails(deps: InteractionDeps, req: Request, res: Response): Promise<Details> {
  try {
    const details = await deps.provider().interactionDetails(req, res);
    if (details.uid === req.params.uid) return details;
  } catch (err) {
    // A database outage is a 503 (app.ts), not an expired sign-in.
    if (isStoreUnavailable(err)) throw err;
    // otherwise: no interaction cookie, or it has expired
  }
  throw new InteractionExpired();
}

async function clientName(deps: InteractionDeps, clientId: unknown): Promise<string> {
  const client = typeof clientId === 'string' ? await deps.provider().Client.find(clientId) : undefined;
  return client?.clientName ?? (typeof clientId === 'string' ? clientId : 'the application');
}
