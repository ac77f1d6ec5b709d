// pino logs that never contain credentials: requests are serialized by hand (method, path with
// any access_token value masked, status), so no header (Authorization, Cookie) is ever written.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';

export type Logger = pino.Logger;

function ignoreGoneReader(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

export function createLogger(level: string): Logger {
  // process.stdout rather than pino's default sonic-boom: sonic-boom's exit-time flushSync
  // retries a write to a pipe whose reader has gone (EPIPE) forever, so the API could never be
  // stopped once the terminal or log collector died. A gone reader only stops the logging.
  if (!process.stdout.listeners('error').includes(ignoreGoneReader))
    process.stdout.on('error', ignoreGoneReader);
  return pino(
    {
      level,
      base: { service: 'api' },
      redact: {
        paths: ['authorization', 'token', '*.authorization', '*.token', '*.headers'],
        censor: '[redacted]',
      },
    },
    process.stdout,
  );
}

export function maskUrl(url: string | undefined): string {
  return (url ?? '').replace(/([?&]access_token=)[^&#]*/gi, '$1[redacted]');
}

export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    wrapSerializers: false,
    serializers: {
      req: (req: IncomingMessage & { id?: unknown }) => ({
        id: req.id,
        method: req.method,
        url: maskUrl(req.url),
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    // A 503 is the API saying "not ready yet" (no signing keys so far): expected while the
    // issuer starts, so a warning, not an error.
    customLogLevel: (_req, res, error) => {
      if (res.statusCode === 503) return 'warn';
      return error || res.statusCode >= 500 ? 'error' : 'info';
    },
  });
}
