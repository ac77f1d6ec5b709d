// Logs that never contain credentials, at a cost of one to a few µs a line (npm run bench).
//
// pino writes the program's own lines (starting, stopping, errors). The request log, one line per
// request and so the hot path, is written by `requestLine` below in exactly pino's form (level,
// time, service, fields, msg): pino's generic serializer cost more than a whole verified request's
// checks, and a request line always has the same eight fields.
//
// Lines gather in one string and go to sonic-boom at least 16 KiB at a time (or every 200 ms), so
// a request never waits on the terminal or the log collector and a line costs one string
// concatenation: handed over one by one, sonic-boom either measured its whole pending string on
// every write (string mode) or made a Buffer per line (buffer mode), several µs a line under load.
// A reader that has gone (EPIPE) only stops the logging: the buffer is flushed asynchronously on
// shutdown, never with sonic-boom's exit-time flushSync, which retries a write to a closed pipe
// forever and so kept the API from ever stopping.
import type { RequestListener } from 'node:http';
import { LOCALS } from '@calling-api/jwt-bearer/express';
import type { Request, Response } from 'express';
import { pino } from 'pino';
import sonicBoom from 'sonic-boom';

export type Logger = pino.Logger;

export type Log = {
  logger: Logger;
  /** Appends one complete line (ending in a newline) to what goes out next. */
  write(line: string): void;
  /** Writes out what is buffered; resolves within `timeoutMs` even if the reader is stuck or gone. */
  flush(timeoutMs?: number): Promise<void>;
  /** Lines dropped because the buffer was full (a reader slower than the traffic). */
  readonly dropped: number;
};

const BATCH_CHARS = 16 * 1024; // one write per ~80 request lines
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024; // beyond this, lines are dropped, not queued in memory
const FLUSH_EVERY_MS = 200; // a quiet server's lines still show up promptly

export function createLog(level: string, fd = 1): Log {
  const stream = new sonicBoom.SonicBoom({
    fd,
    sync: false,
    maxLength: MAX_BUFFERED_BYTES,
    contentMode: 'buffer',
  });
  let dropped = 0;
  stream.on('drop', (batch: Buffer) => {
    for (let at = batch.indexOf(10); at >= 0; at = batch.indexOf(10, at + 1)) dropped++;
  });
  let pending = '';
  const handOver = () => {
    if (pending === '') return;
    stream.write(Buffer.from(pending) as unknown as string);
    pending = '';
  };
  setInterval(handOver, FLUSH_EVERY_MS).unref();
  const write = (line: string) => {
    pending += line;
    if (pending.length >= BATCH_CHARS) handOver();
  };
  const logger = pino({ level, base: { service: 'api' } }, { write });
  // A write error (EPIPE: the reader has gone) ends logging: nothing is left to read it.
  stream.on('error', () => {
    logger.level = 'silent';
  });
  return {
    logger,
    write(line) {
      if (logger.level !== 'silent') write(line);
    },
    get dropped() {
      return dropped;
    },
    flush(timeoutMs = 2000) {
      if (logger.level === 'silent') return Promise.resolve();
      handOver();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        stream.flush(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

// A JWT sent as a path segment by mistake must not reach the log: three (JWS) or five (JWE)
// base64url parts, the first a JSON object ("eyJ"), dots possibly percent-encoded.
const JWT_SEGMENT = /eyJ[\w-]*(?:\.|%2e)[\w-]*(?:\.|%2e)/i;
const MAX_PATH = 512;

/** The request path for a log line: no query (values may be secrets), JWT-shaped segments masked, bounded. */
export function loggedPath(url: string | undefined): string {
  const raw = url ?? '';
  const end = raw.indexOf('?');
  let path = end < 0 ? raw : raw.slice(0, end);
  if (path.includes('eyJ') || path.includes('EYJ') || path.includes('eyj')) {
    path = path
      .split('/')
      .map((segment) => (JWT_SEGMENT.test(segment) ? '[token]' : segment))
      .join('/');
  }
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}...` : path;
}

const LEVEL = { info: 30, warn: 40, error: 50 } as const;

function levelOf(status: number): keyof typeof LEVEL {
  if (status === 503) return 'warn'; // "not ready yet": expected while the issuer starts
  return status >= 500 ? 'error' : 'info';
}

/** A field for the line, or nothing when absent; JSON.stringify escapes whatever a token's claim holds. */
function field(name: string, value: unknown): string {
  return value === undefined ? '' : `,"${name}":${JSON.stringify(value)}`;
}

/** The request's line as pino would write it: `{"level","time","service",fields...,"msg":"request"}`. */
export function requestLine(req: Request, res: Response, level: keyof typeof LEVEL, ms: number): string {
  const payload = req.auth?.payload;
  return (
    `{"level":${LEVEL[level]},"time":${Date.now()},"service":"api"` +
    `,"method":${JSON.stringify(req.method)},"path":${JSON.stringify(loggedPath(req.originalUrl ?? req.url))}` +
    `,"status":${res.statusCode},"ms":${Math.round(ms * 10) / 10}` +
    field('sub', payload?.['sub']) +
    field('client_id', payload?.['client_id'] ?? payload?.['azp']) +
    field('refusal', res.locals?.[LOCALS.refusal]) +
    (res.writableFinished ? '' : ',"aborted":true') +
    ',"msg":"request"}\n'
  );
}

/**
 * One line per request once its answer is sent ('close' also comes when the client gave up
 * first): method, path (no query), status, time, the caller (`sub`, `client_id`) when the token
 * was verified, and the refusal code when it was refused. Never a header, a token or a stack.
 * It wraps the whole app, around Express rather than as one more layer of its router.
 */
export function withRequestLog(app: RequestListener, log: Log): RequestListener {
  return (req, res) => {
    const started = performance.now();
    res.on('close', () => {
      const level = levelOf(res.statusCode);
      if (!log.logger.isLevelEnabled(level)) return;
      log.write(requestLine(req as Request, res as Response, level, performance.now() - started));
    });
    app(req, res);
  };
}
