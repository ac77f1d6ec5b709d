// Layer 3: authorization on a verified payload. Failures are 403 insufficient_scope: the token
// is genuine but does not carry what the route needs (RFC 6750 §3.1).
//
// Every builder checks its arguments when it is called, at start-up: a check that cannot work
// throws a BearerConfigError there instead of letting every token through, or failing, later.
// Each refusal is built once per check, so refusing a request allocates nothing.
import type { JsonObject } from './decode-token.ts';
import { BearerConfigError, InsufficientScopeError } from './errors.ts';

export type ClaimCheck = (payload: JsonObject) => void;

/** A JSON primitive a claim may be compared with. */
export type ClaimValue = string | number | boolean | null;

/** Scope names as one space-separated string, an array, or several arguments. */
export type ScopeList = readonly (string | readonly string[])[];

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

/** ("a b") or (["a", "b"]) or ("a", "b") as ["a", "b"]; refuses an empty list or an unusable name. */
function namesOf(args: ScopeList, what: string): string[] {
  const names = args.flatMap((arg) => {
    if (typeof arg === 'string') return arg.split(' ');
    if (Array.isArray(arg)) return arg;
    throw new BearerConfigError(`${what} expects scope names as strings or arrays of strings`);
  });
  const usable = names.filter((n) => n !== '');
  if (usable.length === 0 || usable.some((n) => typeof n !== 'string' || /[\s"\\]/.test(n))) {
    throw new BearerConfigError(`${what} needs at least one name without spaces, quotes or backslashes`);
  }
  return usable;
}

function assertClaimName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new BearerConfigError(`${what} needs the claim name as a non-empty string`);
  }
}

function assertClaimValue(value: unknown, what: string): asserts value is ClaimValue {
  const type = typeof value;
  if (!(value === null || type === 'string' || type === 'number' || type === 'boolean')) {
    throw new BearerConfigError(`${what} compares with a string, number, boolean or null, not ${type}`);
  }
}

/** All of the given scopes must be granted. */
export function requiredScopes(...scopes: ScopeList): ClaimCheck {
  const required = namesOf(scopes, 'requiredScopes');
  const refusal = new InsufficientScopeError(required);
  return (payload) => {
    const granted = scopesOf(payload);
    if (!required.every((s) => granted.includes(s))) throw refusal;
  };
}

/** At least one of the given scopes must be granted. */
export function scopeIncludesAny(...scopes: ScopeList): ClaimCheck {
  const wanted = namesOf(scopes, 'scopeIncludesAny');
  const refusal = new InsufficientScopeError(
    wanted,
    `The access token needs one of these scopes: ${wanted.join(' ')}.`,
  );
  return (payload) => {
    const granted = scopesOf(payload);
    if (!wanted.some((s) => granted.includes(s))) throw refusal;
  };
}

/** All of the given permissions must be in the `permissions` claim (Auth0 RBAC). */
export function requiredPermissions(...permissions: ScopeList): ClaimCheck {
  const required = namesOf(permissions, 'requiredPermissions');
  const refusal = new InsufficientScopeError(
    required,
    `The access token lacks the required permission: ${required.join(' ')}.`,
  );
  return (payload) => {
    const granted = permissionsOf(payload);
    if (!required.every((p) => granted.includes(p))) throw refusal;
  };
}

/**
 * A generic check: the token passes only when `test` returns exactly `true`. Anything else is a
 * refusal: a truthy value, a Promise (an async test cannot be awaited here, and a pending
 * Promise is not a yes), or an exception (a test that breaks on an odd payload is not a 500).
 */
export function claimCheck(
  test: (payload: JsonObject) => boolean,
  description = "The access token does not pass this route's claim check.",
): ClaimCheck {
  if (typeof test !== 'function') {
    throw new BearerConfigError('claimCheck needs a function that returns true for an acceptable payload');
  }
  if (typeof description !== 'string' || description.length === 0) {
    throw new BearerConfigError('claimCheck needs a non-empty description for its refusal');
  }
  const refusal = new InsufficientScopeError([], description);
  return (payload) => {
    let verdict: unknown;
    try {
      verdict = test(payload);
    } catch {
      throw refusal;
    }
    if (verdict !== true) throw refusal;
  };
}

/** The claim `name` must be present and equal `expected` (a JSON primitive). */
export function claimEquals(name: string, expected: ClaimValue): ClaimCheck {
  assertClaimName(name, 'claimEquals');
  assertClaimValue(expected, 'claimEquals');
  const missing = new InsufficientScopeError([], `The access token has no "${name}" claim.`);
  const unexpected = new InsufficientScopeError([], `The access token's "${name}" claim has another value.`);
  return (payload) => {
    if (!Object.hasOwn(payload, name)) throw missing;
    if (payload[name] !== expected) throw unexpected;
  };
}

/** The claim `name` (an array, or a space-separated string) must include every expected value. */
export function claimIncludes(name: string, ...expected: ClaimValue[]): ClaimCheck {
  assertClaimName(name, 'claimIncludes');
  if (expected.length === 0) throw new BearerConfigError('claimIncludes needs at least one expected value');
  for (const value of expected) assertClaimValue(value, 'claimIncludes');
  const missing = new InsufficientScopeError([], `The access token has no "${name}" claim.`);
  const unexpected = new InsufficientScopeError(
    [],
    `The access token's "${name}" claim lacks required values.`,
  );
  return (payload) => {
    if (!Object.hasOwn(payload, name)) throw missing;
    const value = payload[name];
    const values: unknown[] =
      typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    if (!expected.every((e) => values.includes(e))) throw unexpected;
  };
}
