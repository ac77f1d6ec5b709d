// What a script running on the app's origin could read back, and the assertion that no token is
// in it. Shared by the storage test and the renewal test (a rotated token must not land there either).
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

/** Everything a script on the app's origin can read back: Web Storage, cookies, IndexedDB, Cache Storage. */
export async function scriptReadableState(page: Page): Promise<Record<string, string>> {
  return page.evaluate(async () => {
    const dump = (storage: Storage) =>
      JSON.stringify(
        Object.fromEntries(
          Array.from({ length: storage.length }, (_, i) => storage.key(i)!).map((k) => [
            k,
            storage.getItem(k),
          ]),
        ),
      );
    const idb: Record<string, unknown> = {};
    for (const info of await indexedDB.databases()) {
      if (!info.name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(info.name!);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const store of Array.from(db.objectStoreNames)) {
        idb[`${info.name}/${store}`] = await new Promise((resolve) => {
          const all = db.transaction(store).objectStore(store).getAll();
          all.onsuccess = () => resolve(all.result);
          all.onerror = () => resolve(String(all.error));
        });
      }
      db.close();
    }
    const caches: Record<string, string[]> = {};
    for (const name of await window.caches.keys()) {
      const cache = await window.caches.open(name);
      caches[name] = await Promise.all(
        (await cache.keys()).map(async (r) => `${r.url} ${await (await cache.match(r))?.text()}`),
      );
    }
    return {
      localStorage: dump(localStorage),
      sessionStorage: dump(sessionStorage),
      'document.cookie': document.cookie,
      indexedDB: JSON.stringify(idb),
      cacheStorage: JSON.stringify(caches),
    };
  });
}

export function assertNotReadable(state: Record<string, string>, secrets: Record<string, string>): void {
  for (const [what, secret] of Object.entries(secrets)) {
    assert.ok(secret.length > 16, `${what} is a real value`);
    for (const [where, content] of Object.entries(state)) {
      assert.ok(!content.includes(secret), `the ${what} is readable by scripts in ${where}`);
    }
  }
}
