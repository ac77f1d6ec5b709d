// The storage interface's contract, one suite run against both implementations: SQLite in a temporary
// DATA_DIR, and a real PostgreSQL server (TEST_DATABASE_URL, or one started by @calling-api/testkit).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '@calling-api/testkit';
import { removeDir, tempDir } from '@calling-api/testkit/auth-server';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';
import pg from 'pg';
import { POSTGRES_SCHEMA_VERSION } from '../src/store/postgres/postgres-migrations.ts';
import { PostgresStorage } from '../src/store/postgres/postgres-storage.ts';
import { SqliteStorage } from '../src/store/sqlite/sqlite-storage.ts';
import {
  type ApplicationRecord,
  type KeySet,
  type Storage,
  StoreConflictError,
  StoreUnavailableError,
  type UserRecord,
} from '../src/store/storage.ts';
import { apiSchema, applicationSettingsSchema } from '../src/tenant/tenant-schema.ts';
import { TenantSnapshot } from '../src/tenant/tenant-snapshot.ts';

/** A fresh, empty store, and a second connection to the same data (another process or instance). */
type Backend = { open(): Promise<{ storage: Storage; twin(): Promise<Storage>; done(): Promise<void> }> };

const api = (identifier: string, scopes: string[], overrides: Record<string, unknown> = {}) =>
  apiSchema.parse({
    name: `API ${identifier}`,
    identifier,
    scopes: scopes.map((value) => ({ value, description: `may ${value}` })),
    ...overrides,
  });

const spa: ApplicationRecord = {
  ...applicationSettingsSchema.parse({
    type: 'spa',
    clientId: 'spa-1',
    name: 'SPA',
    callbackUrls: ['http://localhost:3000/callback'],
    webOrigins: ['http://localhost:3000'],
    refreshToken: { reuseIntervalSeconds: 2 },
  }),
  secret: null,
};
const m2m = (clientId: string, secret: ApplicationRecord['secret']): ApplicationRecord => ({
  ...applicationSettingsSchema.parse({ type: 'm2m', clientId, name: `M2M ${clientId}` }),
  secret,
});
const alice: UserRecord = {
  id: 'auth0|alice',
  email: 'alice@example.com',
  name: 'Alice',
  passwordHash:
    '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g',
  blocked: false,
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_000,
};
const keySet = (cookieKeys: string[]): KeySet => ({
  signingKeys: [{ jwk: { kty: 'RSA', kid: 'k1', n: 'n', e: 'AQAB' }, state: 'current', createdAt: 1 }],
  cookieKeys,
  csrfSecret: 'csrf',
});

async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function conformance(name: string, backend: Backend): void {
  describe(`storage conformance: ${name}`, () => {
    const use = async (fn: (storage: Storage, twin: () => Promise<Storage>) => Promise<void>) => {
      const { storage, twin, done } = await backend.open();
      try {
        await fn(storage, twin);
      } finally {
        await done();
      }
    };

    it('keeps the tenant configuration: APIs with every setting, applications, grants, roles', () =>
      use(async (storage) => {
        const t = storage.tenant;
        assert.deepEqual(await t.loadConfig(), { apis: [], applications: [], clientGrants: [], roles: [] });
        const messages = api('urn:messages', ['read', 'write'], {
          rbac: true,
          permissionsInToken: true,
          allowOfflineAccess: false,
          accessTokenLifetime: 600,
          tokenDialect: 'auth0',
          dpop: 'required',
        });
        await t.putApi(messages);
        await t.putApplication(spa);
        await t.putApplication(m2m('worker', { env: 'WORKER_CLIENT_SECRET' }));
        await t.createApplication(m2m('cli-made', { value: 's3cret' }));
        await t.addClientGrant({ clientId: 'worker', api: 'urn:messages', scope: 'read' });
        await t.addClientGrant({ clientId: 'worker', api: 'urn:messages', scope: 'read' });
        await t.putRole({ name: 'reader', description: 'Reads' });
        await t.addRolePermission('reader', { api: 'urn:messages', scope: 'read' });
        assert.deepEqual(await t.loadConfig(), {
          apis: [messages],
          applications: [
            m2m('cli-made', { value: 's3cret' }),
            spa,
            m2m('worker', { env: 'WORKER_CLIENT_SECRET' }),
          ],
          clientGrants: [{ clientId: 'worker', api: 'urn:messages', scope: 'read' }],
          roles: [
            { name: 'reader', description: 'Reads', permissions: [{ api: 'urn:messages', scope: 'read' }] },
          ],
        });
      }));

    it('updates an API by putApi and never removes its scopes; refuses to create what exists', () =>
      use(async (storage) => {
        const t = storage.tenant;
        await t.putApi(api('urn:a', ['one']));
        await t.putApi(api('urn:a', ['two'], { name: 'Renamed', accessTokenLifetime: 120 }));
        const [a] = (await t.loadConfig()).apis;
        assert.equal(a!.name, 'Renamed');
        assert.equal(a!.accessTokenLifetime, 120);
        assert.deepEqual(
          a!.scopes.map((s) => s.value),
          ['one', 'two'],
        );
        await assert.rejects(t.createApi(api('urn:a', [])), StoreConflictError);
        await assert.rejects(
          t.createApplication(spa).then(() => t.createApplication(spa)),
          StoreConflictError,
        );
        await t.createRole({ name: 'r', description: '' });
        await assert.rejects(t.createRole({ name: 'r', description: 'again' }), StoreConflictError);
      }));

    it('commits a transaction whole or not at all', () =>
      use(async (storage) => {
        await assert.rejects(
          storage.tenant.transaction(async (tx) => {
            await tx.putApi(api('urn:half', ['x']));
            await tx.putRole({ name: 'half', description: '' });
            throw new Error('changed my mind');
          }),
          /changed my mind/,
        );
        assert.deepEqual(await storage.tenant.loadConfig(), {
          apis: [],
          applications: [],
          clientGrants: [],
          roles: [],
        });
        await storage.tenant.transaction(async (tx) => {
          await tx.putApi(api('urn:whole', ['x']));
          await tx.putRole({ name: 'whole', description: '' });
        });
        const config = await storage.tenant.loadConfig();
        assert.equal(config.apis.length + config.roles.length, 2);
      }));

    it('tells the in-memory tenant of a change at once, by this process or another (the CLI, an instance)', () =>
      use(async (storage, twin) => {
        const snapshot = await TenantSnapshot.open(storage);
        assert.equal((await snapshot.fresh()).api('urn:own'), undefined);
        await storage.tenant.putApi(api('urn:own', ['x']));
        assert.ok((await snapshot.fresh()).api('urn:own'), "this process's write is seen by the next read");
        const other = await twin();
        try {
          const before = storage.version('tenant');
          await other.tenant.putRole({ name: 'from-elsewhere', description: '' });
          await eventually(
            () => storage.version('tenant') !== before,
            "the other process's commit moves version()",
          );
          assert.ok((await snapshot.fresh()).role('from-elsewhere'));
          const unchanged = storage.version('tenant');
          await other.oidc.upsert('Session', 's', { kind: 'Session' }, {}, null);
          await other.tenant.insertUser({ ...alice, id: 'auth0|u', email: 'u@example.com' });
          await new Promise((r) => setTimeout(r, 100));
          if (storage.kind === 'postgres')
            assert.equal(storage.version('tenant'), unchanged, 'sessions and users do not reload the tenant');
        } finally {
          await other.close();
        }
      }));

    it('keeps users: email unique in any case, roles, password hash updates', () =>
      use(async (storage) => {
        const t = storage.tenant;
        await t.putRole({ name: 'editor', description: '' });
        await t.putRole({ name: 'viewer', description: '' });
        await t.insertUser(alice);
        assert.deepEqual(await t.findUserByEmail('ALICE@Example.com'), alice);
        assert.deepEqual(await t.findUserById(alice.id), alice);
        assert.equal(await t.findUserById('auth0|nobody'), undefined);
        await assert.rejects(
          t.insertUser({ ...alice, id: 'auth0|other', email: 'Alice@example.com' }),
          StoreConflictError,
        );
        await t.updatePasswordHash(alice.id, 'new-hash');
        assert.equal((await t.findUserById(alice.id))?.passwordHash, 'new-hash');
        await t.assignRole(alice.id, 'viewer');
        await t.assignRole(alice.id, 'editor');
        await t.assignRole(alice.id, 'editor');
        assert.deepEqual(await t.userRoles(alice.id), ['editor', 'viewer']);
        await t.insertUser({ ...alice, id: 'auth0|bob', email: 'bob@example.com', name: 'Bob' });
        assert.deepEqual(await t.listUsers(), [
          { id: alice.id, email: alice.email, name: 'Alice', roles: ['editor', 'viewer'] },
          { id: 'auth0|bob', email: 'bob@example.com', name: 'Bob', roles: [] },
        ]);
      }));

    it('removes what references a removed API, scope, application or role (the Management API)', () =>
      use(async (storage) => {
        const t = storage.tenant;
        await t.putApi(api('urn:a', ['read', 'write', 'admin']));
        await t.putApi(api('urn:b', ['read']));
        await t.putApplication(m2m('worker', { value: 's' }));
        await t.putApplication(m2m('other', { value: 's' }));
        for (const scope of ['read', 'write', 'admin'])
          await t.addClientGrant({ clientId: 'worker', api: 'urn:a', scope });
        await t.addClientGrant({ clientId: 'worker', api: 'urn:b', scope: 'read' });
        await t.addClientGrant({ clientId: 'other', api: 'urn:a', scope: 'read' });
        await t.putRole({ name: 'editor', description: '' });
        await t.putRole({ name: 'gone', description: '' });
        for (const scope of ['read', 'write', 'admin'])
          await t.addRolePermission('editor', { api: 'urn:a', scope });
        await t.addRolePermission('editor', { api: 'urn:b', scope: 'read' });
        await t.insertUser(alice);
        await t.assignRole(alice.id, 'gone');
        await t.assignRole(alice.id, 'editor');

        await t.removeScopesExcept('urn:a', ['read', 'admin']);
        await t.removeRolePermission('editor', { api: 'urn:a', scope: 'admin' });
        await t.removeClientGrant('worker', 'urn:b');
        await t.deleteApplication('other');
        await t.deleteRole('gone');
        let config = await t.loadConfig();
        assert.deepEqual(
          config.apis.find((a) => a.identifier === 'urn:a')?.scopes.map((s) => s.value),
          ['admin', 'read'],
        );
        assert.deepEqual(config.clientGrants, [
          { clientId: 'worker', api: 'urn:a', scope: 'admin' },
          { clientId: 'worker', api: 'urn:a', scope: 'read' },
        ]);
        assert.deepEqual(
          config.applications.map((a) => a.clientId),
          ['worker'],
        );
        assert.deepEqual(config.roles, [
          {
            name: 'editor',
            description: '',
            permissions: [
              { api: 'urn:a', scope: 'read' },
              { api: 'urn:b', scope: 'read' },
            ],
          },
        ]);
        assert.deepEqual(await t.userRoles(alice.id), ['editor']);

        await t.deleteApi('urn:a');
        config = await t.loadConfig();
        assert.deepEqual(
          config.apis.map((a) => a.identifier),
          ['urn:b'],
        );
        assert.deepEqual(config.clientGrants, []);
        assert.deepEqual(config.roles[0]?.permissions, [{ api: 'urn:b', scope: 'read' }]);
      }));

    it('finds users by email or prefix a page at a time, changes, blocks and deletes them', () =>
      use(async (storage) => {
        const t = storage.tenant;
        await t.putRole({ name: 'viewer', description: '' });
        const emails = ['ann@example.com', 'anna@example.com', 'an_x@example.com', 'bob@example.com'];
        for (const [i, email] of emails.entries()) {
          await t.insertUser({ ...alice, id: `auth0|u${i}`, email, name: email.split('@')[0]! });
          if (i < 3) await t.assignRole(`auth0|u${i}`, 'viewer');
        }
        const ids = (r: { users: UserRecord[]; total: number }) => [r.users.map((u) => u.email), r.total];
        assert.deepEqual(ids(await t.findUsers({ offset: 0, limit: 2 })), [
          ['an_x@example.com', 'ann@example.com'],
          4,
        ]);
        assert.deepEqual(ids(await t.findUsers({ offset: 2, limit: 2 })), [
          ['anna@example.com', 'bob@example.com'],
          4,
        ]);
        assert.deepEqual(ids(await t.findUsers({ offset: 10, limit: 2 })), [[], 4]);
        assert.deepEqual(ids(await t.findUsers({ offset: 0, limit: 10, emailPrefix: 'ANN' })), [
          ['ann@example.com', 'anna@example.com'],
          2,
        ]);
        // A LIKE wildcard in the prefix is a character to match, not "any one character".
        assert.deepEqual(ids(await t.findUsers({ offset: 0, limit: 10, emailPrefix: 'an_' })), [
          ['an_x@example.com'],
          1,
        ]);
        assert.deepEqual(ids(await t.findUsers({ offset: 0, limit: 10, email: 'Bob@Example.com' })), [
          ['bob@example.com'],
          1,
        ]);
        assert.deepEqual(ids(await t.roleMembers('viewer', { offset: 1, limit: 1 })), [
          ['ann@example.com'],
          3,
        ]);

        await t.updateUser('auth0|u0', { email: 'ANNE@example.com', blocked: true });
        const anne = await t.findUserById('auth0|u0');
        assert.equal(anne?.email, 'anne@example.com');
        assert.equal(anne?.blocked, true);
        assert.equal(anne?.name, 'ann', 'what is not changed stays');
        assert.ok(anne!.updatedAt > anne!.createdAt);
        await assert.rejects(t.updateUser('auth0|u0', { email: 'BOB@example.com' }), StoreConflictError);
        await t.unassignRole('auth0|u1', 'viewer');
        await t.deleteUser('auth0|u2');
        assert.equal(await t.findUserById('auth0|u2'), undefined);
        assert.deepEqual(ids(await t.roleMembers('viewer', { offset: 0, limit: 10 })), [
          ['anne@example.com'],
          1,
        ]);
      }));

    it("keeps oidc-provider's models by id, uid and user code, and hides expired ones", () =>
      use(async (storage) => {
        const o = storage.oidc;
        const later = Date.now() + 60_000;
        await o.upsert(
          'Session',
          'sess',
          { kind: 'Session', uid: 'u-1', nested: { a: [1] } },
          { uid: 'u-1' },
          later,
        );
        await o.upsert('DeviceCode', 'dc', { kind: 'DeviceCode', userCode: 'UC' }, { userCode: 'UC' }, null);
        await o.upsert('Interaction', 'old', { kind: 'Interaction' }, {}, Date.now() - 1);
        assert.deepEqual(await o.find('Session', 'sess'), {
          payload: { kind: 'Session', uid: 'u-1', nested: { a: [1] } },
          consumedAt: null,
        });
        assert.equal((await o.findByUid('Session', 'u-1'))?.payload.kind, 'Session');
        assert.equal((await o.findByUserCode('DeviceCode', 'UC'))?.payload.kind, 'DeviceCode');
        assert.equal(await o.find('Grant', 'sess'), undefined, 'the model is part of the key');
        assert.equal(await o.find('Interaction', 'old'), undefined, 'expired');
        assert.equal(await o.deleteExpired(), 1);
        await o.upsert('Session', 'sess', { kind: 'Session', changed: true }, {}, later);
        assert.equal((await o.find('Session', 'sess'))?.payload.changed, true);
        assert.equal(await o.findByUid('Session', 'u-1'), undefined, 'the index follows the payload');
        await o.destroy('Session', 'sess');
        assert.equal(await o.find('Session', 'sess'), undefined);
      }));

    it('revokes by grant only within the model', () =>
      use(async (storage) => {
        const o = storage.oidc;
        for (const [model, id, grantId] of [
          ['RefreshToken', 'rt1', 'g1'],
          ['RefreshToken', 'rt2', 'g2'],
          ['AccessToken', 'at1', 'g1'],
        ] as const)
          await o.upsert(model, id, { grantId }, { grantId }, null);
        await o.revokeByGrantId('RefreshToken', 'g1');
        assert.equal(await o.find('RefreshToken', 'rt1'), undefined);
        assert.ok(await o.find('RefreshToken', 'rt2'));
        assert.ok(await o.find('AccessToken', 'at1'));
      }));

    it('consumes a code or refresh token once, even when two instances race for it', () =>
      use(async (storage, twin) => {
        const o = storage.oidc;
        await o.upsert('AuthorizationCode', 'code', { kind: 'AuthorizationCode' }, {}, Date.now() + 60_000);
        const at = Date.now();
        assert.equal(await o.consume('AuthorizationCode', 'code', at), true);
        assert.equal(await o.consume('AuthorizationCode', 'code', at + 5), false);
        assert.equal((await o.find('AuthorizationCode', 'code'))?.consumedAt, at);
        assert.equal(await o.consume('AuthorizationCode', 'missing', at), false);
        const other = await twin();
        try {
          const ids = Array.from({ length: 25 }, (_, i) => `rt-${i}`);
          for (const id of ids) await o.upsert('RefreshToken', id, {}, {}, Date.now() + 60_000);
          const results = await Promise.all(
            ids.flatMap((id) => [
              o.consume('RefreshToken', id, Date.now()),
              other.oidc.consume('RefreshToken', id, Date.now()),
            ]),
          );
          for (let i = 0; i < ids.length; i++) {
            assert.equal(
              Number(results[2 * i]) + Number(results[2 * i + 1]),
              1,
              `exactly one consumer of ${ids[i]}`,
            );
          }
        } finally {
          await other.close();
        }
      }));

    it('claims an id once until it expires (DPoP proof and client assertion replay detection)', () =>
      use(async (storage, twin) => {
        const o = storage.oidc;
        const other = await twin();
        try {
          const claims = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              (i % 2 ? other.oidc : o).claim('ReplayDetection', 'jti-1', {}, Date.now() + 60_000),
            ),
          );
          assert.equal(claims.filter(Boolean).length, 1, 'one claim wins, at any instance');
          await o.claim('ReplayDetection', 'jti-2', {}, Date.now() - 1);
          assert.equal(
            await o.claim('ReplayDetection', 'jti-2', {}, Date.now() + 60_000),
            true,
            'expired: free again',
          );
        } finally {
          await other.close();
        }
      }));

    it('keeps the key set and applies concurrent updates in turn', () =>
      use(async (storage, twin) => {
        assert.equal(await storage.keys.read(), undefined);
        const other = await twin();
        try {
          const keysBefore = storage.version('keys');
          const append = (s: Storage, key: string) =>
            s.keys.update(async (current) => {
              await new Promise((r) => setTimeout(r, 30));
              return keySet([...(current?.cookieKeys ?? []), key]);
            });
          await Promise.all([append(storage, 'a'), append(other, 'b'), append(storage, 'c')]);
          const stored = await storage.keys.read();
          assert.deepEqual([...stored!.cookieKeys].sort(), ['a', 'b', 'c'], 'no update lost');
          assert.deepEqual(stored!.signingKeys, keySet([]).signingKeys);
          await other.keys.update(async (current) => ({
            ...current!,
            signingKeys: [
              { ...current!.signingKeys[0]!, state: 'previous', retiredAt: 5 },
              { jwk: { kty: 'RSA', kid: 'k2', n: 'n2', e: 'AQAB' }, state: 'current', createdAt: 2 },
            ],
          }));
          assert.deepEqual(
            (await storage.keys.read())!.signingKeys.map((k) => [k.jwk.kid, k.state, k.retiredAt]),
            [
              ['k1', 'previous', 5],
              ['k2', 'current', undefined],
            ],
          );
          await eventually(
            () => storage.version('keys') !== keysBefore,
            'a key change moves version("keys")',
          );
        } finally {
          await other.close();
        }
      }));
  });
}

conformance('SQLite', {
  async open() {
    const dir = tempDir('storage-sqlite-');
    const storage = new SqliteStorage(dir);
    return {
      storage,
      twin: async () => new SqliteStorage(dir),
      async done() {
        try {
          await storage.close();
        } finally {
          removeDir(dir);
        }
      },
    };
  },
});

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

conformance('PostgreSQL', {
  async open() {
    const url = await server.createDatabase();
    const storage = await PostgresStorage.open({ url, poolSize: 4 });
    return {
      storage,
      twin: () => PostgresStorage.open({ url, poolSize: 4 }),
      done: () => storage.close(),
    };
  },
});

describe('PostgreSQL storage: start-up', () => {
  it('applies the migrations once when several instances start at the same moment', async () => {
    const url = await server.createDatabase();
    const instances = await Promise.all(
      Array.from({ length: 4 }, () => PostgresStorage.open({ url, poolSize: 2 })),
    );
    await Promise.all(instances.map((s) => s.close()));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(
        rows.map((r) => r.version),
        Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
      );
    } finally {
      await client.end();
    }
  });

  it('fails fast with StoreUnavailableError, without the password, when the server cannot be reached', async () => {
    const url = `postgres://auth:hunter2-secret@127.0.0.1:${await freePort()}/auth`;
    const started = Date.now();
    const err = await PostgresStorage.open({ url, poolSize: 2 }).catch((e: unknown) => e);
    assert.ok(err instanceof StoreUnavailableError, String(err));
    assert.ok(Date.now() - started < 3000, 'within the connect timeout');
    assert.doesNotMatch(err.message, /hunter2/);
  });
});
