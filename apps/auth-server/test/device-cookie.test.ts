// Device cookies: only this server can make one, and one names exactly one account.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Request, Response } from 'express';
import { DeviceCookies } from '../src/security/device-cookie.ts';

/** What Express's res.cookie() was asked to set, and a request that sends it back. */
function browser() {
  const jar = new Map<string, { value: string; options: Record<string, unknown> }>();
  const res = {
    cookie(name: string, value: string, options: Record<string, unknown>) {
      jar.set(name, { value, options });
    },
  } as unknown as Response;
  const req = (secure = false) =>
    ({
      secure,
      headers: { cookie: [...jar].map(([n, c]) => `${n}=${c.value}`).join('; ') },
    }) as unknown as Request;
  return { jar, res, req };
}

describe('device cookies', () => {
  const devices = new DeviceCookies('a secret of this DATA_DIR');

  it('are HttpOnly, SameSite=Lax, sent to the sign-in pages only, and name no account', () => {
    const b = browser();
    devices.issue(b.req(true), b.res, 'user-123');
    const [name, cookie] = [...b.jar][0]!;
    assert.match(name!, /^device_[A-Za-z0-9_-]{16}$/);
    assert.doesNotMatch(name! + cookie!.value, /user-123/);
    assert.deepEqual(
      { ...cookie!.options, maxAge: undefined },
      { httpOnly: true, secure: true, sameSite: 'lax', path: '/interaction', maxAge: undefined },
    );
    assert.ok(Number(cookie!.options.maxAge) > 90 * 24 * 3600_000, 'months, renewed at each sign-in');
  });

  it('vouch for the browser on its own account only, and keep their id when renewed', () => {
    const b = browser();
    devices.issue(b.req(), b.res, 'user-1');
    const id = devices.verify(b.req(), 'user-1');
    assert.ok(id);
    assert.equal(devices.verify(b.req(), 'user-2'), undefined, 'another account');
    devices.issue(b.req(), b.res, 'user-1');
    assert.equal(devices.verify(b.req(), 'user-1'), id, 'renewed, same device');
    assert.equal(new DeviceCookies('another server').verify(b.req(), 'user-1'), undefined);
  });

  it('refuse a cookie that was altered or made up', () => {
    const b = browser();
    devices.issue(b.req(), b.res, 'user-1');
    const [name, cookie] = [...b.jar][0]!;
    const [id, mac] = cookie!.value.split('.');
    const altered = `${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`;
    for (const value of [`${id}.${altered}`, `${'A'.repeat(22)}.${mac}`, id!, '', `${id}.${mac}.x`]) {
      const req = { headers: { cookie: `${name}=${value}` } } as unknown as Request;
      assert.equal(devices.verify(req, 'user-1'), undefined, value);
    }
  });
});
