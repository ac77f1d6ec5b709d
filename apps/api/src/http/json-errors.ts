// Every answer is JSON `{ error, error_description }`, including the ones Express and
// body-parser would otherwise render as HTML: unknown route, wrong method, bad body.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../logger.ts';
import { MessageStoreUnavailable } from '../messages/message-store.ts';

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'not_found', error_description: `No route for ${req.method} ${req.path}.` });
};

export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  return (req, res) => {
    res
      .status(405)
      .set('Allow', allowed.join(', '))
      .json({
        error: 'method_not_allowed',
        error_description: `${req.method} is not allowed here; use ${allowed.join(' or ')}.`,
      });
  };
}

type HttpError = Error & { status?: number; statusCode?: number; type?: string; expose?: boolean };

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'invalid_request', 'The request body is not valid JSON.'],
  'entity.too.large': [413, 'payload_too_large', 'The request body is too large.'],
  'encoding.unsupported': [415, 'unsupported_media_type', 'The request body encoding is not supported.'],
  'charset.unsupported': [415, 'unsupported_media_type', 'The request body charset is not supported.'],
  'request.aborted': [400, 'invalid_request', 'The request body was not received completely.'],
  'request.size.invalid': [400, 'invalid_request', 'The request body length does not match Content-Length.'],
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: HttpError, req, res, _next) => {
    const known = error.type !== undefined ? CLIENT_ERRORS[error.type] : undefined;
    const status = known?.[0] ?? error.status ?? error.statusCode ?? 500;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // The database is restarting or unreachable: a quick answer the client may retry, never a hang or a 500.
    if (error instanceof MessageStoreUnavailable) {
      logger.warn({ method: req.method }, 'message store unavailable');
      res.status(503).set('Retry-After', '1').json({
        error: 'temporarily_unavailable',
        error_description: 'The messages cannot be reached right now; try again in a moment.',
      });
      return;
    }
    if (status >= 400 && status < 500) {
      res.status(status).json({
        error: known?.[1] ?? 'invalid_request',
        error_description: known?.[2] ?? (error.expose ? error.message : 'The request is malformed.'),
      });
      return;
    }
    // A bug of ours: logged with its stack (the request line follows), answered without it.
    logger.error({ err: error, method: req.method }, 'unhandled error');
    res
      .status(500)
      .json({ error: 'server_error', error_description: 'The API failed to handle this request.' });
  };
}
