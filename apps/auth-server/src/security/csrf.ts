// CSRF token for the hosted forms: HMAC of the interaction uid with a persisted secret (no server-side state).
import { createHmac, timingSafeEqual } from 'node:crypto';

export function csrfToken(secret: string, uid: string): string {
  return createHmac('sha256', secret).update(`csrf:${uid}`).digest('base64url');
}

export function csrfValid(secret: string, uid: string, token: unknown): boolean {
  if (typeof token !== 'string') return false;
  const expected = Buffer.from(csrfToken(secret, uid));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
