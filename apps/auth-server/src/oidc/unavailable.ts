// A database outage seen through oidc-provider: 503 temporarily_unavailable, never its generic 500 server_error.
import { errors } from 'oidc-provider';
import { StoreUnavailableError } from '../store/storage.ts';

export function asOidcError(err: unknown): unknown {
  if (!(err instanceof StoreUnavailableError)) return err;
  const unavailable = new errors.TemporarilyUnavailable(
    'the authorization server cannot reach its database; try again in a moment',
    { cause: err },
  );
  // oidc-provider answers with statusCode and shows the error (expose) because it is built as a 4xx.
  unavailable.status = 503;
  unavailable.statusCode = 503;
  return unavailable;
}

/** Awaits `work`, turning a store outage into oidc-provider's 503 error. */
export async function guard<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw asOidcError(err);
  }
}
