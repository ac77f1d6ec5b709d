import angular from 'angular';
import { ApiAuthProvider } from './api-auth.provider.ts';

export const API_AUTH_MODULE = 'app.apiAuth';

angular
  .module(API_AUTH_MODULE, [])
  .provider('apiAuth', ApiAuthProvider)
  .config([
    '$httpProvider',
    ($httpProvider: angular.IHttpProvider) => {
      $httpProvider.interceptors.push('apiAuth');
    },
  ]);
