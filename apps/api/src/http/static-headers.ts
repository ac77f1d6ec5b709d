// helmet's headers do not depend on the request (no nonces here): they are computed once, at
// start-up, by running helmet against a recording response, and then set in one loop per request
// instead of through helmet's chain of a dozen middleware calls. helmet stays their only source.
import type { Request, RequestHandler, Response } from 'express';

export function staticHeaders(middleware: RequestHandler): RequestHandler {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: () => {}, // X-Powered-By: Express's own is disabled
  };
  let finished = false;
  void middleware({ headers: {} } as Request, recorder as unknown as Response, () => {
    finished = true;
  });
  if (!finished)
    throw new Error('the header middleware did not finish synchronously; it cannot be precomputed');
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
