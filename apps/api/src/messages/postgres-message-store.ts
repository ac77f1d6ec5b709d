// Messages in PostgreSQL (DATABASE_URL), shared by every API instance. Each call is one statement on a
// pooled connection, so a 201 means the row is committed; the identity column hands out increasing ids
// across instances, which keeps keyset pagination on (owner, id) what it is on SQLite.
import { createPool, isUnavailable, type Migration, migrate } from '@calling-api/postgres';
import type { Logger } from 'pino';
import { type Message, type MessageStore, MessageStoreUnavailable } from './message-store.ts';

const MIGRATIONS: Migration[] = [
  {
    name: 'messages',
    sql: `
CREATE TABLE messages (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner      text NOT NULL,
  text       text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 500),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_by_owner ON messages (owner, id);`,
  },
];

type Row = { id: number; text: string; owner: string; created_at: Date };

const toMessage = (row: Row): Message => ({
  id: row.id,
  text: row.text,
  owner: row.owner,
  createdAt: row.created_at.toISOString(),
});

const COLUMNS = 'id, owner, text, created_at';

export async function openPostgresMessageStore(
  config: { url: string; poolSize: number },
  logger?: Logger,
): Promise<MessageStore> {
  const pool = createPool(config.url, {
    name: 'messages-api',
    size: config.poolSize,
    onIdleError: (err) => logger?.warn({ err: err.message }, 'idle database connection lost'),
  });
  const query = async (name: string, text: string, values: unknown[]): Promise<Row[]> => {
    try {
      return (await pool.query<Row>({ name, text, values })).rows;
    } catch (err) {
      if (isUnavailable(err))
        throw new MessageStoreUnavailable('the database is unreachable', { cause: err });
      throw err;
    }
  };
  try {
    const client = await pool.connect();
    try {
      await migrate(client, {
        lock: 'messages-api migrations',
        table: 'messages_schema',
        migrations: MIGRATIONS,
      });
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end();
    throw isUnavailable(err)
      ? new MessageStoreUnavailable('the database is unreachable', { cause: err })
      : err;
  }
  return {
    async add(owner, text) {
      const [row] = await query(
        'message-add',
        `INSERT INTO messages (owner, text) VALUES ($1, $2) RETURNING ${COLUMNS}`,
        [owner, text],
      );
      return toMessage(row!);
    },
    async page(owner, limit, before = Number.MAX_SAFE_INTEGER) {
      // One row more than asked says whether there is a next page, without a COUNT.
      const rows = await query(
        'message-page',
        `SELECT ${COLUMNS} FROM messages WHERE owner = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
        [owner, before, limit + 1],
      );
      const messages = rows.slice(0, limit).map(toMessage);
      return { messages, next: rows.length > limit ? messages.at(-1)!.id : undefined };
    },
    async get(owner, id) {
      const [row] = await query(
        'message-get',
        `SELECT ${COLUMNS} FROM messages WHERE owner = $1 AND id = $2`,
        [owner, id],
      );
      return row && toMessage(row);
    },
    async remove(owner, id) {
      const rows = await query(
        'message-remove',
        'DELETE FROM messages WHERE owner = $1 AND id = $2 RETURNING id, owner, text, created_at',
        [owner, id],
      );
      return rows.length > 0;
    },
    close: () => pool.end(),
  };
}
