// The caller's own messages: read with read:messages, write with write:messages. The owner is
// always the token's sub, never a value from the request.
import { requiredScopes } from '@calling-api/jwt-bearer/express';
import express, { type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { methodNotAllowed } from '../http/json-errors.ts';
import type { MessageStore } from '../messages/message-store.ts';

export const NewMessage = z.strictObject({
  text: z
    .string({ error: 'text must be a string' })
    .min(1, 'text must not be empty')
    .max(500, 'text must be at most 500 characters')
    .refine((t) => t.trim().length > 0, 'text must not be blank'),
});

export function messageRoutes(protect: RequestHandler[], store: MessageStore): Router {
  const router = Router();
  const ownerOf = (payload: Record<string, unknown> | undefined): string => String(payload?.['sub']);

  router.get('/api/messages', ...protect, requiredScopes('read:messages'), (req, res) => {
    const sub = ownerOf(req.auth?.payload);
    res.json({ sub, messages: store.listByOwner(sub) });
  });

  router.post(
    '/api/messages',
    ...protect,
    requiredScopes('write:messages'),
    (req, res, next) => {
      if (!req.is('application/json')) {
        res.status(415).json({
          error: 'unsupported_media_type',
          error_description: 'Send the message as application/json.',
        });
        return;
      }
      next();
    },
    express.json({ limit: '16kb', strict: true }),
    (req, res) => {
      const parsed = NewMessage.safeParse(req.body);
      if (!parsed.success) {
        res.status(400).json({
          error: 'invalid_request',
          error_description: parsed.error.issues
            .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
            .join('; '),
        });
        return;
      }
      const message = store.add(ownerOf(req.auth?.payload), parsed.data.text);
      res.status(201).json({ message: 'Message stored.', ...message, sub: message.owner });
    },
  );
  router.all('/api/messages', methodNotAllowed(['GET', 'POST']));
  return router;
}
