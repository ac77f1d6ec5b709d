// What every Management API route needs, and Auth0-style ids for things the store keys by name.
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Logger } from 'pino';
import type { TenantOperations } from './tenant-operations.ts';

export type ManagementContext = {
  ops: TenantOperations;
  /** `<issuer>api/v2/`: the Management API itself, which cannot be changed through itself. */
  audience: string;
  /** The tenant's one database connection (Auth0's `connection` of users). */
  connection: string;
  /** Applications whose users may get Management API tokens: the console. */
  userClients: ReadonlySet<string>;
  logger: Logger;
};

const digest = (value: string, length: number) =>
  createHash('sha256').update(value).digest('hex').slice(0, length);

// The store keys APIs by identifier, roles by name and client grants by client and API; Auth0's clients
// address them by opaque ids, which are derived here so that they are stable and need no storage.
export const resourceServerId = (identifier: string) => digest(`resource-server ${identifier}`, 24);
export const roleId = (name: string) => `rol_${digest(`role ${name}`, 16)}`;
export const clientGrantId = (clientId: string, api: string) =>
  `cgr_${digest(`grant ${clientId} ${api}`, 16)}`;

/** The route's `:id`, as a string (Express decodes it). */
export const param = (req: Request, name = 'id'): string => String(req.params[name] ?? '');
