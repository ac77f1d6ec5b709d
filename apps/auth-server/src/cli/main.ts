// npm run tenant -- <command>: the admin command line over the server's storage (DATA_DIR's SQLite file and keys,
// or DATABASE_URL's PostgreSQL), Auth0's dashboard steps. Running servers pick up every change without a restart.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { APP_DIR, ConfigError, loadConfig } from '../config/config.ts';
import { writeDevCertificate } from '../keys/dev-cert.ts';
import { activateKey, KeyStoreError, loadOrCreateKeys, pruneKeys, stageKey } from '../keys/key-store.ts';
import {
  MANAGEMENT_AUDIENCE_ALIAS,
  managementAudience,
  withManagementApi,
} from '../management/system-api.ts';
import { hashPassword } from '../security/passwords.ts';
import { openStorage } from '../store/open-storage.ts';
import { KeyFileError } from '../store/sqlite/key-file.ts';
import { type Storage, StoreUnavailableError } from '../store/storage.ts';
import { seedTenant, TenantAdmin, TenantAdminError } from '../tenant/tenant-admin.ts';
import {
  apiSchema,
  applicationSettingsSchema,
  loadTenantFile,
  passwordSchema,
  TenantError,
} from '../tenant/tenant-schema.ts';
import { TenantSnapshot } from '../tenant/tenant-snapshot.ts';

class UsageError extends Error {
  override name = 'UsageError';
}

type Options = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;
type Context = { storage: Storage; tenant: TenantSnapshot; admin: TenantAdmin; dataDir: string };
type Command = {
  summary: string;
  usage: string;
  options: Options;
  run(ctx: Context, v: Values, positionals: string[]): Promise<void> | void;
};

const str = (v: Values, name: string): string => {
  const value = v[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
};
const list = (v: Values, name: string): string[] => (Array.isArray(v[name]) ? (v[name] as string[]) : []);
/** An integer option, or undefined when not given (the schema then applies its default). */
const int = (v: Values, name: string): number | undefined => {
  if (v[name] === undefined) return undefined;
  const n = Number(v[name]);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer`);
  return n;
};
const zodMessage = (err: { issues: { path: PropertyKey[]; message: string }[] }) =>
  err.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');

const readStdin = () => readFileSync(0, 'utf8').replace(/\r?\n$/, '');

const COMMANDS: Record<string, Command> = {
  list: {
    summary: 'list APIs, applications, client grants, roles, users and signing keys',
    usage: 'list [apis|apps|grants|roles|users|keys] [--json]',
    options: { json: { type: 'boolean' } },
    async run({ storage, tenant }, v, positionals) {
      const what = positionals[0];
      const view = await tenant.fresh();
      const all = {
        apis: view.config.apis,
        apps: view.config.applications.map((a) => ({
          clientId: a.clientId,
          name: a.name,
          type: a.type,
          firstParty: a.firstParty,
          callbacks: a.type === 'm2m' ? [] : a.callbackUrls,
          logoutUrls: a.type === 'm2m' ? [] : a.logoutUrls,
          webOrigins: a.type === 'spa' ? a.webOrigins : [],
          secret: a.secret ? ('env' in a.secret ? `from $${a.secret.env}` : 'stored') : undefined,
        })),
        grants: view.clientGrants(),
        roles: view.config.roles,
        users: await storage.tenant.listUsers(),
        keys: (await loadOrCreateKeys(storage.keys)).signingKeys.map((k) => ({
          kid: k.jwk.kid,
          state: k.state,
          createdAt: new Date(k.createdAt).toISOString(),
          retiredAt: k.retiredAt ? new Date(k.retiredAt).toISOString() : undefined,
        })),
      };
      if (what !== undefined && !(what in all))
        throw new UsageError(`unknown list "${what}"; one of ${Object.keys(all).join(', ')}`);
      const selected = what ? { [what]: all[what as keyof typeof all] } : all;
      if (v.json) {
        console.log(JSON.stringify(selected, null, 2));
        return;
      }
      for (const [section, rows] of Object.entries(selected)) {
        console.log(`${section}:`);
        for (const row of rows as object[]) console.log(`  ${JSON.stringify(row)}`);
      }
    },
  },
  'create-api': {
    summary: 'create an API (resource server): name, identifier (the audience), RS256',
    usage:
      'create-api --name <name> --identifier <audience> [--lifetime <seconds>] [--rbac] [--permissions-in-token] [--no-offline-access]\n' +
      '           [--token-dialect rfc9068|auth0]',
    options: {
      name: { type: 'string' },
      identifier: { type: 'string' },
      lifetime: { type: 'string' },
      'token-dialect': { type: 'string' },
      rbac: { type: 'boolean' },
      'permissions-in-token': { type: 'boolean' },
      'no-offline-access': { type: 'boolean' },
    },
    async run({ admin }, v) {
      const parsed = apiSchema.safeParse({
        name: str(v, 'name'),
        identifier: str(v, 'identifier'),
        accessTokenLifetime: int(v, 'lifetime'),
        rbac: Boolean(v.rbac),
        permissionsInToken: Boolean(v['permissions-in-token']),
        allowOfflineAccess: !v['no-offline-access'],
        tokenDialect: v['token-dialect'],
      });
      if (!parsed.success) throw new UsageError(zodMessage(parsed.error));
      await admin.createApi(parsed.data);
      console.log(`created API ${parsed.data.name} (${parsed.data.identifier})`);
    },
  },
  'add-scope': {
    summary: 'add a scope (permission) with its description to an API',
    usage: 'add-scope --api <identifier> --scope <value> --description <text>',
    options: { api: { type: 'string' }, scope: { type: 'string' }, description: { type: 'string' } },
    async run({ admin }, v) {
      const parsed = apiSchema.shape.scopes
        .unwrap()
        .element.safeParse({ value: str(v, 'scope'), description: str(v, 'description') });
      if (!parsed.success) throw new UsageError(zodMessage(parsed.error));
      await admin.addScope(str(v, 'api'), parsed.data.value, parsed.data.description);
      console.log(`added scope ${parsed.data.value} to ${v.api}`);
    },
  },
  'create-app': {
    summary: 'create an application (spa, regular_web or m2m); prints the secret of a confidential one once',
    usage:
      'create-app --type spa|regular_web|m2m --client-id <id> --name <name> [--callback <url>]... [--logout-url <url>]...\n' +
      '           [--web-origin <origin>]... [--third-party] [--auth-method client_secret_basic|client_secret_post]\n' +
      '           [--reuse-interval <seconds>] [--no-refresh-token]',
    options: {
      type: { type: 'string' },
      'client-id': { type: 'string' },
      name: { type: 'string' },
      callback: { type: 'string', multiple: true },
      'logout-url': { type: 'string', multiple: true },
      'web-origin': { type: 'string', multiple: true },
      'third-party': { type: 'boolean' },
      'auth-method': { type: 'string' },
      'reuse-interval': { type: 'string' },
      'no-refresh-token': { type: 'boolean' },
    },
    async run({ admin }, v) {
      const type = str(v, 'type');
      const refreshToken = v['no-refresh-token']
        ? undefined
        : { reuseIntervalSeconds: int(v, 'reuse-interval') };
      const candidate: Record<string, unknown> = {
        type,
        clientId: str(v, 'client-id'),
        name: str(v, 'name'),
        firstParty: !v['third-party'],
      };
      if (type !== 'm2m') {
        candidate.callbackUrls = list(v, 'callback');
        candidate.logoutUrls = list(v, 'logout-url');
        candidate.refreshToken = refreshToken;
      }
      if (type === 'spa') candidate.webOrigins = list(v, 'web-origin');
      if (type !== 'spa' && v['auth-method']) candidate.tokenEndpointAuthMethod = v['auth-method'];
      const parsed = applicationSettingsSchema.safeParse(candidate);
      if (!parsed.success) throw new UsageError(zodMessage(parsed.error));
      const secret = type === 'spa' ? null : randomBytes(32).toString('base64url');
      await admin.createApplication(parsed.data, secret === null ? null : { value: secret });
      console.log(`created ${type} application ${parsed.data.clientId}`);
      if (secret) console.log(`client secret (shown once): ${secret}`);
    },
  },
  'add-client-grant': {
    summary: 'let a confidential application get scopes of an API with client_credentials',
    usage: 'add-client-grant --client-id <id> --api <identifier> --scope <value> [--scope <value>]...',
    options: {
      'client-id': { type: 'string' },
      api: { type: 'string' },
      scope: { type: 'string', multiple: true },
    },
    async run({ admin }, v) {
      const scopes = list(v, 'scope');
      if (scopes.length === 0) throw new UsageError('--scope is required');
      await admin.addClientGrant(str(v, 'client-id'), str(v, 'api'), scopes);
      console.log(`granted ${scopes.join(' ')} on ${v.api} to ${v['client-id']}`);
    },
  },
  'create-user': {
    summary: 'create a user (password from --password-stdin, or --password for throw-away demos)',
    usage:
      'create-user --email <email> [--name <name>] (--password-stdin | --password <password>) [--role <role>]...',
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      role: { type: 'string', multiple: true },
    },
    async run({ admin }, v) {
      const email = str(v, 'email');
      if (!v['password-stdin'] && v.password === undefined)
        throw new UsageError(
          'give the password on stdin with --password-stdin (or, for a throw-away demo, --password)',
        );
      const password = passwordSchema.safeParse(v['password-stdin'] ? readStdin() : str(v, 'password'));
      if (!password.success)
        throw new UsageError(`the password must have ${password.error.issues[0]!.message}`);
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new UsageError(`not an email address: ${email}`);
      const user = await admin.createUser({
        email,
        name: typeof v.name === 'string' ? v.name : email.split('@')[0]!,
        password: password.data,
        roles: list(v, 'role'),
      });
      console.log(`created user ${user.email} (${user.id})`);
    },
  },
  'create-role': {
    summary: 'create a role, optionally with permissions on one API',
    usage: 'create-role --name <role> [--description <text>] [--api <identifier> --scope <value>...]',
    options: {
      name: { type: 'string' },
      description: { type: 'string' },
      api: { type: 'string' },
      scope: { type: 'string', multiple: true },
    },
    async run({ admin }, v) {
      const name = str(v, 'name');
      if (!/^[A-Za-z0-9:._-]{1,64}$/.test(name))
        throw new UsageError('a role name is 1-64 characters among A-Z a-z 0-9 : . _ -');
      const scopes = list(v, 'scope');
      const api = scopes.length > 0 ? str(v, 'api') : undefined;
      await admin.createRole(name, typeof v.description === 'string' ? v.description : '', api, scopes);
      console.log(`created role ${name}`);
    },
  },
  'add-permission': {
    summary: 'add API permissions to a role',
    usage: 'add-permission --role <role> --api <identifier> --scope <value> [--scope <value>]...',
    options: { role: { type: 'string' }, api: { type: 'string' }, scope: { type: 'string', multiple: true } },
    async run({ admin }, v) {
      const scopes = list(v, 'scope');
      if (scopes.length === 0) throw new UsageError('--scope is required');
      await admin.addPermissions(str(v, 'role'), str(v, 'api'), scopes);
      console.log(`role ${v.role} may now get ${scopes.join(' ')} on ${v.api}`);
    },
  },
  'assign-role': {
    summary: 'give a user a role',
    usage: 'assign-role --email <email> --role <role>',
    options: { email: { type: 'string' }, role: { type: 'string' } },
    async run({ admin }, v) {
      await admin.assignRole(str(v, 'email'), str(v, 'role'));
      console.log(`${v.email} now has role ${v.role}`);
    },
  },
  'dev-cert': {
    summary: 'write a local CA and a certificate for localhost into DATA_DIR, for https in development',
    usage: 'dev-cert',
    options: {},
    run({ dataDir }) {
      const { files, newCa, notAfter } = writeDevCertificate(dataDir);
      // TLS_CERT_FILE and TLS_KEY_FILE are read relative to the app folder, as DATA_DIR is.
      const shown = (file: string) =>
        relative(APP_DIR, file).startsWith('..') ? file : relative(APP_DIR, file);
      console.log(`${newCa ? 'created a local certificate authority and ' : ''}a certificate for localhost, 127.0.0.1 and ::1 (valid until ${notAfter.toISOString().slice(0, 10)}):
  CA certificate     ${files.caCert}
  CA key             ${files.caKey} (keep it private: it can sign a certificate for any name)
  certificate        ${files.cert}
  key                ${files.key}

Serve https with them (the issuer becomes https://localhost:4000/):
  TLS_CERT_FILE=${shown(files.cert)} TLS_KEY_FILE=${shown(files.key)} npm run start:auth

Trust the CA where a client checks certificates:
  Node (auth0, openid-client, the Messages API):  NODE_EXTRA_CA_CERTS=${files.caCert}
  curl:                                          curl --cacert ${files.caCert} https://localhost:4000/.well-known/openid-configuration
  a browser:                                     import ${files.caCert} as a certificate authority
                                                 (Chrome: Settings > Privacy and security > Security > Manage certificates > Authorities;
                                                  Firefox: Settings > Privacy & Security > Certificates > View Certificates > Authorities)
This CA is for this machine's development only: never trust it anywhere else.`);
    },
  },
  'rotate-keys': {
    summary: 'rotate the signing key in steps: stage (publish), --activate (sign), --prune (drop old)',
    usage: 'rotate-keys [--activate | --prune [--older-than <seconds>]]',
    options: { activate: { type: 'boolean' }, prune: { type: 'boolean' }, 'older-than': { type: 'string' } },
    async run({ storage, tenant }, v) {
      if (v.activate && v.prune) throw new UsageError('give --activate or --prune, not both');
      if (v.activate) {
        const key = await activateKey(storage.keys);
        console.log(`key ${key.jwk.kid} now signs; the previous key stays published until pruned`);
        return;
      }
      if (v.prune) {
        // Longest lifetime of anything signed: access tokens of any API, ID tokens (1 h), plus an hour for caches.
        const apis = (await tenant.fresh()).config.apis;
        const longest = Math.max(3600, ...apis.map((a) => a.accessTokenLifetime)) + 3600;
        const removed = await pruneKeys(storage.keys, int(v, 'older-than') ?? longest);
        console.log(
          removed.length ? `removed ${removed.join(', ')}` : 'no retired key is old enough to remove',
        );
        return;
      }
      const key = await stageKey(storage.keys);
      console.log(
        `staged key ${key.jwk.kid}: published in the JWKS now, signing after "rotate-keys --activate"`,
      );
    },
  },
  'hash-password': {
    summary: 'print the argon2id hash of a password read from stdin (for passwordHash in the tenant file)',
    usage: 'hash-password < password.txt',
    options: {},
    async run() {
      console.log(await hashPassword(readStdin()));
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: npm run tenant -- <command> [options]   (DATA_DIR, DATABASE_URL and TENANT_FILE as for the server)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'npm run tenant -- <command> --help   shows the options of one command.',
  ].join('\n');
}

const NEEDS_NO_STORE = new Set(['hash-password', 'dev-cert']);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    // A usage error like any other: on stderr, so scripts see it.
    console.error(`no command given\n\n${help()}`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: npm run tenant -- ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  let values: Values;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: command.options,
      allowPositionals: name === 'list',
      strict: true,
    });
    values = parsed.values as Values;
    positionals = parsed.positionals;
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: npm run tenant -- ${command.usage}`);
    return 2;
  }
  const config = loadConfig();
  // --api may name the Management API as the tenant file does.
  if (values.api === MANAGEMENT_AUDIENCE_ALIAS) values.api = managementAudience(config.issuer);
  if (NEEDS_NO_STORE.has(name)) {
    await command.run({ dataDir: config.dataDir } as Context, values, positionals);
    return 0;
  }
  const tenantFile = loadTenantFile(config.tenantFile);
  const storage = await openStorage(config.storage);
  try {
    // The tenant file seeds an empty store, as the server does, so the CLI can run first.
    await seedTenant(storage.tenant, withManagementApi(tenantFile, config.issuer));
    const tenant = await TenantSnapshot.open(storage);
    const admin = new TenantAdmin(storage.tenant, tenant);
    await command.run({ storage, tenant, admin, dataDir: config.dataDir }, values, positionals);
    return 0;
  } finally {
    await storage.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (
    err instanceof UsageError ||
    err instanceof TenantAdminError ||
    err instanceof KeyStoreError ||
    err instanceof KeyFileError ||
    err instanceof StoreUnavailableError ||
    err instanceof ConfigError ||
    err instanceof TenantError
  ) {
    console.error(`error: ${err.message}`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
