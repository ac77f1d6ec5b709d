// Wires configuration, tenant, storage, keys and HTTP together; used by main.ts, the tests and the bench.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import { listen } from '@calling-api/listen';
import { createLocalJWKSet, type JWK } from 'jose';
import type Provider from 'oidc-provider';
import pino, { type Logger } from 'pino';
import { type Config, ConfigError } from './config/config.ts';
import { createApp } from './http/app.ts';
import { loadOrCreateKeys, readKeys } from './keys/key-store.ts';
import { managementRouter, managementTokenCheck } from './management/router.ts';
import { StorageTenantOperations } from './management/storage-tenant-operations.ts';
import { managementAudience, withManagementApi } from './management/system-api.ts';
import { startExpirySweeper } from './oidc/oidc-adapter.ts';
import { createProvider } from './oidc/provider.ts';
import { AUTHORIZE_POLICY } from './security/abuse-policy.ts';
import { DeviceCookies } from './security/device-cookie.ts';
import { InteractionThrottle } from './security/interaction-throttle.ts';
import { LoginThrottle } from './security/login-throttle.ts';
import { PasswordHasher } from './security/password-hasher.ts';
import { verifyPassword } from './security/passwords.ts';
import { openStorage } from './store/open-storage.ts';
import { isStoreUnavailable, type KeySet, type Storage, type TenantStore } from './store/storage.ts';
import { seedTenant } from './tenant/tenant-admin.ts';
import { loadTenantFile, type Tenant, TenantError } from './tenant/tenant-schema.ts';
import { TenantSnapshot } from './tenant/tenant-snapshot.ts';

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
  const tenantFile = withManagementApi(loadTenantFile(config.tenantFile), config.issuer);
  if (config.production) refusePlainPasswords(tenantFile);
  const storage = await openStorage(config.storage, logger);
  try {
    return await serve(config, logger, storage, tenantFile);
  } catch (err) {
    await storage.close();
    throw err;
  }
}

async function serve(config: Config, logger: Logger, storage: Storage, tenantFile: Tenant) {
  await seedTenant(storage.tenant, tenantFile);
  if (config.production) await refuseDemoUsers(storage.tenant);
  const tenant = await TenantSnapshot.open(storage);
  for (const app of tenant.current().config.applications) {
    if (app.secret && 'env' in app.secret && !config.secrets[app.secret.env]) {
      throw new TenantError(
        `application ${app.clientId} takes its secret from ${app.secret.env}, which is not set`,
      );
    }
  }
  const { throttle } = storage;
  // Expired interactions and throttle rows go within a minute of their end, so what is stored stays near what the limits allow.
  const sweeper = startExpirySweeper(storage.oidc, AUTHORIZE_POLICY.sweepEveryMs, () =>
    throttle.sweep(Date.now()),
  );
  const hasher = new PasswordHasher();
  let keys = await loadOrCreateKeys(storage.keys);

  const management = {
    audience: managementAudience(config.issuer),
    userClients: new Set(tenantFile.managementApi.userClients),
  };
  const build = (k: KeySet) => {
    const publicKeys = k.signingKeys.map((s) => publicJwk(s.jwk));
    return {
      provider: createProvider({
        config,
        storage,
        tenant,
        keys: k,
        logger,
        connection: tenantFile.connection,
        management,
      }),
      jwks: createLocalJWKSet({ keys: publicKeys }),
      managementCheck: managementTokenCheck(config.issuer, management.audience, {
        keys: publicKeys as { kty: string }[],
      }),
    };
  };
  let current = build(keys);

  // A key rotation (the CLI, on any instance's storage) shows in version('keys'); the keystore is fixed per
  // Provider, so a new one is built. Checked each second: a staged key is published before it signs.
  let keysVersion = storage.version('keys');
  let reloading = false;
  const keyWatch = setInterval(async () => {
    if (reloading) return;
    reloading = true;
    try {
      const version = storage.version('keys');
      if (version === keysVersion) return;
      const next = await readKeys(storage.keys);
      keysVersion = version;
      if (!next || signingState(next) === signingState(keys)) return;
      keys = { ...next, cookieKeys: keys.cookieKeys, csrfSecret: keys.csrfSecret };
      current = build(keys);
      logger.info({ kids: keys.signingKeys.map((k) => `${k.jwk.kid}:${k.state}`) }, 'signing keys reloaded');
    } catch (err) {
      // An outage is reported by the storage itself; the keys are checked again in a second.
      if (!isStoreUnavailable(err))
        logger.error({ err }, 'could not reload signing keys; keeping the previous ones');
    } finally {
      reloading = false;
    }
  }, 1000);
  keyWatch.unref();

  const app = createApp({
    issuer: config.issuer,
    provider: (): Provider => current.provider,
    publicJwks: () => current.jwks,
    tenant,
    users: storage.tenant,
    throttle: new LoginThrottle(throttle),
    interactionThrottle: new InteractionThrottle(throttle),
    hasher,
    devices: new DeviceCookies(keys.csrfSecret),
    csrfSecret: keys.csrfSecret,
    signupEnabled: tenantFile.signup.enabled,
    production: config.production,
    trustProxy: config.trustProxy,
    logger,
    management: managementRouter({
      ...management,
      ops: new StorageTenantOperations(storage.tenant, tenant, (password) => hasher.hash(password)),
      connection: tenantFile.connection,
      logger,
      tokenCheck: () => current.managementCheck,
      // The console's own origins (its web origins), read per request so a change applies at once.
      corsOrigins: () =>
        new Set(
          [...management.userClients].flatMap((id) => {
            const app = tenant.current().application(id);
            return app?.type === 'spa' ? app.webOrigins : [];
          }),
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
      clearInterval(keyWatch);
      clearInterval(sweeper);
      const closed = listening.close();
      listening.closeIdleConnections();
      const force = setTimeout(() => listening.closeAllConnections(), 3000).unref();
      await closed;
      clearTimeout(force);
      await hasher.close();
      await storage.close();
    },
  };
}

/** What decides the provider's keystore: which keys there are and which one signs. */
const signingState = (keys: KeySet) => keys.signingKeys.map((k) => `${k.jwk.kid}:${k.state}`).join(' ');

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
    const user = await store.findUserByEmail(email);
    if (user && (await verifyPassword(password, user.passwordHash))) {
      throw new TenantError(
        `refusing the demo user ${email} with its demo password with NODE_ENV=production`,
      );
    }
  }
}
