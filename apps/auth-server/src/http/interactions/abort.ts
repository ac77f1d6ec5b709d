// POST /interaction/:uid/abort: the user cancels; the application gets access_denied.
import { finish, type Step } from './step.ts';

export async function abort(step: Step): Promise<void> {
  await finish(step, { error: 'access_denied', error_description: 'the user cancelled the sign-in' });
}
