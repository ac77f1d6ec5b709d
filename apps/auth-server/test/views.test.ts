// The hosted pages as HTML: every interpolated value escaped, nothing inline for the CSP to refuse,
// and what a screen reader needs (a title naming the page and the application, labelled fields,
// focus on the field to fix, the error as its description).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consentPage, loginPage, logoutPage, messagePage, signupPage } from '../src/http/views.ts';

const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)>'`;
const ESCAPED = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#39;';
const FORM =
  '<form method="post" action="/oidc/logout/confirm" id="op.logoutForm"><input type="hidden" name="xsrf" value="abc"/></form>';

/** The opening tag of the input named `name`. */
const input = (html: string, name: string) => new RegExp(`<input name="${name}"[^>]*>`).exec(html)?.[0] ?? '';

describe('hosted pages', () => {
  it('escape every value they show, in text and in attributes', () => {
    const pages = [
      loginPage({
        uid: 'u',
        csrf: HOSTILE,
        clientName: HOSTILE,
        email: HOSTILE,
        error: HOSTILE,
        signup: true,
      }),
      signupPage({
        uid: 'u',
        csrf: HOSTILE,
        clientName: HOSTILE,
        email: HOSTILE,
        name: HOSTILE,
        error: HOSTILE,
      }),
      consentPage({
        uid: 'u',
        csrf: HOSTILE,
        clientName: HOSTILE,
        user: HOSTILE,
        scopes: [{ value: HOSTILE, description: HOSTILE }],
      }),
      logoutPage({ form: FORM, clientName: HOSTILE, silent: false }),
      logoutPage({ form: FORM, clientName: HOSTILE, silent: true }),
      messagePage(HOSTILE, HOSTILE, HOSTILE, { clientName: HOSTILE }),
    ];
    for (const html of pages) {
      assert.doesNotMatch(html, /<script>|<img|onerror=alert\(2\)>/, 'no markup from a value');
      assert.ok(html.includes(ESCAPED), 'the value is shown, escaped');
    }
  });

  it('have no inline script or style, one stylesheet, a language, a viewport and one h1 inside main', () => {
    const pages = [
      loginPage({ uid: 'u', csrf: 'c', clientName: 'App', signup: true }),
      signupPage({ uid: 'u', csrf: 'c', clientName: 'App' }),
      consentPage({ uid: 'u', csrf: 'c', clientName: 'App', user: 'Bob', scopes: [] }),
      logoutPage({ form: FORM, silent: false }),
      logoutPage({ form: FORM, silent: true }),
      messagePage('Signed out', 'You are signed out.'),
    ];
    for (const html of pages) {
      assert.doesNotMatch(html, /<style|style=|<script>|<script(?![^>]*\ssrc=)/);
      assert.match(html, /<html lang="en">/);
      assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
      assert.equal(html.match(/<link rel="stylesheet"[^>]*>/g)?.length, 1);
      assert.equal(html.match(/<h1>/g)?.length, 1);
      assert.match(html, /<main class="card">[\s\S]*<h1>[\s\S]*<\/main>/);
    }
  });

  it('name the page and the application in the title, and say "Error" when something failed', () => {
    const title = (html: string) => /<title>([^<]*)<\/title>/.exec(html)?.[1];
    assert.equal(
      title(loginPage({ uid: 'u', csrf: 'c', clientName: 'My App', signup: false })),
      'Sign in · My App',
    );
    assert.equal(
      title(
        loginPage({
          uid: 'u',
          csrf: 'c',
          clientName: 'My App',
          error: 'Wrong email or password.',
          signup: false,
        }),
      ),
      'Error: Sign in · My App',
    );
    assert.equal(title(messagePage('Signed out', 'You are signed out.')), 'Signed out');
    assert.equal(
      title(messagePage('Something went wrong', 'Try again.', 'invalid_request: x')),
      'Error: Something went wrong',
    );
  });

  it('sign-in: focus on the email at first; after an error on the password, marked invalid and described by the error', () => {
    const first = loginPage({ uid: 'u', csrf: 'c', clientName: 'App', signup: true });
    assert.match(input(first, 'email'), / autofocus/);
    assert.doesNotMatch(input(first, 'password'), /autofocus|aria-invalid/);
    assert.doesNotMatch(first, /role="alert"/);

    const failed = loginPage({
      uid: 'u',
      csrf: 'c',
      clientName: 'App',
      email: 'alice@example.com',
      error: 'Wrong email or password.',
      signup: true,
    });
    assert.match(input(failed, 'password'), / autofocus aria-invalid="true" aria-describedby="form-error"/);
    assert.doesNotMatch(input(failed, 'email'), /autofocus|aria-invalid/);
    assert.match(
      failed,
      /<div id="form-error"><p class="alert" role="alert">Wrong email or password\.<\/p><\/div>/,
    );

    const noEmail = loginPage({
      uid: 'u',
      csrf: 'c',
      clientName: 'App',
      error: 'Enter your email and password.',
      signup: true,
    });
    assert.match(input(noEmail, 'email'), / autofocus aria-invalid="true" aria-describedby="form-error"/);
  });

  it('sign-up: focus on the name at first; after an error on the password, described by the error and its rule', () => {
    const first = signupPage({ uid: 'u', csrf: 'c', clientName: 'App' });
    assert.match(input(first, 'name'), / autofocus/);
    assert.match(input(first, 'password'), /aria-describedby="pw-rule"/);
    const failed = signupPage({
      uid: 'u',
      csrf: 'c',
      clientName: 'App',
      email: 'erin@example.com',
      error: 'Too short.',
    });
    assert.match(
      input(failed, 'password'),
      / autofocus aria-invalid="true" aria-describedby="form-error pw-rule"/,
    );
    assert.match(failed, /<p id="pw-rule" class="hint">At least 12 characters/);
  });

  it("sign-out keeps oidc-provider's form and the buttons that submit it", () => {
    const asked = logoutPage({ form: FORM, clientName: 'App', silent: false });
    assert.ok(asked.includes(FORM));
    assert.match(
      asked,
      /<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out<\/button>/,
    );
    const silent = logoutPage({ form: FORM, silent: true });
    assert.match(silent, /<input type="hidden" name="logout" value="yes"><\/form>/);
    assert.match(silent, /<script src="\/assets\/logout.js" defer><\/script>/);
  });
});
