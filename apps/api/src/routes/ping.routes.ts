// The original quickstart's three endpoints, with the same wording, plus who is calling.
import type { JsonObject } from '@calling-api/jwt-bearer';
import { requiredScopes } from '@calling-api/jwt-bearer/express';
import { type RequestHandler, Router } from 'express';
import { methodNotAllowed } from '../http/json-errors.ts';

const caller = (payload: JsonObject | undefined) => ({
  sub: payload?.['sub'],
  scope: payload?.['scope'],
});

export function pingRoutes(protect: RequestHandler[]): Router {
  const router = Router();
  router.get('/api/public', (_req, res) => {
    res.json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." });
  });
  router.get('/api/private', ...protect, (req, res) => {
    res.json({
      message: 'Hello from a private endpoint! You need to be authenticated to see this.',
      ...caller(req.auth?.payload),
    });
  });
  router.get('/api/private-scoped', ...protect, requiredScopes('read:messages'), (req, res) => {
    res.json({
      message:
        'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
      ...caller(req.auth?.payload),
    });
  });
  for (const path of ['/api/public', '/api/private', '/api/private-scoped']) {
    router.all(path, methodNotAllowed(['GET']));
  }
  return router;
}
