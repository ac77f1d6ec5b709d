// Logs that never contain credentials, at a cost of about a µs a line.
//
// pino writes through sonic-boom asynchronously: lines gather in a bounded buffer and reach
// stdout in batches, so a request never waits on the terminal or the log collector. A reader
// that has gone (EPIPE) only stops the logging: the buffer is flushed asynchronously on
// shutdown, never with sonic-boom's exit-time flushSync, which retries a write to a closed pipe
// forever and so kept the API from ever stopping.
//
// Each line enters sonic-boom as a Buffer: in its string mode sonic-boom measures the whole
// pending string on every write, which made a line cost several µs once the buffer filled.
import type { RequestListener } from 'node:http';
import { LOCALS } from '@calling-api/jwt-bearer/express';
import type { Request, Response } from 'express';
import { pino } from 'pino';
import sonicBoom from 'sonic-boom';

export type Logger = pino.Logger;

export type Log = {
  logger: Logger;
  /** Writes out what is buffered; resolves within `timeoutMs` even if the reader is stuck or gone. */
  flush(timeoutMs?: number): Promise<void>;
  /** Lines dropped because the buffer was full (a reader slower than the traffic). */
  readonly dropped: number;
};

const BUFFER_BYTES = 16 * 1024 - 1; // just under sonic-boom's largest write: one per ~90 request lines
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024; // beyond this, lines are dropped, not queued in memory
const FLUSH_EVERY_MS = 200; // a quiet server's lines still show up promptly

export function createLog(level: string, fd = 1): Log {
  const stream = new sonicBoom.SonicBoom({
    fd,
    sync: false,
    minLength: BUFFER_BYTES,
    maxLength: MAX_BUFFERED_BYTES,
    periodicFlush: FLUSH_EVERY_MS,
    contentMode: 'buffer',
  });
  let dropped = 0;
  stream.on('drop', () => {
    dropped++;
  });
  const destination = { write: (line: string) => stream.write(Buffer.from(line) as unknown as string) };
  const logger = pino({ level, base: { service: 'api' } }, destination);
  // A write error (EPIPE: the reader has gone) ends logging: nothing is left to read it.
  stream.on('error', () => {
    logger.level = 'silent';
  });
  return {
    logger,
    get dropped() {
      return dropped;
    },
    flush(timeoutMs = 2000) {
      if (logger.level === 'silent') return Promise.resolve();
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

function levelOf(status: number): 'info' | 'warn' | 'error' {
  if (status === 503) return 'warn'; // "not ready yet": expected while the issuer starts
  return status >= 500 ? 'error' : 'info';
}

function logRequest(logger: Logger, req: Request, res: Response, started: number): void {
  const status = res.statusCode;
  const payload = req.auth?.payload;
  logger[levelOf(status)](
    {
      method: req.method,
      path: loggedPath(req.originalUrl ?? req.url),
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
      sub: payload?.['sub'],
      client_id: payload?.['client_id'] ?? payload?.['azp'],
      refusal: res.locals?.[LOCALS.refusal],
      aborted: res.writableFinished ? undefined : true,
    },
    'request',
  );
}

/**
 * One line per request once its answer is sent ('close' also comes when the client gave up
 * first): method, path (no query), status, time, the caller (`sub`, `client_id`) when the token
 * was verified, and the refusal code when it was refused. Never a header, a token or a stack.
 * It wraps the whole app, around Express rather than as one more layer of its router.
 */
export function withRequestLog(app: RequestListener, logger: Logger): RequestListener {
  return (req, res) => {
    const started = performance.now();
    res.on('close', () => logRequest(logger, req as Request, res as Response, started));
    app(req, res);
  };
}
