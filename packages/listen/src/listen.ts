// Where a program listens: loopback only by default (127.0.0.1, and ::1 where the machine has
// it, so that "localhost" reaches the program whichever address a client resolves it to), or
// the one address HOST names. A development server with demo accounts must not be reachable from
// the network just because it was started.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ListenOptions = {
  /** 0 picks a free port (the same one on both loopback addresses). */
  port: number;
  /** An address or host name to listen on instead of loopback ("0.0.0.0" or "::" for every interface). */
  host?: string | undefined;
  /** The servers speak TLS: the URL shown is https. */
  secure?: boolean;
};

export type Listening = {
  servers: readonly Server[];
  /** What each server is bound to, as "127.0.0.1:3001" or "[::1]:3001". */
  addresses: readonly string[];
  port: number;
  /** The URL to show people: http://localhost:<port> on loopback, else the host. */
  url: string;
  /** Stops accepting connections; resolves once every open one has ended. */
  close(): Promise<void>;
  closeIdleConnections(): void;
  closeAllConnections(): void;
};

const LOOPBACK_NAMES = new Set(['localhost', 'loopback']);
// Errors meaning "this machine has no IPv6 loopback": then 127.0.0.1 alone is loopback.
const NO_IPV6 = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL']);

function bind(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

const show = (address: AddressInfo): string =>
  address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;

/** 127.0.0.1 first, then ::1 on the same port; an ephemeral port taken on ::1 is tried again. */
async function listenOnLoopback(create: () => Server, port: number): Promise<Server[]> {
  for (let attempt = 1; ; attempt++) {
    const v4 = create();
    await bind(v4, port, '127.0.0.1');
    const bound = (v4.address() as AddressInfo).port;
    const v6 = create();
    try {
      await bind(v6, bound, '::1');
      return [v4, v6];
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (NO_IPV6.has(code)) return [v4];
      await closeServer(v4);
      if (code !== 'EADDRINUSE' || port !== 0 || attempt >= 5) throw error;
    }
  }
}

/** Listens per the options with servers from `create` (one per address, same handler, same settings). */
export async function listen(create: () => Server, options: ListenOptions): Promise<Listening> {
  const host = options.host?.trim() || undefined;
  const loopback = host === undefined || LOOPBACK_NAMES.has(host.toLowerCase());
  const servers = loopback ? await listenOnLoopback(create, options.port) : [create()];
  if (!loopback) await bind(servers[0]!, options.port, host!);
  const bound = servers.map((s) => s.address() as AddressInfo);
  const port = bound[0]!.port;
  const shownHost = loopback ? 'localhost' : host!.includes(':') ? `[${host}]` : host;
  return {
    servers,
    addresses: bound.map(show),
    port,
    url: `${options.secure ? 'https' : 'http'}://${shownHost}:${port}`,
    close: async () => {
      await Promise.all(servers.map(closeServer));
    },
    closeIdleConnections: () => {
      for (const s of servers) s.closeIdleConnections();
    },
    closeAllConnections: () => {
      for (const s of servers) s.closeAllConnections();
    },
  };
}
