// Device cookies: a browser that signed in to an account gets a cookie only this server can make, bound
// to that account. Its attempts on that account draw on a budget of their own (login-throttle.ts), so
// people guessing the password from elsewhere spend the account's shared budget and never the owner's.
// One cookie per account, named after a MAC of the account id so its name says nothing about the account.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CookieOptions, Request, Response } from 'express';
import { LOGIN_POLICY } from './abuse-policy.ts';

const PREFIX = 'device_';

export class DeviceCookies {
  readonly #key: Buffer;
  readonly #maxAgeMs: number;

  constructor(secret: string, maxAgeMs = LOGIN_POLICY.deviceCookieMaxAgeMs) {
    // Its own key, derived from the server's secret, so no other MAC made with the secret can pass for one.
    this.#key = createHmac('sha256', secret).update('device-cookie').digest();
    this.#maxAgeMs = maxAgeMs;
  }

  /** The device's id when the request carries a valid cookie for this account. */
  verify(req: Request, userId: string): string | undefined {
    const value = readCookie(req.headers.cookie, this.#name(userId));
    const [id, mac, ...rest] = value?.split('.') ?? [];
    if (!id || !mac || rest.length > 0 || !/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
    const expected = Buffer.from(this.#mac(userId, id));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }

  /** Sets (or renews) the account's cookie on this browser after a sign-in that proved the password. */
  issue(req: Request, res: Response, userId: string): void {
    const id = this.verify(req, userId) ?? randomBytes(16).toString('base64url');
    const options: CookieOptions = {
      httpOnly: true,
      secure: req.secure,
      sameSite: 'lax',
      path: '/interaction',
      maxAge: this.#maxAgeMs,
    };
    res.cookie(this.#name(userId), `${id}.${this.#mac(userId, id)}`, options);
  }

  #name(userId: string): string {
    return PREFIX + createHmac('sha256', this.#key).update(`name|${userId}`).digest('base64url').slice(0, 16);
  }

  #mac(userId: string, id: string): string {
    return createHmac('sha256', this.#key).update(`device|${userId}|${id}`).digest('base64url');
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
