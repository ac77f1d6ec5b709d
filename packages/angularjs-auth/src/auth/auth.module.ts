import angular from 'angular';
import { AuthProvider } from './auth.provider.ts';

export const AUTH_MODULE = 'app.auth';

angular.module(AUTH_MODULE, []).provider('auth', AuthProvider);
