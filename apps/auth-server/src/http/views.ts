// Server-rendered hosted pages: plain HTML, no inline script or style (strict CSP), labelled controls.
// One stylesheet (public/hosted.css) in the SPA's look. A form shown again after an error puts
// focus on the field to fix (autofocus) and describes it with the error (aria-describedby), so a
// screen reader reads the field and what is wrong with it on arrival; the error is also an alert.
import { PASSWORD_MIN_LENGTH } from '../tenant/tenant-schema.ts';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** A fragment of HTML that is already escaped. */
export type Html = { html: string };
export const raw = (html: string): Html => ({ html });
export function html(
  strings: TemplateStringsArray,
  ...values: (string | number | Html | Html[] | undefined)[]
): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    if (Array.isArray(v)) out += v.map((x) => x.html).join('');
    else if (v === undefined) out += '';
    else if (typeof v === 'object') out += v.html;
    else out += escapeHtml(String(v));
    out += strings[i + 1]!;
  });
  return raw(out);
}

export function page(
  title: string,
  body: Html,
  opts: { script?: string; clientName?: string; error?: boolean } = {},
): string {
  // The tab and the screen reader's first words: what page, for which application, and whether it failed.
  const fullTitle = `${opts.error ? 'Error: ' : ''}${title}${opts.clientName ? ` · ${opts.clientName}` : ''}`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${fullTitle}</title>
<link rel="stylesheet" href="/assets/hosted.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${opts.script ? html`<script src="${opts.script}" defer></script>` : undefined}
</head>
<body>
<main class="card">
${body}
</main>
</body>
</html>
`.html;
}

/** The id the invalid field's aria-describedby points at. */
const ERROR_ID = 'form-error';

const alert = (message?: string) =>
  message ? html`<div id="${ERROR_ID}"><p class="alert" role="alert">${message}</p></div>` : undefined;

/** Attributes of a field: autofocus when it is the one to fill in, and marked invalid with the error when there is one. */
function fieldState(opts: { focus: boolean; invalid: boolean; hint?: string }): Html {
  const describedBy = [opts.invalid ? ERROR_ID : undefined, opts.hint].filter(Boolean).join(' ');
  return html`${opts.focus ? raw(' autofocus') : undefined}${opts.invalid ? raw(' aria-invalid="true"') : undefined}${describedBy ? html` aria-describedby="${describedBy}"` : undefined}`;
}

export function loginPage(p: {
  uid: string;
  csrf: string;
  clientName: string;
  email?: string;
  error?: string;
  signup: boolean;
}): string {
  // The password is never sent back, so after an error it is the field to fill in, unless the email is missing.
  const emailFirst = !p.email;
  const failed = Boolean(p.error);
  return page(
    'Sign in',
    html`<h1>Sign in</h1>
<p class="subtitle">to continue to <strong>${p.clientName}</strong></p>
${alert(p.error)}
<form method="post" action="/interaction/${p.uid}/login" novalidate>
<input type="hidden" name="_csrf" value="${p.csrf}">
<label>Email <input name="email" type="email" autocomplete="username" required value="${p.email ?? ''}"${fieldState({ focus: emailFirst, invalid: failed && emailFirst })}></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required${fieldState({ focus: !emailFirst, invalid: failed && !emailFirst })}></label>
<button type="submit">Continue</button>
</form>
${p.signup ? html`<p class="switch">No account? <a href="/interaction/${p.uid}/signup">Sign up</a></p>` : undefined}
<form method="post" action="/interaction/${p.uid}/abort" class="secondary">
<input type="hidden" name="_csrf" value="${p.csrf}">
<button type="submit" class="link">Cancel and return to the application</button>
</form>`,
    { clientName: p.clientName, error: failed },
  );
}

export function signupPage(p: {
  uid: string;
  csrf: string;
  clientName: string;
  email?: string;
  name?: string;
  error?: string;
}): string {
  // First visit: the name. After an error: the email if it is missing, else the password (never sent back).
  const failed = Boolean(p.error);
  const first = !failed ? 'name' : !p.email ? 'email' : 'password';
  return page(
    'Sign up',
    html`<h1>Sign up</h1>
<p class="subtitle">to continue to <strong>${p.clientName}</strong></p>
${alert(p.error)}
<form method="post" action="/interaction/${p.uid}/signup" novalidate>
<input type="hidden" name="_csrf" value="${p.csrf}">
<label>Name <input name="name" type="text" autocomplete="name" value="${p.name ?? ''}"${fieldState({ focus: first === 'name', invalid: false })}></label>
<label>Email <input name="email" type="email" autocomplete="username" required value="${p.email ?? ''}"${fieldState({ focus: first === 'email', invalid: first === 'email' })}></label>
<label>Password <input name="password" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}"${fieldState({ focus: first === 'password', invalid: first === 'password', hint: 'pw-rule' })}></label>
<p id="pw-rule" class="hint">At least ${PASSWORD_MIN_LENGTH} characters, and not the name in your email address.</p>
<button type="submit">Sign up</button>
</form>
<p class="switch">Have an account? <a href="/interaction/${p.uid}">Sign in</a></p>`,
    { clientName: p.clientName, error: failed },
  );
}

export function consentPage(p: {
  uid: string;
  csrf: string;
  clientName: string;
  user: string;
  scopes: { value: string; description: string }[];
}): string {
  return page(
    'Authorize application',
    html`<h1>Authorize ${p.clientName}</h1>
<p class="subtitle">Hi ${p.user}, <strong>${p.clientName}</strong> is requesting access to your account:</p>
<ul class="scopes">
${p.scopes.map((s) => html`<li><strong>${s.description}</strong> <code>${s.value}</code></li>`)}
</ul>
<form method="post" action="/interaction/${p.uid}/confirm">
<input type="hidden" name="_csrf" value="${p.csrf}">
<button type="submit">Accept</button>
</form>
<form method="post" action="/interaction/${p.uid}/abort" class="secondary">
<input type="hidden" name="_csrf" value="${p.csrf}">
<button type="submit" class="link">Decline</button>
</form>`,
    { clientName: p.clientName },
  );
}

/** oidc-provider hands us its form (with its own xsrf token); we render the confirmation around it. */
export function logoutPage(p: { form: string; clientName?: string; silent: boolean }): string {
  if (p.silent) {
    // The application's own request (its ID token, a registered return URL): sign out at once, no question asked.
    // The external script submits the form; without JavaScript the button does the same.
    return page(
      'Signing out',
      html`<h1>Signing out…</h1>
${raw(p.form.replace('</form>', '<input type="hidden" name="logout" value="yes"></form>'))}
<p class="subtitle" role="status">One moment, you are being signed out${p.clientName ? html` of <strong>${p.clientName}</strong>` : undefined}.</p>
<div class="actions">
<button type="submit" form="op.logoutForm">Continue</button>
</div>`,
      { script: '/assets/logout.js', clientName: p.clientName },
    );
  }
  return page(
    'Sign out',
    html`<h1>Sign out</h1>
<p class="subtitle">Do you want to sign out${p.clientName ? html` of <strong>${p.clientName}</strong> and this server` : ''}?</p>
${raw(p.form)}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="link">No, stay signed in</button>
</div>`,
    { clientName: p.clientName },
  );
}

/** A page that only tells something: a result, or an error with its status (role=alert, so it is announced). */
export function messagePage(
  title: string,
  message: string,
  status?: string,
  opts: { clientName?: string } = {},
): string {
  return page(
    title,
    html`<h1>${title}</h1>
${status ? html`<p class="alert" role="alert">${status}</p>` : undefined}
<p>${message}</p>`,
    { clientName: opts.clientName, error: Boolean(status) },
  );
}
