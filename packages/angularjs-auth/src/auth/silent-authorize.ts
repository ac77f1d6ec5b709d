// Silent sign-in in a hidden iframe: an authorization request with prompt=none and response_mode=web_message,
// whose answer page posts { type: 'authorization_response', response } to this window. Only a message from
// the issuer's origin, from that very iframe, for this request's state is taken.

export class SilentAuthTimeout extends Error {
  override name = 'SilentAuthTimeout';
}

export function authorizeInIframe(
  url: string,
  issuerOrigin: string,
  state: string,
  timeoutMs: number,
  doc: Document = document,
  win: Window = window,
): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const frame = doc.createElement('iframe');
    frame.setAttribute('aria-hidden', 'true');
    frame.setAttribute('tabindex', '-1');
    frame.title = 'Silent sign-in';
    frame.hidden = true; // an iframe loads even when not displayed
    const done = () => {
      win.clearTimeout(timer);
      win.removeEventListener('message', onMessage);
      frame.remove();
    };
    const onMessage = (event: MessageEvent<unknown>) => {
      if (event.origin !== issuerOrigin || event.source !== frame.contentWindow) return;
      const data = event.data as { type?: unknown; response?: unknown } | null;
      if (
        data?.type !== 'authorization_response' ||
        typeof data.response !== 'object' ||
        data.response === null
      )
        return;
      const response = data.response as Record<string, unknown>;
      if (response['state'] !== state) return;
      done();
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(response))
        if (typeof value === 'string') params.set(key, value);
      resolve(params);
    };
    const timer = win.setTimeout(() => {
      done();
      reject(new SilentAuthTimeout(`no answer from the authorization server within ${timeoutMs} ms`));
    }, timeoutMs);
    win.addEventListener('message', onMessage);
    frame.src = url;
    doc.body.append(frame);
  });
}
