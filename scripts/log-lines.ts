// One child's output line made readable beside the others': pino's JSON becomes
// "12:00:01 INFO message key=value", an HTTP log line "GET /api/private 401 3 ms", and any
// terminal colour codes are removed, so the prefixed stream reads the same in a terminal and a file.

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
// Fields every pino line carries, or that the HTTP summary already shows.
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'req', 'res', 'responseTime', 'reqId']);
// The API's own request line: { method, path, status, ms, ... } with msg "request".
const REQUEST_FIELDS = new Set(['method', 'path', 'status', 'ms', 'service']);
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching terminal escape sequences is the point
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  return date.toISOString().slice(11, 19);
}

function compact(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

export function formatLogLine(raw: string): string {
  const line = stripAnsi(raw).replace(/\r$/, '');
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry['level'] !== 'number') return line;
  const parts = [clock(entry['time']), LEVELS[entry['level']] ?? String(entry['level'])];
  const req = entry['req'] as { method?: string; url?: string } | undefined;
  const res = entry['res'] as { statusCode?: number } | undefined;
  const flatRequest = entry['msg'] === 'request' && typeof entry['method'] === 'string';
  if (flatRequest) {
    parts.push(`${entry['method']} ${entry['path']} ${entry['status']}`);
    if (typeof entry['ms'] === 'number') parts.push(`${Math.round(entry['ms'])} ms`);
  } else if (req?.method && req.url) {
    parts.push(`${req.method} ${req.url}`);
    if (res?.statusCode !== undefined) parts.push(String(res.statusCode));
    if (typeof entry['responseTime'] === 'number') parts.push(`${Math.round(entry['responseTime'])} ms`);
    if (typeof entry['msg'] === 'string' && !/^request (completed|errored)$/.test(entry['msg'])) {
      parts.push(`- ${entry['msg']}`);
    }
  } else if (typeof entry['msg'] === 'string') {
    parts.push(entry['msg']);
  }
  for (const [key, value] of Object.entries(entry)) {
    if (OMITTED.has(key) || value === undefined || (flatRequest && REQUEST_FIELDS.has(key))) continue;
    if (key === 'err' && value && typeof value === 'object') {
      const err = value as { type?: string; message?: string; stack?: string };
      parts.push(`err=${compact(`${err.type ?? 'Error'}: ${err.message ?? ''}`)}`);
      continue;
    }
    parts.push(`${key}=${compact(value)}`);
  }
  return parts.join(' ');
}
