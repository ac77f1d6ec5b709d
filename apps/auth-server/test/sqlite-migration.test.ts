// An existing DATA_DIR, as earlier versions left it, opens with this version: its data migrated forward.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { removeDir, tempDir } from '@calling-api/testkit/auth-server';
import { SqliteStorage } from '../src/store/sqlite/sqlite-storage.ts';

// The schema of the first releases (no token_dialect or dpop yet; clients kept oidc-provider's metadata).
const OLD_SCHEMA = `
CREATE TABLE oidc_model (model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, grant_id TEXT, user_code TEXT,
  uid TEXT, expires_at INTEGER, consumed_at INTEGER, PRIMARY KEY (model, id));
CREATE TABLE apis (identifier TEXT PRIMARY KEY, name TEXT NOT NULL, signing_alg TEXT NOT NULL,
  token_lifetime INTEGER NOT NULL, rbac INTEGER NOT NULL, permissions_in_token INTEGER NOT NULL,
  allow_offline_access INTEGER NOT NULL);
CREATE TABLE api_scopes (api TEXT NOT NULL REFERENCES apis(identifier) ON DELETE CASCADE, value TEXT NOT NULL,
  description TEXT NOT NULL, PRIMARY KEY (api, value));
CREATE TABLE clients (client_id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, metadata TEXT NOT NULL,
  secret_env TEXT, secret TEXT);
CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL,
  password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
`;

describe('an existing DATA_DIR', () => {
  it('is migrated forward: application settings read back from the stored metadata, data and keys kept', async () => {
    const dir = tempDir('old-data-dir-');
    try {
      const old = new DatabaseSync(join(dir, 'auth.sqlite'));
      old.exec(OLD_SCHEMA);
      old
        .prepare('INSERT INTO apis VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run('http://localhost:3001/api', 'Messages API', 'RS256', 3600, 1, 1, 1);
      const insertClient = old.prepare('INSERT INTO clients VALUES (?, ?, ?, ?, ?, ?)');
      insertClient.run(
        'angularjs-spa',
        'AngularJS SPA',
        'spa',
        JSON.stringify({
          client_id: 'angularjs-spa',
          client_name: 'AngularJS SPA',
          first_party: true,
          app_type: 'spa',
          application_type: 'web',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: ['http://localhost:3000/callback'],
          post_logout_redirect_uris: ['http://localhost:3000/'],
          web_origins: ['http://localhost:3000'],
          refresh_token_rotation: true,
          refresh_token_reuse_interval: 3,
          refresh_token_absolute_lifetime: 2592000,
          refresh_token_idle_lifetime: 1296000,
        }),
        null,
        null,
      );
      insertClient.run(
        'portal',
        'Portal',
        'regular_web',
        JSON.stringify({
          client_id: 'portal',
          client_name: 'Portal',
          first_party: false,
          app_type: 'regular_web',
          application_type: 'web',
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: ['http://localhost:7000/cb'],
          post_logout_redirect_uris: [],
          web_origins: [],
          refresh_token_rotation: true,
          refresh_token_reuse_interval: 0,
          refresh_token_absolute_lifetime: 2592000,
          refresh_token_idle_lifetime: 1296000,
        }),
        null,
        'stored-secret',
      );
      insertClient.run(
        'messages-m2m',
        'Messages M2M',
        'm2m',
        JSON.stringify({
          client_id: 'messages-m2m',
          client_name: 'Messages M2M',
          first_party: true,
          app_type: 'm2m',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_post',
        }),
        'M2M_CLIENT_SECRET',
        null,
      );
      old
        .prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)')
        .run(
          'auth0|a1',
          'alice@example.com',
          'Alice',
          'scrypt$16384$8$1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5',
          1,
        );
      old.close();
      const keys = { signingKeys: [], cookieKeys: ['c'], csrfSecret: 's' };
      writeFileSync(join(dir, 'keys.json'), JSON.stringify(keys));

      const storage = new SqliteStorage(dir);
      try {
        const config = await storage.tenant.loadConfig();
        assert.deepEqual(config.apis[0], {
          identifier: 'http://localhost:3001/api',
          name: 'Messages API',
          signingAlg: 'RS256',
          accessTokenLifetime: 3600,
          rbac: true,
          permissionsInToken: true,
          allowOfflineAccess: true,
          tokenDialect: 'rfc9068',
          dpop: 'allowed',
          scopes: [],
        });
        assert.deepEqual(config.applications, [
          {
            type: 'spa',
            clientId: 'angularjs-spa',
            name: 'AngularJS SPA',
            firstParty: true,
            callbackUrls: ['http://localhost:3000/callback'],
            logoutUrls: ['http://localhost:3000/'],
            webOrigins: ['http://localhost:3000'],
            refreshToken: {
              rotation: true,
              reuseIntervalSeconds: 3,
              absoluteLifetime: 2592000,
              idleLifetime: 1296000,
            },
            secret: null,
          },
          {
            type: 'm2m',
            clientId: 'messages-m2m',
            name: 'Messages M2M',
            firstParty: true,
            tokenEndpointAuthMethod: 'client_secret_post',
            secret: { env: 'M2M_CLIENT_SECRET' },
          },
          {
            type: 'regular_web',
            clientId: 'portal',
            name: 'Portal',
            firstParty: false,
            tokenEndpointAuthMethod: 'client_secret_basic',
            callbackUrls: ['http://localhost:7000/cb'],
            logoutUrls: [],
            secret: { value: 'stored-secret' },
          },
        ]);
        assert.equal((await storage.tenant.findUserByEmail('alice@example.com'))?.id, 'auth0|a1');
        assert.deepEqual(await storage.keys.read(), keys);
      } finally {
        await storage.close();
      }
      const again = new SqliteStorage(dir);
      assert.equal(
        (await again.tenant.loadConfig()).applications.length,
        3,
        'a second start changes nothing',
      );
      await again.close();
    } finally {
      removeDir(dir);
    }
  });
});
