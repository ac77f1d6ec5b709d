// POST /interaction/:uid/signup: a new account, counted per network before any work (login-throttle.ts),
// its password hashed on the password threads.
import { z } from 'zod';
import { networkOf } from '../../security/network.ts';
import { HashingBusy } from '../../security/password-hasher.ts';
import type { UserRecord } from '../../store/storage.ts';
import { registerUser, TenantAdminError } from '../../tenant/tenant-admin.ts';
import { PASSWORD_MIN_LENGTH, passwordSchema } from '../../tenant/tenant-schema.ts';
import { FormError, ServerBusy, SignupOff } from './errors.ts';
import { finish, type Step } from './step.ts';

const signupForm = z.object({
  name: z.string().trim().max(200).optional(),
  email: z.string().trim().email().max(320),
  password: passwordSchema,
});

export async function signup(step: Step): Promise<void> {
  const { req, details, deps } = step;
  if (!deps.signupEnabled || details.prompt.name !== 'login') throw new SignupOff();
  // Every attempt counts, before any work: sign-up must not create accounts in bulk, nor test
  // whether many emails are registered (its answer for a taken email says so, as Auth0's does).
  if (deps.hasher.full) throw new ServerBusy();
  const network = networkOf(req.ip);
  const admission = await deps.throttle.admitSignup(network);
  if (!admission.admitted) {
    deps.logger.warn({ network }, 'sign-up refused: throttled');
    throw new FormError(
      429,
      'Too many sign-ups from your network. Wait a few minutes and try again.',
      admission.refusal.retryAfterSeconds,
    );
  }
  const form = signupForm.safeParse(req.body);
  if (!form.success)
    throw new FormError(
      400,
      `Enter a valid email and a password of at least ${PASSWORD_MIN_LENGTH} characters.`,
    );
  const { email, password } = form.data;
  if (password.toLowerCase().includes(email.split('@')[0]!.toLowerCase())) {
    throw new FormError(400, 'Choose a password that does not contain your email.');
  }
  let user: UserRecord;
  try {
    user = await registerUser(
      deps.users,
      { email, name: form.data.name || email.split('@')[0]!, password },
      (pw) => deps.hasher.hash(pw),
    );
  } catch (err) {
    if (err instanceof HashingBusy) throw new ServerBusy();
    if (!(err instanceof TenantAdminError)) throw err;
    throw new FormError(400, 'This email cannot be used to sign up. Sign in instead.');
  }
  deps.logger.info({ userId: user.id }, 'user signed up');
  deps.devices.issue(req, step.res, user.id);
  await finish(step, { login: { accountId: user.id, amr: ['pwd'] } });
}
