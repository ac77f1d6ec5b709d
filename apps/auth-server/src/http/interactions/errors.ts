import { BUSY_RETRY_AFTER_SECONDS } from '../../security/abuse-policy.ts';

// What can stop an interaction step. A handler throws; the router renders (render.ts), so every
// refusal of the same kind looks the same and no handler writes a response half-way.

/** The step cannot go on from here: a message page, no form. */
export class PageError extends Error {
  override name = 'PageError';
  readonly status: number;
  readonly title: string;

  constructor(status: number, title: string, message: string) {
    super(message);
    this.status = status;
    this.title = title;
  }
}

export class InteractionExpired extends PageError {
  constructor() {
    super(
      400,
      'Sign-in expired',
      'This sign-in page has expired or was opened in another browser. Return to the application and start again.',
    );
  }
}

export class ForgedForm extends PageError {
  constructor() {
    super(403, 'Request refused', 'The form was not submitted from this site. Go back and try again.');
  }
}

export class UnexpectedStep extends PageError {
  constructor() {
    super(400, 'Unexpected step', 'Return to the application and start again.');
  }
}

export class SignupOff extends PageError {
  constructor() {
    super(404, 'Sign-up is off', 'This tenant does not allow sign-up.');
  }
}

/** The form just sent is shown again with this message (and what was typed, never the password). */
export class FormError extends Error {
  override name = 'FormError';
  readonly status: number;
  /** For 429: when to try again. */
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, message: string, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The password hashing queue is full (password-hasher.ts): nothing was checked, try again shortly. */
export class ServerBusy extends FormError {
  constructor() {
    super(429, 'The server is busy. Wait a moment and try again.', BUSY_RETRY_AFTER_SECONDS);
  }
}
