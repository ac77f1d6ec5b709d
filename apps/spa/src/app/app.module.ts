import angular from 'angular';
import 'angular-route';
import type { ApiAuthProvider, AuthProvider, AuthService } from '@calling-api/angularjs-auth';
import {
  API_AUTH_MODULE,
  AUTH_MODULE,
  callbackComponent,
  SESSION_CREDENTIALS,
} from '@calling-api/angularjs-auth';
import { focusHeadingOnRouteChange } from '@calling-api/angularjs-shell/route-focus';
import { configureRoutes } from './app.routes.ts';
import type { SpaConfig } from './config/spa-config.ts';
import { homeComponent } from './home/home.component.ts';
import { navbarComponent } from './navbar/navbar.component.ts';
import { notFoundComponent } from './not-found/not-found.component.ts';
import { callResultComponent } from './ping/call-result.component.ts';
import { pingComponent } from './ping/ping.component.ts';
import { PingService } from './ping/ping.service.ts';
import { tokenPanelComponent } from './ping/token-panel.component.ts';
import { profileComponent } from './profile/profile.component.ts';
import { sessionExpiredComponent } from './session/session-expired.component.ts';
import { SessionNoticeService } from './session/session-notice.service.ts';

export const APP_MODULE = 'app';

/** Registers the app module, configured from the runtime configuration (/config.json). */
export function defineAppModule(config: SpaConfig, origin: string): void {
  angular
    .module(APP_MODULE, ['ngRoute', AUTH_MODULE, API_AUTH_MODULE])
    .constant('spaConfig', config)
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
          ...(config.auth0Domain ? { domain: config.auth0Domain } : { issuer: config.issuer }),
          clientId: config.clientId,
          audience: config.audience,
          scope: config.scope,
          redirectUri: `${origin}/callback`,
          postLogoutRedirectUri: `${origin}/`,
          dpop: config.dpop,
        });
        apiAuthProvider.config({
          ...SESSION_CREDENTIALS,
          allowedOrigins: config.allowedApiOrigins,
        });
        // Debug info off; the injector stays reachable via angular.element(document.body).injector().
        $compileProvider.debugInfoEnabled(false);
        $compileProvider.commentDirectivesEnabled(false);
        $compileProvider.cssClassDirectivesEnabled(false);
      },
    ])
    .config(configureRoutes)
    .service('ping', PingService)
    .service('sessionNotice', SessionNoticeService)
    .component('appNavbar', navbarComponent)
    .component('sessionExpired', sessionExpiredComponent)
    .component('homePage', homeComponent)
    .component('profilePage', profileComponent)
    .component('pingPage', pingComponent)
    .component('callResult', callResultComponent)
    .component('tokenPanel', tokenPanelComponent)
    .component('callbackPage', callbackComponent)
    .component('notFoundPage', notFoundComponent)
    // Instantiate early so no `unauthenticated` event is missed; then restore the session, if any.
    .run(['sessionNotice', 'auth', (_sessionNotice: SessionNoticeService, auth: AuthService) => auth.start()])
    .run(focusHeadingOnRouteChange);
}
