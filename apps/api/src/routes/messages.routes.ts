// The caller's own messages: read with read:messages, write and delete with write:messages. The
// owner is always the token's sub, never a value from the request; someone else's message is
// answered exactly like one that does not exist (404), so ids reveal nothing.
import { requiredScopes } from '@calling-api/jwt-bearer/express';
import express, { type Request, type RequestHandler, type Response, Router } from 'express';
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

export const MAX_PAGE = 100;

/** An opaque cursor: the id to continue before, so a page boundary survives inserts and deletes. */
const encodeCursor = (id: number): string => Buffer.from(`before:${id}`).toString('base64url');

const cursor = z.string().transform((value, ctx) => {
  const match = /^before:([1-9]\d{0,15})$/.exec(Buffer.from(value, 'base64url').toString('latin1'));
  if (!match || !Number.isSafeInteger(Number(match[1]))) {
    ctx.addIssue({ code: 'custom', message: 'cursor is not one this API issued' });
    return z.NEVER;
  }
  return Number(match[1]);
});

export const PageQuery = z.object({
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(MAX_PAGE, `limit must be at most ${MAX_PAGE}`)
    .default(MAX_PAGE),
  cursor: cursor.optional(),
});

const MessageId = z
  .string()
  .regex(/^[1-9]\d{0,15}$/)
  .transform(Number);

const ownerOf = (req: Request): string => String(req.auth?.payload['sub']);

function invalid(res: Response, issues: readonly z.core.$ZodIssue[]): void {
  res.status(400).json({
    error: 'invalid_request',
    error_description: issues
      .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
      .join('; '),
  });
}

function noSuchMessage(res: Response): void {
  res.status(404).json({ error: 'not_found', error_description: 'No message with this id.' });
}

const requireJson: RequestHandler = (req, res, next) => {
  if (!req.is('application/json')) {
    res.status(415).json({
      error: 'unsupported_media_type',
      error_description: 'Send the message as application/json.',
    });
    return;
  }
  next();
};

export function messageRoutes(protect: RequestHandler[], store: MessageStore): Router {
  const router = Router();
  const canRead = [...protect, requiredScopes('read:messages')];
  const canWrite = [...protect, requiredScopes('write:messages')];

  router.get('/api/messages', ...canRead, async (req, res) => {
    const query = PageQuery.safeParse(req.query);
    if (!query.success) return invalid(res, query.error.issues);
    const { limit, cursor: before } = query.data;
    const sub = ownerOf(req);
    const page = await store.page(sub, limit, before);
    const next = page.next === undefined ? null : encodeCursor(page.next);
    // RFC 8288: the next page as a link relative to this resource, for clients that follow links.
    if (next !== null) res.set('Link', `</api/messages?limit=${limit}&cursor=${next}>; rel="next"`);
    res.json({ sub, messages: page.messages, next });
  });

  router.post(
    '/api/messages',
    ...canWrite,
    requireJson,
    express.json({ limit: '16kb', strict: true }),
    async (req, res) => {
      const parsed = NewMessage.safeParse(req.body);
      if (!parsed.success) return invalid(res, parsed.error.issues);
      const message = await store.add(ownerOf(req), parsed.data.text);
      res.status(201).json({ message: 'Message stored.', ...message, sub: message.owner });
    },
  );

  router.get('/api/messages/:id', ...canRead, async (req, res) => {
    const id = MessageId.safeParse(req.params['id']);
    const message = id.success ? await store.get(ownerOf(req), id.data) : undefined;
    if (message === undefined) return noSuchMessage(res);
    res.json(message);
  });

  router.delete('/api/messages/:id', ...canWrite, async (req, res) => {
    const id = MessageId.safeParse(req.params['id']);
    if (!id.success || !(await store.remove(ownerOf(req), id.data))) return noSuchMessage(res);
    res.status(204).end();
  });

  router.all('/api/messages', methodNotAllowed(['GET', 'POST']));
  router.all('/api/messages/:id', methodNotAllowed(['GET', 'DELETE']));
  return router;
}
