// The TCP sockets a process listens on, read from the kernel (/proc/<pid>/net and the process's
// own file descriptors), without connecting to anything: what a network scanner would find.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const LISTEN = '0A';

/** "0100007F:0BB9" (little-endian IPv4) or a 32-hex-digit IPv6 address, as "127.0.0.1:3001" / "[::1]:3001". */
function decode(hexAddress: string): string {
  const [hex, hexPort] = hexAddress.split(':') as [string, string];
  const port = Number.parseInt(hexPort, 16);
  if (hex.length === 8) {
    const bytes = hex
      .match(/../g)!
      .map((b) => Number.parseInt(b, 16))
      .reverse();
    return `${bytes.join('.')}:${port}`;
  }
  // Four 32-bit words, each little-endian.
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  const groups = words
    .join('')
    .match(/.{4}/g)!
    .map((g) => g.replace(/^0+(?=.)/, ''));
  const compact = groups
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/^:::/, '::');
  return `[${compact}]:${port}`;
}

/** Listening TCP addresses of process `pid`, sorted, e.g. ["127.0.0.1:3001", "[::1]:3001"]. */
export function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed in between
    }
  }
  const found: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === LISTEN && inodes.has(fields[9]!)) found.push(decode(fields[1]!));
    }
  }
  return found.sort();
}
