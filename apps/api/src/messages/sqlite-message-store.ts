// Messages in SQLite (node:sqlite). A write is acknowledged only once its row is committed:
// WAL with synchronous=FULL makes every commit durable across a power cut, not only a crash.
// The folder is private to the API's user (0700) and so are the database files (0600).
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Message, MessageStore } from './message-store.ts';

type Row = { id: number; text: string; owner: string; created_at: string };

const toMessage = (row: Row): Message => ({
  id: row.id,
  text: row.text,
  owner: row.owner,
  createdAt: row.created_at,
});

/** Creates the database file 0600 before SQLite does (it would use the umask: 0644), and tightens old ones. */
function privateFiles(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'messages.sqlite');
  closeSync(openSync(file, 'a', 0o600));
  // SQLite gives the -wal and -shm files the main file's mode; ones from older runs are fixed here.
  for (const name of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(name)) chmodSync(name, 0o600);
  return file;
}

export function openSqliteMessageStore(dataDir: string): MessageStore {
  const db = new DatabaseSync(privateFiles(dataDir));
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    PRAGMA busy_timeout = 5000;
    PRAGMA foreign_keys = ON;
    CREATE TABLE IF NOT EXISTS messages (
      id         INTEGER PRIMARY KEY AUTOINCREMENT,
      owner      TEXT NOT NULL,
      text       TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS messages_by_owner ON messages (owner, id);
  `);
  const insert = db.prepare(
    'INSERT INTO messages (owner, text, created_at) VALUES (?, ?, ?) RETURNING id, owner, text, created_at',
  );
  // Keyset pagination on (owner, id): each page is one index range, however deep the caller goes.
  const before = db.prepare(
    'SELECT id, owner, text, created_at FROM messages WHERE owner = ? AND id < ? ORDER BY id DESC LIMIT ?',
  );
  const one = db.prepare('SELECT id, owner, text, created_at FROM messages WHERE owner = ? AND id = ?');
  const remove = db.prepare('DELETE FROM messages WHERE owner = ? AND id = ?');
  return {
    // node:sqlite answers synchronously; a commit is durable before the promise resolves.
    async add(owner, text) {
      return toMessage(insert.get(owner, text, new Date().toISOString()) as Row);
    },
    async page(owner, limit, beforeId = Number.MAX_SAFE_INTEGER) {
      // One row more than asked says whether there is a next page, without a COUNT.
      const rows = before.all(owner, beforeId, limit + 1) as Row[];
      const messages = rows.slice(0, limit).map(toMessage);
      return { messages, next: rows.length > limit ? messages.at(-1)!.id : undefined };
    },
    async get(owner, id) {
      const row = one.get(owner, id) as Row | undefined;
      return row === undefined ? undefined : toMessage(row);
    },
    async remove(owner, id) {
      return Number(remove.run(owner, id).changes) > 0;
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
