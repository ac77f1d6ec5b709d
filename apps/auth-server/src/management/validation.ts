// Every body and query string is parsed with zod before a handler sees it; a refusal says what and where,
// in the words of Auth0's "Payload validation error" / "Query validation error".
import type { Request } from 'express';
import { type ZodType, z } from 'zod';
import { invalidBody, invalidQuery } from './errors.ts';

function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys')
    return `'Additional properties not allowed: ${issue.keys.join(',')}'`;
  const path = issue.path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  );
  return `'${issue.message}'${path ? ` on property ${path}` : ''}`;
}

export function parseBody<T>(schema: ZodType<T>, req: Request): T {
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw invalidBody(`Payload validation error: ${describe(parsed.error)}.`);
  return parsed.data;
}

export function parseQuery<T>(schema: ZodType<T>, req: Request): T {
  const parsed = schema.safeParse(req.query);
  if (!parsed.success) throw invalidQuery(`Query validation error: ${describe(parsed.error)}.`);
  return parsed.data;
}

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const count = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/** Auth0's paging (`page`, `per_page`, `include_totals`) and field selection, shared by the list endpoints. */
export const listQuery = {
  page: count(0, 100_000).default(0),
  per_page: count(1, 100).default(50),
  include_totals: flag.default(false),
  fields: z.string().max(1000).optional(),
  include_fields: flag.default(true),
};

/** Auth0's checkpoint paging (`from`, `take`), for client grants and a role's users; `from` is where to start. */
export const checkpointQuery = {
  from: z
    .string()
    .regex(/^\d{1,6}$/, 'must be a value from a previous answer\'s "next"')
    .optional(),
  take: count(1, 100).optional(),
};

/** Field selection alone, for endpoints that answer one thing. */
export const fieldsQuery = z.strictObject({
  fields: listQuery.fields,
  include_fields: listQuery.include_fields,
});

export type ListQuery = { page: number; per_page: number; include_totals: boolean } & FieldSelection;
export type FieldSelection = { fields?: string | undefined; include_fields: boolean };

/** Keeps (or, with include_fields=false, drops) the named top-level fields. */
export function selectFields<T extends object>(item: T, selection: FieldSelection): Partial<T> {
  if (!selection.fields) return item;
  const names = new Set(selection.fields.split(',').map((f) => f.trim()));
  return Object.fromEntries(
    Object.entries(item).filter(([key]) => names.has(key) === selection.include_fields),
  ) as Partial<T>;
}

/**
 * One page of `items` as Auth0 answers it: the bare array, or with include_totals an object with the page's
 * place (`start`, `limit`, `total`) under `key`. Checkpoint paging adds `next` while more remain.
 */
export function page<T extends object>(
  key: string,
  items: readonly T[],
  query: ListQuery & { from?: string | undefined; take?: number | undefined },
  total = items.length,
  preSliced = false,
): unknown {
  const checkpoint = query.from !== undefined || query.take !== undefined;
  const limit = checkpoint ? (query.take ?? 50) : query.per_page;
  const start = checkpoint ? Number(query.from ?? 0) : query.page * query.per_page;
  const slice = (preSliced ? items : items.slice(start, start + limit)).map((i) => selectFields(i, query));
  if (!query.include_totals && !checkpoint) return slice;
  const next = start + slice.length < total ? String(start + slice.length) : undefined;
  return {
    [key]: slice,
    start,
    limit,
    total,
    ...(key === 'users' ? { length: slice.length } : {}),
    ...(checkpoint && next !== undefined ? { next } : {}),
  };
}

/** Where a page starts and how long it is, for lists the store pages itself. */
export function offsetLimit(query: ListQuery & { from?: string | undefined; take?: number | undefined }) {
  const checkpoint = query.from !== undefined || query.take !== undefined;
  return checkpoint
    ? { offset: Number(query.from ?? 0), limit: query.take ?? 50 }
    : { offset: query.page * query.per_page, limit: query.per_page };
}
