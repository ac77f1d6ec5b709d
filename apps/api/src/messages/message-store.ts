// Messages in SQLite (node:sqlite). A POST is acknowledged only once its row is committed:
// WAL with synchronous=FULL makes every commit durable across a power cut, not only a crash.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export type Message = { id: number; text: string; owner: string; createdAt: string };

type Row = { id: number; text: string; owner: string; created_at: string };

const toMessage = (row: Row): Message => ({
  id: row.id,
  text: row.text,
  owner: row.owner,
  createdAt: row.created_at,
});

export type MessageStore = {
  add(owner: string, text: string): Message;
  listByOwner(owner: string, limit?: number): Message[];
  close(): void;
};

export function openMessageStore(dataDir: string): MessageStore {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(join(dataDir, 'messages.sqlite'));
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
  const list = db.prepare(
    'SELECT id, owner, text, created_at FROM messages WHERE owner = ? ORDER BY id DESC LIMIT ?',
  );
  return {
    add(owner, text) {
      return toMessage(insert.get(owner, text, new Date().toISOString()) as Row);
    },
    listByOwner(owner, limit = 100) {
      return (list.all(owner, limit) as Row[]).map(toMessage);
    },
    close() {
      if (db.isOpen) db.close();
    },
  };
}
