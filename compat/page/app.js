// The page an Auth0 customer would write: auth0-spa-js configured as for a hosted tenant. The tests pick the
// options (refresh tokens or the iframe) with app.start(), kept in sessionStorage across the sign-in redirect.
const OPTIONS_KEY = 'compat.options';
const status = document.getElementById('status');
const show = (text) => {
  status.textContent = text;
};

window.app = {
  client: undefined,
  ready: undefined,
  /** Creates the client with the page's settings and the test's options (e.g. { useRefreshTokens: true }). */
  async start(options = {}) {
    sessionStorage.setItem(OPTIONS_KEY, JSON.stringify(options));
    const settings = await (await fetch('/settings.json')).json();
    this.client = await auth0.createAuth0Client({
      domain: settings.domain,
      clientId: settings.clientId,
      authorizationParams: {
        redirect_uri: `${location.origin}/callback`,
        audience: settings.audience,
        scope: 'openid profile email read:messages write:messages',
      },
      ...options,
    });
    return this.client;
  },
};

async function boot() {
  const saved = sessionStorage.getItem(OPTIONS_KEY);
  if (saved === null) {
    show('idle');
    return;
  }
  const client = await window.app.start(JSON.parse(saved));
  const query = new URLSearchParams(location.search);
  if ((query.has('code') || query.has('error')) && query.has('state')) {
    await client.handleRedirectCallback();
    history.replaceState(null, '', '/');
  }
  show((await client.isAuthenticated()) ? `signed in as ${(await client.getUser()).email}` : 'signed out');
}

window.app.ready = boot().catch((error) => {
  show(`error: ${error.error ?? ''} ${error.message}`);
});
