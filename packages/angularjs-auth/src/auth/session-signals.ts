// What the app remembers of a session across page loads, and what it tells its other tabs. Only a hint
// that this browser was signed in is stored (localStorage, no token, no user data), so a visitor who never
// signed in costs the authorization server nothing; the tokens themselves stay in each tab's memory.

export type SessionSignal = 'signed-in' | 'signed-out';

const HINT_KEY = 'calling-api.was-signed-in';
const CHANNEL = 'calling-api.session';

export class SessionSignals {
  private readonly storage: Storage | undefined;
  private readonly channel: BroadcastChannel | undefined;
  private readonly listeners = new Set<(signal: SessionSignal) => void>();

  constructor(storage: Storage | undefined, Channel: typeof BroadcastChannel | undefined) {
    this.storage = storage;
    this.channel = Channel ? new Channel(CHANNEL) : undefined;
    this.channel?.addEventListener('message', (event: MessageEvent<unknown>) => {
      if (event.data === 'signed-in' || event.data === 'signed-out') this.emit(event.data);
    });
  }

  wasSignedIn(): boolean {
    try {
      return this.storage?.getItem(HINT_KEY) === '1';
    } catch {
      return false; // storage refused (a privacy mode): behave as a first visit
    }
  }

  /** This tab signed in: remember the hint and tell the other tabs. */
  signedIn(): void {
    this.setHint(true);
    this.channel?.postMessage('signed-in');
  }

  /** This tab signed out (or learnt the session is gone): forget the hint; `tell` the other tabs to sign out too. */
  signedOut(tell: boolean): void {
    this.setHint(false);
    if (tell) this.channel?.postMessage('signed-out');
  }

  /** Signals from the other tabs of this origin. */
  onSignal(listener: (signal: SessionSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(signal: SessionSignal): void {
    for (const listener of this.listeners) listener(signal);
  }

  private setHint(on: boolean): void {
    try {
      if (on) this.storage?.setItem(HINT_KEY, '1');
      else this.storage?.removeItem(HINT_KEY);
    } catch {
      // storage refused: the next load simply makes no silent request
    }
  }
}
