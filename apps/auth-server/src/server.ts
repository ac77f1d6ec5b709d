// Wires configuration, tenant, storage, keys and HTTP together; used by main.ts, the tests and the bench.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { listen } from '@calling-api/listen';
import { createLocalJWKSet, type JWK } from 'jose';
import type Provider from 'oidc-provider';
import pino, { type Logger } from 'pino';
import { type Config, ConfigError } from './config/config.ts';
import { createApp } from './http/app.ts';
import { type KeyFile, keyFilePath, loadOrCreateKeys, readKeys } from './keys/key-store.ts';
import { managementRouter, managementTokenCheck } from './management/router.ts';
import { SqliteTenantOperations } from './management/sqlite-tenant-operations.ts';
import { managementAudience, withManagementApi } from './management/system-api.ts';
import { createProvider } from './oidc/provider.ts';
import { AUTHORIZE_POLICY } from './security/abuse-policy.ts';
import { DeviceCookies } from './security/device-cookie.ts';
import { InteractionThrottle } from './security/interaction-throttle.ts';
import { LoginThrottle } from './security/login-throttle.ts';
import { PasswordHasher } from './security/password-hasher.ts';
import { verifyPassword } from './security/passwords.ts';
import { openDatabase } from './store/database.ts';
import { startExpirySweeper } from './store/oidc-adapter.ts';
import { SqliteThrottleStore } from './store/sqlite-throttle-store.ts';
import { TenantStore } from './store/tenant-store.ts';
import { loadTenantFile, type Tenant, TenantError } from './tenant/tenant-schema.ts';

const DEMO_PASSWORDS: Record<string, string> = {
  'alice@example.com': 'Alice-password-1',
  'bob@example.com': 'Bob-password-1',
  'carol@example.com': 'Carol-password-1',
  'admin@example.com': 'Admin-password-1',
};

export type RunningServer = { url: string; addresses: readonly string[]; close(): Promise<void> };

const publicJwk = ({ kty, n, e, kid, alg, use }: JWK): JWK => ({ kty, n, e, kid, alg, use });

export async function startServer(
  config: Config,
  logger: Logger = pino({ level: config.logLevel }),
): Promise<RunningServer> {
  const tenant = withManagementApi(loadTenantFile(config.tenantFile), config.issuer);
  if (config.production) refusePlainPasswords(tenant);
  const db = openDatabase(config.dataDir);
  const store = new TenantStore(db);
  await store.seed(tenant);
  if (config.production) await refuseDemoUsers(store);
  for (const c of store.listClients()) {
    if (c.secretEnv && !config.secrets[c.secretEnv]) {
      throw new TenantError(
        `application ${c.clientId} takes its secret from ${c.secretEnv}, which is not set`,
      );
    }
  }
  const throttleStore = new SqliteThrottleStore(db);
  // Expired interactions and throttle rows go within a minute of their end, so what is stored stays near what the limits allow.
  const sweeper = startExpirySweeper(db, AUTHORIZE_POLICY.sweepEveryMs, () =>
    throttleStore.sweep(Date.now()),
  );
  const hasher = new PasswordHasher();
  let keys = await loadOrCreateKeys(config.dataDir);

  const management = {
    audience: managementAudience(config.issuer),
    userClients: new Set(tenant.managementApi.userClients),
  };
  const build = (k: KeyFile) => {
    const keys = k.signingKeys.map((s) => publicJwk(s.jwk));
    return {
      provider: createProvider({ config, store, keys: k, logger, connection: tenant.connection, management }),
      jwks: createLocalJWKSet({ keys }),
      managementCheck: managementTokenCheck(config.issuer, management.audience, {
        keys: keys as { kty: string }[],
      }),
    };
  };
  let current = build(keys);

  // Key rotation by the CLI rewrites keys.json; the keystore is fixed per Provider, so a new one is built.
  const keysFile = keyFilePath(config.dataDir);
  const onKeys = () => {
    try {
      const next = readKeys(config.dataDir);
      if (!next || JSON.stringify(next.signingKeys) === JSON.stringify(keys.signingKeys)) return;
      keys = { ...next, cookieKeys: keys.cookieKeys, csrfSecret: keys.csrfSecret };
      current = build(keys);
      logger.info({ kids: keys.signingKeys.map((k) => `${k.jwk.kid}:${k.state}`) }, 'signing keys reloaded');
    } catch (err) {
      logger.error({ err }, 'could not reload signing keys; keeping the previous ones');
    }
  };
  watchFile(keysFile, { interval: 1000 }, onKeys);

  const app = createApp({
    issuer: config.issuer,
    provider: (): Provider => current.provider,
    publicJwks: () => current.jwks,
    store,
    throttle: new LoginThrottle(throttleStore),
    interactionThrottle: new InteractionThrottle(throttleStore),
    hasher,
    devices: new DeviceCookies(keys.csrfSecret),
    csrfSecret: keys.csrfSecret,
    signupEnabled: tenant.signup.enabled,
    production: config.production,
    trustProxy: config.trustProxy,
    logger,
    management: managementRouter({
      ...management,
      ops: new SqliteTenantOperations(store, (password) => hasher.hash(password)),
      connection: tenant.connection,
      logger,
      tokenCheck: () => current.managementCheck,
      // The console's own origins (its web origins), read per request so a change applies at once.
      corsOrigins: () =>
        new Set(
          [...management.userClients].flatMap(
            (id) => (store.getClient(id)?.metadata.web_origins as string[] | undefined) ?? [],
          ),
        ),
    }),
  });

  const tls = config.tls ? readTls(config.tls) : undefined;
  const listening = await listen(
    () => {
      const server = tls ? createHttpsServer(tls, app) : createServer(app);
      server.keepAliveTimeout = 5000;
      return server;
    },
    { ...config, secure: tls !== undefined },
  );

  return {
    url: listening.url,
    addresses: listening.addresses,
    async close() {
      unwatchFile(keysFile, onKeys);
      clearInterval(sweeper);
      const closed = listening.close();
      listening.closeIdleConnections();
      const force = setTimeout(() => listening.closeAllConnections(), 3000).unref();
      await closed;
      clearTimeout(force);
      await hasher.close();
      db.close();
    },
  };
}

function readTls(files: NonNullable<Config['tls']>): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const pair = { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
  try {
    createSecureContext(pair);
  } catch (err) {
    throw new ConfigError(`TLS_CERT_FILE and TLS_KEY_FILE are not a usable pair: ${(err as Error).message}`);
  }
  return pair;
}

/** In production, users come with hashes (`npm run tenant -- hash-password`), never with passwords in a file. */
function refusePlainPasswords(tenant: Tenant): void {
  const plain = tenant.users.flatMap((u, i) =>
    u.password === undefined ? [] : [`users.${i}.password (${u.email})`],
  );
  if (plain.length > 0) {
    throw new TenantError(
      `refusing plain passwords in the tenant file with NODE_ENV=production: ${plain.join(', ')}; use passwordHash`,
    );
  }
}

/** The demo identities of the default tenant must not sign in to a production server, even from an old DATA_DIR. */
async function refuseDemoUsers(store: TenantStore): Promise<void> {
  for (const [email, password] of Object.entries(DEMO_PASSWORDS)) {
    const user = store.findUserByEmail(email);
    if (user && (await verifyPassword(password, user.passwordHash))) {
      throw new TenantError(
        `refusing the demo user ${email} with its demo password with NODE_ENV=production`,
      );
    }
  }
}
