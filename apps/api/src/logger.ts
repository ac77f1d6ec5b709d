// pino logs that never contain credentials: requests are serialized by hand (method, path with
// any access_token value masked, status), so no header (Authorization, Cookie) is ever written.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'api' },
    redact: {
      paths: ['authorization', 'token', '*.authorization', '*.token', '*.headers'],
      censor: '[redacted]',
    },
  });
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
