// Server-rendered hosted pages: plain HTML, no inline script or style (strict CSP), labelled controls.

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

export function page(title: string, body: Html, opts: { script?: string } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
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

const alert = (message?: string) =>
  message ? html`<p class="alert" role="alert">${message}</p>` : undefined;

export function loginPage(p: {
  uid: string;
  csrf: string;
  clientName: string;
  email?: string;
  error?: string;
  signup: boolean;
}): string {
  return page(
    'Sign in',
    html`<h1>Sign in</h1>
<p>to continue to <strong>${p.clientName}</strong></p>
${alert(p.error)}
<form method="post" action="/interaction/${p.uid}/login" novalidate>
<input type="hidden" name="_csrf" value="${p.csrf}">
<label>Email <input name="email" type="email" autocomplete="username" required value="${p.email ?? ''}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Continue</button>
</form>
${p.signup ? html`<p>No account? <a href="/interaction/${p.uid}/signup">Sign up</a></p>` : undefined}
<form method="post" action="/interaction/${p.uid}/abort" class="secondary">
<input type="hidden" name="_csrf" value="${p.csrf}">
<button type="submit" class="link">Cancel and return to the application</button>
</form>`,
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
  return page(
    'Sign up',
    html`<h1>Sign up</h1>
<p>to continue to <strong>${p.clientName}</strong></p>
${alert(p.error)}
<form method="post" action="/interaction/${p.uid}/signup" novalidate>
<input type="hidden" name="_csrf" value="${p.csrf}">
<label>Name <input name="name" type="text" autocomplete="name" value="${p.name ?? ''}"></label>
<label>Email <input name="email" type="email" autocomplete="username" required value="${p.email ?? ''}"></label>
<label>Password <input name="password" type="password" autocomplete="new-password" required minlength="12" aria-describedby="pw-rule"></label>
<p id="pw-rule" class="hint">At least 12 characters.</p>
<button type="submit">Sign up</button>
</form>
<p>Have an account? <a href="/interaction/${p.uid}">Sign in</a></p>`,
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
<p>Hi ${p.user}, <strong>${p.clientName}</strong> is requesting access to your account:</p>
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
<button type="submit" form="op.logoutForm">Continue</button>`,
      { script: '/assets/logout.js' },
    );
  }
  return page(
    'Sign out',
    html`<h1>Sign out</h1>
<p>Do you want to sign out${p.clientName ? html` of <strong>${p.clientName}</strong> and this server` : ''}?</p>
${raw(p.form)}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="link">No, stay signed in</button>`,
  );
}

export function messagePage(title: string, message: string, status?: string): string {
  return page(
    title,
    html`<h1>${title}</h1>${status ? html`<p class="alert" role="alert">${status}</p>` : undefined}<p>${message}</p>`,
  );
}
