// Entry point: fetch the runtime configuration, then bootstrap AngularJS with strictDi.
// If /config.json is unusable, say what is wrong instead of showing a blank page.
import angular from 'angular';
import { CONSOLE_MODULE, defineConsoleModule } from './app/app.module.ts';
import { ConfigError, type ConsoleConfig, parseConsoleConfig } from './app/config.ts';

async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/config.json', { cache: 'no-store', credentials: 'same-origin' }).catch(
    (error: unknown) => {
      throw new ConfigError([`/config.json could not be fetched: ${(error as Error).message}`]);
    },
  );
  if (!response.ok) throw new ConfigError([`/config.json answered HTTP ${response.status}`]);
  return parseConsoleConfig(await response.json().catch(() => undefined));
}

function showStartupError(error: unknown): void {
  const problems =
    error instanceof ConfigError ? error.problems : [String((error as Error)?.message ?? error)];
  const section = document.createElement('section');
  section.className = 'card';
  section.setAttribute('role', 'alert');
  const title = document.createElement('h1');
  title.textContent = 'The console cannot start: its configuration is unusable';
  const list = document.createElement('ul');
  for (const problem of problems) {
    const item = document.createElement('li');
    item.textContent = problem; // text, never HTML
    list.append(item);
  }
  section.append(title, list);
  (document.getElementById('main') ?? document.body).replaceChildren(section);
}

loadConfig()
  .then((config) => {
    defineConsoleModule(config, window.location.origin);
    angular.bootstrap(document.body, [CONSOLE_MODULE], { strictDi: true });
  })
  .catch((error: unknown) => {
    console.error(error);
    showStartupError(error);
  });
