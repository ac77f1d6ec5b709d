// GET /interaction/:uid: the page the current prompt needs (sign in, sign up, or consent), and the
// sign-up page behind the login page's link.
import { consentScopes } from './consent.ts';
import { PageError, SignupOff } from './errors.ts';
import { render } from './render.ts';
import type { Step } from './step.ts';

export async function showPrompt(step: Step): Promise<void> {
  const { details, screen, deps, res } = step;
  if (details.prompt.name === 'login') {
    // Auth0's screen_hint=signup opens the sign-up form; login_hint fills in the email.
    const email = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
    const page = details.params.screen_hint === 'signup' && deps.signupEnabled ? 'signup' : 'login';
    render(res, { page, screen, ...(email ? { email } : {}) });
    return;
  }
  if (details.prompt.name === 'consent') {
    const accountId = details.session?.accountId;
    const user = accountId ? await deps.users.findUserById(accountId) : undefined;
    if (!user) throw new PageError(400, 'Sign-in expired', 'Return to the application and start again.');
    render(res, { page: 'consent', screen, user: user.name, scopes: await consentScopes(step, user.id) });
    return;
  }
  throw new PageError(400, 'Unsupported step', 'Return to the application and start again.');
}

export async function showSignup(step: Step): Promise<void> {
  if (!step.deps.signupEnabled) throw new SignupOff();
  render(step.res, { page: 'signup', screen: step.screen });
}
