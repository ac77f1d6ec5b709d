// Layer 3: authorization on a verified payload. Failures are 403 insufficient_scope: the token
// is genuine but does not carry what the route needs (RFC 6750 §3.1).
import type { JsonObject } from './decode-token.ts';
import { InsufficientScopeError } from './errors.ts';

export type ClaimCheck = (payload: JsonObject) => void;

/** The `scope` claim (RFC 8693 §4.2: space-separated) as a list. */
export function scopesOf(payload: JsonObject): string[] {
  const { scope } = payload;
  if (typeof scope === 'string') return scope.split(' ').filter((s) => s.length > 0);
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return [];
}

function permissionsOf(payload: JsonObject): string[] {
  const { permissions } = payload;
  return Array.isArray(permissions) ? permissions.filter((p): p is string => typeof p === 'string') : [];
}

function assertNames(names: readonly string[], what: string): void {
  if (names.length === 0 || names.some((n) => typeof n !== 'string' || n.length === 0 || /\s|"|\\/.test(n))) {
    throw new TypeError(`${what} needs at least one name without spaces or quotes`);
  }
}

/** All of the given scopes must be granted. */
export function requiredScopes(...scopes: string[]): ClaimCheck {
  assertNames(scopes, 'requiredScopes');
  return (payload) => {
    const granted = new Set(scopesOf(payload));
    if (!scopes.every((s) => granted.has(s))) throw new InsufficientScopeError(scopes);
  };
}

/** At least one of the given scopes must be granted. */
export function scopeIncludesAny(...scopes: string[]): ClaimCheck {
  assertNames(scopes, 'scopeIncludesAny');
  return (payload) => {
    const granted = new Set(scopesOf(payload));
    if (!scopes.some((s) => granted.has(s))) {
      throw new InsufficientScopeError(
        scopes,
        `The access token needs one of these scopes: ${scopes.join(' ')}.`,
      );
    }
  };
}

/** All of the given permissions must be in the `permissions` claim (Auth0 RBAC). */
export function requiredPermissions(...permissions: string[]): ClaimCheck {
  assertNames(permissions, 'requiredPermissions');
  return (payload) => {
    const granted = new Set(permissionsOf(payload));
    if (!permissions.every((p) => granted.has(p))) {
      throw new InsufficientScopeError(
        permissions,
        `The access token lacks the required permission: ${permissions.join(' ')}.`,
      );
    }
  };
}

/** A generic check: `test` returns true when the payload is acceptable. */
export function claimCheck(test: (payload: JsonObject) => boolean, description: string): ClaimCheck {
  return (payload) => {
    if (!test(payload)) throw new InsufficientScopeError([], description);
  };
}

export function claimEquals(name: string, expected: string | number | boolean): ClaimCheck {
  return claimCheck(
    (p) => p[name] === expected,
    `The access token's "${name}" claim does not have the required value.`,
  );
}

export function claimIncludes(name: string, ...expected: string[]): ClaimCheck {
  return claimCheck((p) => {
    const value = p[name];
    const values = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    return expected.every((e) => values.includes(e));
  }, `The access token's "${name}" claim lacks required values.`);
}
