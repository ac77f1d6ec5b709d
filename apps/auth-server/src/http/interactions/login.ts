// POST /interaction/:uid/login: one password check, admitted by the throttle first (login-throttle.ts)
// and hashed on the password threads (password-hasher.ts). Unknown users cost the same work and get the
// same answer as a wrong password.
import { z } from 'zod';
import type { Refusal } from '../../security/login-throttle.ts';
import { networkOf } from '../../security/network.ts';
import { HashingBusy } from '../../security/password-hasher.ts';
import { needsRehash } from '../../security/passwords.ts';
import { FormError, ServerBusy, UnexpectedStep } from './errors.ts';
import { finish, type Step } from './step.ts';

const loginForm = z.object({ email: z.string().trim().max(320), password: z.string().max(1024) });

const WRONG = 'Wrong email or password.';
const BLOCKED = 'This account is blocked. Ask your administrator to unblock it.';
const REFUSED: Record<Refusal['reason'], string> = {
  locked: 'Too many failed attempts. Wait a few minutes and try again.',
  rate: 'Too many sign-in attempts for this account. Wait a few seconds and try again.',
  busy: 'Too many sign-in attempts at once. Wait a moment and try again.',
};

export async function login(step: Step): Promise<void> {
  const { req, details, deps } = step;
  if (details.prompt.name !== 'login') throw new UnexpectedStep();
  const form = loginForm.safeParse(req.body);
  if (!form.success || form.data.email === '' || form.data.password === '') {
    throw new FormError(400, 'Enter your email and password.');
  }
  const { email, password } = form.data;
  // A full queue refuses before the throttle's bookkeeping: a flood then costs as little as possible.
  if (deps.hasher.full) throw new ServerBusy();
  const user = await deps.users.findUserByEmail(email);
  const network = networkOf(req.ip);
  const device = user ? deps.devices.verify(req, user.id) : undefined;

  const admission = await deps.throttle.admit({ email, network, ...(device ? { device } : {}) });
  if (!admission.admitted) {
    const { reason, retryAfterSeconds } = admission.refusal;
    deps.logger.warn({ network, reason }, 'login refused: throttled');
    throw new FormError(429, REFUSED[reason], retryAfterSeconds);
  }
  let outcome: 'succeeded' | 'failed' | 'unchecked' = 'unchecked';
  try {
    outcome = (await deps.hasher.verify(password, user?.passwordHash)) && user ? 'succeeded' : 'failed';
  } catch (err) {
    if (!(err instanceof HashingBusy)) throw err;
    deps.logger.warn({ network }, 'login refused: password hashing queue full');
    throw new ServerBusy();
  } finally {
    await deps.throttle.settle(admission.ticket, outcome);
  }
  if (outcome !== 'succeeded' || !user) {
    deps.logger.info({ network }, 'login failed');
    throw new FormError(401, WRONG);
  }
  // Said only to someone who knows the password, as Auth0 does: the account exists, and it is blocked.
  if (user.blocked) {
    deps.logger.info({ userId: user.id }, 'login refused: user blocked');
    throw new FormError(401, BLOCKED);
  }
  if (needsRehash(user.passwordHash)) await upgradeHash(step, user.id, password);
  deps.devices.issue(req, step.res, user.id);
  await finish(step, { login: { accountId: user.id, amr: ['pwd'], remember: true } });
}

/** The password is at hand only now: store it under today's hash parameters (later, if the threads are busy). */
async function upgradeHash({ deps }: Step, userId: string, password: string): Promise<void> {
  try {
    await deps.users.updatePasswordHash(userId, await deps.hasher.hash(password));
    deps.logger.info({ userId }, 'password hash upgraded');
  } catch (err) {
    if (!(err instanceof HashingBusy)) throw err;
  }
}
