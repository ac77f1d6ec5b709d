// Messages in SQLite (node:sqlite). A write is acknowledged only once its row is committed:
// WAL with synchronous=FULL makes every commit durable across a power cut, not only a crash.
// The folder is private to the API's user (0700) and so are the database files (0600).
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export type Message = { id: number; text: string; owner: string; createdAt: string };

/** One page of a caller's messages, newest first; `next` is the id to continue before, if any. */
export type MessagePage = { messages: Message[]; next: number | undefined };

type Row = { id: number; text: string; owner: string; created_at: string };

const toMessage = (row: Row): Message => ({
  id: row.id,
  text: row.text,
  owner: row.owner,
  createdAt: row.created_at,
});

export type MessageStore = {
  add(owner: string, text: string): Message;
  /** At most `limit` of the owner's messages with an id below `before` (all when absent), newest first. */
  page(owner: string, limit: number, before?: number): MessagePage;
  /** The owner's message with this id; undefined when there is none, or it is someone else's. */
  get(owner: string, id: number): Message | undefined;
  /** Deletes the owner's message; false when there is none, or it is someone else's. */
  remove(owner: string, id: number): boolean;
  close(): void;
};

/** Creates the database file 0600 before SQLite does (it would use the umask: 0644), and tightens old ones. */
function privateFiles(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'messages.sqlite');
  closeSync(openSync(file, 'a', 0o600));
  // SQLite gives the -wal and -shm files the main file's mode; ones from older runs are fixed here.
  for (const name of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(name)) chmodSync(name, 0o600);
  return file;
}

export function openMessageStore(dataDir: string): MessageStore {
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
    add(owner, text) {
      return toMessage(insert.get(owner, text, new Date().toISOString()) as Row);
    },
    page(owner, limit, beforeId = Number.MAX_SAFE_INTEGER) {
      // One row more than asked says whether there is a next page, without a COUNT.
      const rows = before.all(owner, beforeId, limit + 1) as Row[];
      const messages = rows.slice(0, limit).map(toMessage);
      return { messages, next: rows.length > limit ? messages.at(-1)!.id : undefined };
    },
    get(owner, id) {
      const row = one.get(owner, id) as Row | undefined;
      return row === undefined ? undefined : toMessage(row);
    },
    remove(owner, id) {
      return Number(remove.run(owner, id).changes) > 0;
    },
    close() {
      if (db.isOpen) db.close();
    },
  };
}
