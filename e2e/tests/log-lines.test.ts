// npm start's log lines: what a developer reads in the terminal, whatever each program prints.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLogLine } from '../../scripts/log-lines.ts';

const at = Date.UTC(2026, 10, 28, 14, 2, 3);

test('a pino line becomes "time LEVEL message key=value" without pid or hostname', () => {
  const line = JSON.stringify({ level: 30, time: at, pid: 7, hostname: 'h', msg: 'listening', port: 3001 });
  assert.equal(formatLogLine(line), '14:02:03 INFO  listening port=3001');
});

test('an HTTP log line shows method, path, status and time', () => {
  const line = JSON.stringify({
    level: 40,
    time: at,
    req: { id: 1, method: 'GET', url: '/api/private', headers: { authorization: 'Bearer x' } },
    res: { statusCode: 401 },
    responseTime: 2.6,
    msg: 'request completed',
  });
  assert.equal(formatLogLine(line), '14:02:03 WARN  GET /api/private 401 3 ms');
  assert.doesNotMatch(formatLogLine(line), /Bearer/, 'request headers are not echoed');
});

test("the API's request line shows method, path, status, time, then the caller or the refusal", () => {
  const base = {
    level: 30,
    time: at,
    service: 'api',
    method: 'GET',
    path: '/api/private',
    ms: 0.4,
    msg: 'request',
  };
  assert.equal(
    formatLogLine(JSON.stringify({ ...base, status: 200, sub: 'auth0|alice', client_id: 'spa' })),
    '14:02:03 INFO  GET /api/private 200 0 ms sub=auth0|alice client_id=spa',
  );
  assert.equal(
    formatLogLine(JSON.stringify({ ...base, status: 401, refusal: 'ERR_TOKEN_SIGNATURE' })),
    '14:02:03 INFO  GET /api/private 401 0 ms refusal=ERR_TOKEN_SIGNATURE',
  );
});

test('an error shows its type and message, not its stack', () => {
  const line = JSON.stringify({
    level: 60,
    time: at,
    msg: 'failed to start',
    err: { type: 'Error', message: 'listen EADDRINUSE', stack: 'Error: listen EADDRINUSE\n    at x' },
  });
  assert.equal(formatLogLine(line), '14:02:03 FATAL failed to start err="Error: listen EADDRINUSE"');
});

test('plain lines pass through with colour codes removed', () => {
  assert.equal(formatLogLine('\u001b[32mspa: listening\u001b[39m\r'), 'spa: listening');
  assert.equal(formatLogLine('{ not json'), '{ not json');
  assert.equal(formatLogLine('{"no":"level"}'), '{"no":"level"}');
});
