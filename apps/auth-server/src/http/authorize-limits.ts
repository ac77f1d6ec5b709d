// Per-network limits on what GET and POST /authorize may store (security/interaction-throttle.ts), applied
// before oidc-provider sees the request: a rate for every request (each signed-in answer stores a code),
// then a rate and a cap for new sign-in interactions. prompt=none never starts an interaction, so only
// the first applies to it.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { InteractionThrottle } from '../security/interaction-throttle.ts';
import { networkOf } from '../security/network.ts';
import { messagePage } from './views.ts';

export function authorizeLimits(throttle: InteractionThrottle, logger: Logger) {
  const tooMany = (res: Response, retryAfterSeconds: number) =>
    res
      .status(429)
      .set('Retry-After', String(retryAfterSeconds))
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(
        messagePage(
          'Too many sign-ins',
          'Too many sign-ins were started from your network. Wait a few minutes and try again.',
        ),
      );
  return async (req: Request, res: Response, next: NextFunction) => {
    const network = networkOf(req.ip);
    const request = await throttle.admitRequest(network);
    if (!request.ok) {
      logger.warn({ network }, 'authorization refused: too many authorization requests from this network');
      tooMany(res, request.retryAfterSeconds);
      return;
    }
    if (req.method === 'GET' && req.query.prompt === 'none') {
      next();
      return;
    }
    const reservation = await throttle.reserve(network);
    if (!reservation.admitted) {
      logger.warn({ network }, 'authorization refused: too many interactions from this network');
      tooMany(res, reservation.retryAfterSeconds);
      return;
    }
    // oidc-provider answers an interaction it stored with a redirect to its page (interactions.url).
    res.once('close', () => {
      const created =
        res.headersSent &&
        res.statusCode === 303 &&
        String(res.getHeader('location')).startsWith('/interaction/');
      reservation.settle(created).catch((err: unknown) => logger.error({ err }, 'interaction reservation'));
    });
    next();
  };
}
