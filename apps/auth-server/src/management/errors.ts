// Auth0's Management API error body, `{ statusCode, error, message, errorCode }`, for every refusal: token
// refusals (through jwt-bearer's errorBody), invalid input, missing and conflicting things.
import { STATUS_CODES } from 'node:http';
import { type BearerError, InsufficientScopeError } from '@calling-api/jwt-bearer';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { TenantConflict, TenantNotFound, TenantRuleError } from './tenant-operations.ts';

export type ManagementErrorBody = { statusCode: number; error: string; message: string; errorCode: string };

export class ManagementError extends Error {
  override name = 'ManagementError';
  readonly statusCode: number;
  readonly errorCode: string;

  constructor(statusCode: number, message: string, errorCode: string) {
    super(message);
    this.statusCode = statusCode;
    this.errorCode = errorCode;
  }

  body(): ManagementErrorBody {
    return {
      statusCode: this.statusCode,
      error: STATUS_CODES[this.statusCode] ?? 'Error',
      message: this.message,
      errorCode: this.errorCode,
    };
  }
}

export const invalidBody = (message: string) => new ManagementError(400, message, 'invalid_body');
export const invalidQuery = (message: string) => new ManagementError(400, message, 'invalid_query_string');
export const unsupported = (message: string) => new ManagementError(400, message, 'operation_not_supported');

const NOT_FOUND: Record<TenantNotFound['kind'], [message: string, errorCode: string]> = {
  api: ['The resource server does not exist.', 'inexistent_resource_server'],
  application: ['The client does not exist.', 'inexistent_client'],
  'client grant': ['The client grant does not exist.', 'inexistent_client_grant'],
  user: ['The user does not exist.', 'inexistent_user'],
  role: ['The role does not exist.', 'inexistent_role'],
};

export const notFound = (kind: TenantNotFound['kind']) => new ManagementError(404, ...NOT_FOUND[kind]);

/** A refusal of the token (jwt-bearer), in Auth0's shape; the WWW-Authenticate challenge is set by jwt-bearer. */
export function tokenRefusalBody(error: BearerError): ManagementErrorBody {
  const message =
    error.code === 'ERR_BEARER_MISSING'
      ? 'Missing authentication'
      : error instanceof InsufficientScopeError
        ? `Insufficient scope, expected any of: ${error.scopes.join(',')}`
        : error.description;
  return {
    statusCode: error.status,
    error: STATUS_CODES[error.status] ?? 'Error',
    message,
    errorCode: error.error ?? 'missing_authentication',
  };
}

/** The router's last handler: tenant errors and body-parser refusals in Auth0's shape; never a stack trace. */
export function managementErrors(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const refusal = toManagementError(err);
    if (refusal.statusCode >= 500) logger.error({ err }, 'management request failed');
    res.status(refusal.statusCode).json(refusal.body());
  };
}

function toManagementError(err: unknown): ManagementError {
  if (err instanceof ManagementError) return err;
  if (err instanceof TenantNotFound) return notFound(err.kind);
  if (err instanceof TenantConflict) return new ManagementError(409, err.message, 'conflict');
  if (err instanceof TenantRuleError) return invalidBody(err.message);
  // body-parser: malformed JSON, too large, another charset or encoding.
  const { type, status } = err as { type?: unknown; status?: unknown };
  if (type === 'entity.parse.failed') return invalidBody('Invalid request payload JSON format');
  if (type === 'entity.too.large') return new ManagementError(413, 'Payload too large', 'payload_too_large');
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new ManagementError(status, 'The request could not be read.', 'invalid_body');
  return new ManagementError(500, 'Internal error', 'internal_error');
}
