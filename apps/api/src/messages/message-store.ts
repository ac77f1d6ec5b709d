// What the API needs from wherever messages are kept (open-message-store.ts picks the place). Both stores
// keep the same rules: ids grow, pages are newest first, and every call names the owner, so one caller
// never reaches another's messages.
export type Message = { id: number; text: string; owner: string; createdAt: string };

/** One page of a caller's messages, newest first; `next` is the id to continue before, if any. */
export type MessagePage = { messages: Message[]; next: number | undefined };

export type MessageStore = {
  /** Resolves once the message is durable (committed). */
  add(owner: string, text: string): Promise<Message>;
  /** At most `limit` of the owner's messages with an id below `before` (all when absent), newest first. */
  page(owner: string, limit: number, before?: number): Promise<MessagePage>;
  /** The owner's message with this id; undefined when there is none, or it is someone else's. */
  get(owner: string, id: number): Promise<Message | undefined>;
  /** Deletes the owner's message; false when there is none, or it is someone else's. */
  remove(owner: string, id: number): Promise<boolean>;
  close(): Promise<void>;
};

/** The database cannot answer now (down, restarting, every connection busy): the caller gets a 503. */
export class MessageStoreUnavailable extends Error {
  override name = 'MessageStoreUnavailable';
}
