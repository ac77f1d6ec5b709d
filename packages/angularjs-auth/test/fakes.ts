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
    $applyAsync: (fn?: () => void) => fn?.(),
  } as unknown as angular.IRootScopeService;
}

export function fakeWindow(
  href: string,
  sessionStorage = new MemoryStorage(),
  localStorage = new MemoryStorage(),
  Channel?: typeof BroadcastChannel,
) {
  const assigned: string[] = [];
  const url = new URL(href);
  const listeners = new Map<string, (() => void)[]>();
  const on = (type: string, listener: () => void) =>
    listeners.set(type, [...(listeners.get(type) ?? []), listener]);
  const window = {
    location: {
      href,
      pathname: url.pathname,
      search: url.search,
      hash: url.hash,
      assign: (to: string) => assigned.push(to),
    },
    sessionStorage,
    localStorage,
    BroadcastChannel: Channel,
    addEventListener: on,
    document: { visibilityState: 'visible', addEventListener: on },
  } as unknown as angular.IWindowService;
  /** Runs the listeners of a window or document event (focus, visibilitychange). */
  const fire = (type: string) => {
    for (const listener of listeners.get(type) ?? []) listener();
  };
  return { window, assigned, sessionStorage, localStorage, fire };
}

/** Lets pending promise callbacks run (setImmediate is not mocked by mock.timers below). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** BroadcastChannel between the fake tabs of one test: a message reaches every other instance of the name. */
export function fakeBroadcastChannel(): typeof BroadcastChannel {
  const bus = new Map<string, Set<FakeChannel>>();
  class FakeChannel {
    private readonly name: string;
    private readonly listeners = new Set<(event: MessageEvent) => void>();
    constructor(name: string) {
      this.name = name;
      if (!bus.has(name)) bus.set(name, new Set());
      bus.get(name)!.add(this);
    }
    addEventListener(_type: 'message', listener: (event: MessageEvent) => void) {
      this.listeners.add(listener);
    }
    postMessage(data: unknown) {
      for (const other of bus.get(this.name) ?? []) {
        if (other === this) continue;
        for (const listener of other.listeners) listener({ data } as MessageEvent);
      }
    }
  }
  return FakeChannel as unknown as typeof BroadcastChannel;
}
