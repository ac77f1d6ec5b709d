// Entry point: fetch the runtime configuration, then bootstrap AngularJS with strictDi.
// If /config.json is unusable, show what is wrong instead of a blank page.
import angular from 'angular';
import { APP_MODULE, defineAppModule } from './app/app.module.ts';
import { ConfigError, parseSpaConfig, type SpaConfig } from './app/config/spa-config.ts';

async function loadConfig(): Promise<SpaConfig> {
  let response: Response;
  try {
    response = await fetch('/config.json', { cache: 'no-store', credentials: 'same-origin' });
  } catch (error) {
    throw new ConfigError([`/config.json could not be fetched: ${(error as Error).message}`]);
  }
  if (!response.ok) throw new ConfigError([`/config.json answered HTTP ${response.status}`]);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new ConfigError(['/config.json is not valid JSON']);
  }
  return parseSpaConfig(json);
}

function showStartupError(error: unknown): void {
  const problems =
    error instanceof ConfigError ? error.problems : [String((error as Error)?.message ?? error)];
  const main = document.getElementById('main') ?? document.body;
  const section = document.createElement('section');
  section.className = 'card startup-error';
  section.setAttribute('role', 'alert');
  section.setAttribute('data-test', 'config-error');
  const title = document.createElement('h1');
  title.textContent = 'This app cannot start: its configuration is unusable';
  const list = document.createElement('ul');
  for (const problem of problems) {
    const item = document.createElement('li');
    item.textContent = problem; // text, never HTML
    list.append(item);
  }
  const hint = document.createElement('p');
  hint.textContent =
    'The static server writes /config.json from its environment (ISSUER_BASE_URL, CLIENT_ID, AUDIENCE, SCOPE, API_URL, ALLOWED_API_ORIGINS). Fix it and reload.';
  section.append(title, list, hint);
  main.replaceChildren(section);
}

loadConfig()
  .then((config) => {
    defineAppModule(config, window.location.origin);
    angular.bootstrap(document.body, [APP_MODULE], { strictDi: true });
  })
  .catch((error: unknown) => {
    console.error(error);
    showStartupError(error);
  });
