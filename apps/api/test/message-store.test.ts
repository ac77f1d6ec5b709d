// The message store's contract, one suite run on SQLite in a temporary folder and on a real PostgreSQL
// (TEST_DATABASE_URL, or one @calling-api/testkit starts): ownership, pages, durability, two instances.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPostgres, type TestPostgres } from '@calling-api/testkit/postgres';
import { type MessageStore, MessageStoreUnavailable } from '../src/messages/message-store.ts';
import { openMessageStore, type StorageConfig } from '../src/messages/open-message-store.ts';

/** Where a fresh, empty store lives; open it as often as needed (a restart, a second instance). */
type Backend = { place(): Promise<{ config: StorageConfig; done(): Promise<void> }> };

function contract(name: string, backend: Backend): void {
  describe(`message store: ${name}`, () => {
    let config: StorageConfig;
    let done: () => Promise<void>;
    let store: MessageStore;
    before(async () => {
      ({ config, done } = await backend.place());
      store = await openMessageStore(config);
    });
    after(async () => {
      await store.close();
      await done();
    });

    it('stores a message for its owner with a growing id and an ISO time', async () => {
      const first = await store.add('auth0|ann', 'hello');
      const second = await store.add('auth0|ann', 'again');
      assert.ok(second.id > first.id);
      assert.equal(first.owner, 'auth0|ann');
      assert.equal(first.text, 'hello');
      assert.equal(new Date(first.createdAt).toISOString(), first.createdAt);
      assert.ok(Math.abs(Date.parse(first.createdAt) - Date.now()) < 60_000);
    });

    it('pages through 250 messages newest first, each exactly once, and shows no one else any', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 250; i++) ids.push((await store.add('auth0|pager', `message ${i}`)).id);
      const seen: number[] = [];
      let before: number | undefined;
      do {
        const page = await store.page('auth0|pager', 100, before);
        seen.push(...page.messages.map((m) => m.id));
        before = page.next;
      } while (before !== undefined);
      assert.deepEqual(seen, ids.toReversed());
      assert.deepEqual(await store.page('auth0|stranger', 100), { messages: [], next: undefined });
    });

    it("reads and deletes only the owner's message; someone else's is as if it did not exist", async () => {
      const m = await store.add('auth0|owner', 'mine');
      assert.equal(await store.get('auth0|other', m.id), undefined);
      assert.equal(await store.remove('auth0|other', m.id), false);
      assert.deepEqual(await store.get('auth0|owner', m.id), m);
      assert.equal(await store.remove('auth0|owner', m.id), true);
      assert.equal(await store.get('auth0|owner', m.id), undefined);
      assert.equal(await store.remove('auth0|owner', m.id), false);
    });

    it('keeps what was stored, and forgets what was deleted, across a restart', async () => {
      const kept = await store.add('auth0|durable', 'kept');
      const gone = await store.add('auth0|durable', 'gone');
      await store.remove('auth0|durable', gone.id);
      await store.close();
      store = await openMessageStore(config);
      assert.deepEqual(
        (await store.page('auth0|durable', 10)).messages.map((m) => m.text),
        [kept.text],
      );
    });

    it('shares messages between two instances, ids unique and in order across both', async () => {
      const twin = await openMessageStore(config);
      try {
        const added = await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? twin : store).add('auth0|both', `m${i}`)),
        );
        assert.equal(new Set(added.map((m) => m.id)).size, 40);
        const listed = (await twin.page('auth0|both', 100)).messages.map((m) => m.id);
        assert.deepEqual(
          listed,
          added.map((m) => m.id).sort((x, y) => y - x),
        );
      } finally {
        await twin.close();
      }
    });
  });
}

contract('SQLite', {
  async place() {
    const dataDir = mkdtempSync(join(tmpdir(), 'messages-sqlite-'));
    return {
      config: { kind: 'sqlite', dataDir },
      done: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  },
});

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(() => server?.stop());

contract('PostgreSQL', {
  async place() {
    return {
      config: { kind: 'postgres', url: await server.createDatabase(), poolSize: 4 },
      done: async () => {},
    };
  },
});

describe('message store: PostgreSQL unreachable', () => {
  it('refuses at once with MessageStoreUnavailable, never hangs', async () => {
    const url = await server.createDatabase();
    const store = await openMessageStore({ kind: 'postgres', url, poolSize: 2 });
    await store.close();
    const closed = new URL(url);
    closed.port = '1'; // nothing listens there
    const started = Date.now();
    const err = await openMessageStore({ kind: 'postgres', url: closed.href, poolSize: 2 }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof MessageStoreUnavailable, String(err));
    assert.ok(Date.now() - started < 3000);
  });
});
