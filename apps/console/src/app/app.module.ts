import {
  API_AUTH_MODULE,
  type ApiAuthProvider,
  AUTH_MODULE,
  type AuthProvider,
  type AuthService,
  callbackComponent,
  SESSION_CREDENTIALS,
} from '@calling-api/angularjs-auth';
import angular from 'angular';
import 'angular-route';
import { focusHeadingOnRouteChange } from '@calling-api/angularjs-shell/route-focus';
import { apiComponent } from './apis/api.component.ts';
import { apisComponent } from './apis/apis.component.ts';
import { configureRoutes } from './app.routes.ts';
import { applicationComponent } from './applications/application.component.ts';
import { applicationsComponent } from './applications/applications.component.ts';
import { type ConsoleConfig, MANAGEMENT_SCOPES, managementApiOf } from './config.ts';
import { ManagementApi } from './management/management-api.service.ts';
import { navbarComponent } from './navbar/navbar.component.ts';
import { notFoundComponent } from './not-found/not-found.component.ts';
import { roleComponent } from './roles/role.component.ts';
import { rolesComponent } from './roles/roles.component.ts';
import { OneTimeSecret } from './shared/one-time-secret.service.ts';
import { tabsComponent } from './shared/tabs.component.ts';
import { Session } from './shell/session.service.ts';
import { shellComponent } from './shell/shell.component.ts';
import { userComponent } from './users/user.component.ts';
import { usersComponent } from './users/users.component.ts';

export const CONSOLE_MODULE = 'console';

/** The console module, configured from /config.json: it signs in for, and talks only to, the Management API. */
export function defineConsoleModule(config: ConsoleConfig, origin: string): void {
  const managementApi = managementApiOf(config.issuer);
  angular
    .module(CONSOLE_MODULE, ['ngRoute', AUTH_MODULE, API_AUTH_MODULE])
    .constant('consoleConfig', config)
    .constant('managementApiUrl', managementApi)
    .config([
      'authProvider',
      'apiAuthProvider',
      '$compileProvider',
      (
        authProvider: AuthProvider,
        apiAuthProvider: ApiAuthProvider,
        $compileProvider: angular.ICompileProvider,
      ) => {
        authProvider.init({
          issuer: config.issuer,
          clientId: config.clientId,
          audience: managementApi,
          // Every Management scope is asked for; the user's role decides which the token gets.
          scope: ['openid profile email offline_access', ...MANAGEMENT_SCOPES].join(' '),
          redirectUri: `${origin}/callback`,
          postLogoutRedirectUri: `${origin}/`,
          dpop: config.dpop,
        });
        apiAuthProvider.config({
          ...SESSION_CREDENTIALS,
          // The token goes to the Management API's path and nowhere else, not even elsewhere on its host.
          allowedOrigins: [managementApi],
        });
        $compileProvider.debugInfoEnabled(false);
        $compileProvider.commentDirectivesEnabled(false);
        $compileProvider.cssClassDirectivesEnabled(false);
      },
    ])
    .config(configureRoutes)
    .service('management', ManagementApi)
    .service('session', Session)
    .service('oneTimeSecret', OneTimeSecret)
    .filter('encodeUri', () => encodeURIComponent)
    .component('appNavbar', navbarComponent)
    .component('consoleShell', shellComponent)
    .component('consoleTabs', tabsComponent)
    .component('apisPage', apisComponent)
    .component('apiPage', apiComponent)
    .component('applicationsPage', applicationsComponent)
    .component('applicationPage', applicationComponent)
    .component('usersPage', usersComponent)
    .component('userPage', userComponent)
    .component('rolesPage', rolesComponent)
    .component('rolePage', roleComponent)
    .component('callbackPage', callbackComponent)
    .component('notFoundPage', notFoundComponent)
    .run(['session', 'auth', (_session: Session, auth: AuthService) => auth.start()])
    .run(focusHeadingOnRouteChange);
}
