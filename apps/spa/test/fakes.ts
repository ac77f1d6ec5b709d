// Minimal stand-ins for the AngularJS services our classes use, so the session and interceptor
// logic runs under node --test. $q is native promises: the logic does not rely on digests.
import type angular from 'angular';

export class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  clear() {
    this.map.clear();
  }
  getItem(key: string) {
    return this.map.get(key) ?? null;
  }
  key(index: number) {
    return [...this.map.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.map.delete(key);
  }
  setItem(key: string, value: string) {
    this.map.set(key, value);
  }
}

export const fakeQ = {
  when: <T>(value: T | PromiseLike<T>) => Promise.resolve(value),
  resolve: <T>(value: T) => Promise.resolve(value),
  reject: (reason: unknown) => Promise.reject(reason),
} as unknown as angular.IQService;

export function fakeTimeout(): angular.ITimeoutService {
  const timeout = ((fn: () => void, delay: number) =>
    setTimeout(fn, delay)) as unknown as angular.ITimeoutService;
  timeout.cancel = ((handle: ReturnType<typeof setTimeout>) => {
    clearTimeout(handle);
    return true;
  }) as unknown as angular.ITimeoutService['cancel'];
  return timeout;
}

export interface Broadcast {
  readonly name: string;
  readonly detail: unknown;
}

export function fakeRootScope(events: Broadcast[]): angular.IRootScopeService {
  return {
    $broadcast: (name: string, detail: unknown) => {
      events.push({ name, detail });
    },
  } as unknown as angular.IRootScopeService;
}

export function fakeWindow(href: string, sessionStorage = new MemoryStorage()) {
  const assigned: string[] = [];
  const url = new URL(href);
  const window = {
    location: {
      href,
      pathname: url.pathname,
      search: url.search,
      assign: (to: string) => assigned.push(to),
    },
    sessionStorage,
  } as unknown as angular.IWindowService;
  return { window, assigned, sessionStorage };
}

/** Lets pending promise callbacks run (setImmediate is not mocked by mock.timers below). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}
