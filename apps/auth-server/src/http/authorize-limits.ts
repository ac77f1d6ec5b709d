// Per-network limits on the sign-in interactions that GET and POST /authorize may store
// (security/interaction-throttle.ts), applied before oidc-provider sees the request. prompt=none never
// starts an interaction, so it is not counted (silent sign-in keeps working for a busy network).
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { InteractionThrottle } from '../security/interaction-throttle.ts';
import { networkOf } from '../security/network.ts';
import { messagePage } from './views.ts';

export function authorizeLimits(throttle: InteractionThrottle, logger: Logger) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' && req.query.prompt === 'none') {
      next();
      return;
    }
    const network = networkOf(req.ip);
    const reservation = await throttle.reserve(network);
    if (!reservation.admitted) {
      logger.warn({ network }, 'authorization refused: too many interactions from this network');
      res
        .status(429)
        .set('Retry-After', String(reservation.retryAfterSeconds))
        .set('Cache-Control', 'no-store')
        .type('html')
        .send(
          messagePage(
            'Too many sign-ins',
            'Too many sign-ins were started from your network. Wait a few minutes and try again.',
          ),
        );
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
