// The one place that turns a step's outcome into a response: a page, a refusal page, or the form again.
import type { Response } from 'express';
import { consentPage, loginPage, messagePage, signupPage } from '../views.ts';
import { FormError, PageError } from './errors.ts';

/** What every page of one interaction shows. */
export type Screen = { uid: string; csrf: string; clientName: string; signupEnabled: boolean };

export type View =
  | { page: 'login'; screen: Screen; email?: string; error?: string }
  | { page: 'signup'; screen: Screen; email?: string; name?: string; error?: string }
  | { page: 'consent'; screen: Screen; user: string; scopes: { value: string; description: string }[] }
  | { page: 'message'; title: string; text: string };

/** The form a step's FormError shows again, with the fields that were sent. */
export type FormKind = 'login' | 'signup';

export function render(res: Response, view: View, status = 200, retryAfterSeconds?: number): void {
  res.status(status).type('html');
  if (retryAfterSeconds !== undefined) res.set('Retry-After', String(retryAfterSeconds));
  res.send(html(view));
}

export function renderError(
  res: Response,
  err: PageError | FormError,
  form?: { kind: FormKind; screen: Screen; body: Record<string, unknown> },
): void {
  if (err instanceof FormError && form) {
    const text = (name: string) => (typeof form.body[name] === 'string' ? (form.body[name] as string) : '');
    const view: View =
      form.kind === 'login'
        ? { page: 'login', screen: form.screen, email: text('email').trim(), error: err.message }
        : {
            page: 'signup',
            screen: form.screen,
            email: text('email'),
            name: text('name'),
            error: err.message,
          };
    render(res, view, err.status, err.retryAfterSeconds);
    return;
  }
  const title = err instanceof PageError ? err.title : 'Request refused';
  render(res, { page: 'message', title, text: err.message }, err.status, undefined);
}

function html(view: View): string {
  switch (view.page) {
    case 'login':
      return loginPage({
        uid: view.screen.uid,
        csrf: view.screen.csrf,
        clientName: view.screen.clientName,
        signup: view.screen.signupEnabled,
        ...(view.email ? { email: view.email } : {}),
        ...(view.error ? { error: view.error } : {}),
      });
    case 'signup':
      return signupPage({
        uid: view.screen.uid,
        csrf: view.screen.csrf,
        clientName: view.screen.clientName,
        ...(view.email ? { email: view.email } : {}),
        ...(view.name ? { name: view.name } : {}),
        ...(view.error ? { error: view.error } : {}),
      });
    case 'consent':
      return consentPage({ ...view.screen, user: view.user, scopes: view.scopes });
    case 'message':
      return messagePage(view.title, view.text);
  }
}
