/**
 * A client secret the Management API has just answered, kept in memory only until the application's page
 * shows it once: it is never asked for again, and never stored anywhere.
 */
export class OneTimeSecret {
  private held: { clientId: string; secret: string } | undefined;

  put(clientId: string, secret: string): void {
    this.held = { clientId, secret };
  }

  take(clientId: string): string | undefined {
    const held = this.held;
    this.held = undefined;
    return held?.clientId === clientId ? held.secret : undefined;
  }
}
