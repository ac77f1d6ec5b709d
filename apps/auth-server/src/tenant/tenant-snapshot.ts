// The tenant's configuration in memory: the token endpoint and oidc-provider's synchronous hooks read it without
// a database round trip. Each instance keeps one, reloaded when Storage.version('tenant') moves (SQLite's
// data_version, PostgreSQL's NOTIFY), so a change by the CLI or another instance applies to the next request.
import type { ApplicationRecord, RoleRecord, Storage, TenantConfig } from '../store/storage.ts';
import type { ApiDefinition } from './tenant-schema.ts';

export class TenantView {
  readonly config: TenantConfig;
  /** Origins of every registered callback and logout URL: where the hosted forms may lead (CSP form-action). */
  readonly redirectOrigins: readonly string[];
  /** Every SPA's allowed web origin: CORS for the routes served outside oidc-provider (/userinfo). */
  readonly webOrigins: ReadonlySet<string>;
  private readonly apis: Map<string, ApiDefinition>;
  private readonly applications: Map<string, ApplicationRecord>;
  /** client id → API → scopes */
  private readonly grants = new Map<string, Map<string, string[]>>();
  private readonly roles: Map<string, RoleRecord>;

  constructor(config: TenantConfig) {
    this.config = config;
    this.apis = new Map(config.apis.map((a) => [a.identifier, a]));
    this.applications = new Map(config.applications.map((a) => [a.clientId, a]));
    this.roles = new Map(config.roles.map((r) => [r.name, r]));
    for (const g of config.clientGrants) {
      const byApi = this.grants.get(g.clientId) ?? new Map<string, string[]>();
      byApi.set(g.api, [...(byApi.get(g.api) ?? []), g.scope]);
      this.grants.set(g.clientId, byApi);
    }
    const redirects = new Set<string>();
    const web = new Set<string>();
    for (const app of config.applications) {
      if (app.type === 'm2m') continue;
      for (const url of [...app.callbackUrls, ...app.logoutUrls]) redirects.add(new URL(url).origin);
      if (app.type === 'spa') for (const o of app.webOrigins) web.add(o);
    }
    this.redirectOrigins = [...redirects];
    this.webOrigins = web;
  }

  api(identifier: string): ApiDefinition | undefined {
    return this.apis.get(identifier);
  }

  application(clientId: string): ApplicationRecord | undefined {
    return this.applications.get(clientId);
  }

  role(name: string): RoleRecord | undefined {
    return this.roles.get(name);
  }

  /** Scopes of a client grant, or undefined when the client has no grant for that API. */
  clientGrantScopes(clientId: string, api: string): string[] | undefined {
    return this.grants.get(clientId)?.get(api);
  }

  clientGrants(): { clientId: string; api: string; scopes: string[] }[] {
    return [...this.grants].flatMap(([clientId, byApi]) =>
      [...byApi].map(([api, scopes]) => ({ clientId, api, scopes })),
    );
  }
}

export class TenantSnapshot {
  private readonly storage: Storage;
  private view: TenantView;
  private loadedVersion: number;
  private pending: { version: number; promise: Promise<TenantView> } | undefined;
  private started = 0;
  private applied = 0;

  private constructor(storage: Storage, view: TenantView, version: number) {
    this.storage = storage;
    this.view = view;
    this.loadedVersion = version;
  }

  static async open(storage: Storage): Promise<TenantSnapshot> {
    const version = storage.version('tenant');
    return new TenantSnapshot(storage, new TenantView(await storage.tenant.loadConfig()), version);
  }

  /** The last view loaded, for synchronous hooks; an async caller earlier in the same request made it fresh. */
  current(): TenantView {
    return this.view;
  }

  /** The view as of now: reloaded first when the tenant changed. StoreUnavailableError when that cannot be known. */
  async fresh(): Promise<TenantView> {
    const version = this.storage.version('tenant');
    return version === this.loadedVersion ? this.view : this.reload(version);
  }

  private reload(version: number): Promise<TenantView> {
    if (this.pending?.version === version) return this.pending.promise;
    // The version is read before loading: a change committed during the load moves it again, and the next
    // caller reloads. Of overlapping loads, the one started last wins.
    const seq = ++this.started;
    const promise = this.storage.tenant
      .loadConfig()
      .then((config) => {
        if (seq > this.applied) {
          this.applied = seq;
          this.view = new TenantView(config);
          this.loadedVersion = version;
        }
        return this.view;
      })
      .finally(() => {
        if (this.pending?.promise === promise) this.pending = undefined;
      });
    this.pending = { version, promise };
    return promise;
  }
}
