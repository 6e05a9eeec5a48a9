// SPDX-License-Identifier: Apache-2.0
// Raw HTTP/1.1 over a TCP socket, for what fetch will not send: header values
// with a NUL or trailing whitespace, a Content-Length with no body behind it,
// requests from another loopback source address (127.0.0.x), connections held
// open or trickled byte by byte.  Loopback only.

import net from 'node:net';
import assert from 'node:assert/strict';

/* Connect to 127.0.0.1:port from localAddress (default 127.0.0.1).
 * Resolves with the socket once connected. */
export function connect(port, { localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    sock.once('connect', () => { sock.removeListener('error', reject); resolve(sock); });
    sock.once('error', reject);
  });
}

/* Parse one HTTP response out of buf: {status, headers (lowercased names),
 * text, body (parsed JSON or text), rest (bytes after it)} or null while
 * incomplete. */
export function parseResponse(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  assert.ok(m, `not an HTTP response: ${JSON.stringify(head[0])}`);
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return null;
  const text = buf.subarray(end + 4, end + 4 + length).toString('utf8');
  let body = text;
  try { body = JSON.parse(text); } catch { /* text */ }
  return { status: Number(m[1]), headers, text, body, rest: buf.subarray(end + 4 + length) };
}

/* Send `request` (string or Buffer) on a new connection and read until the
 * server closes it.  Resolves {response (parsed, or null if none came),
 * closed: true}; rejects when nothing happens within timeoutMs.  Fails on
 * any 5xx, as the harness does. */
export async function exchange(port, request, { localAddress, timeoutMs = 15_000 } = {}) {
  const sock = await connect(port, { localAddress });
  return new Promise((resolve, reject) => {
    const chunks = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer and no close within ${timeoutMs} ms for ${String(request).slice(0, 200)}`));
    }, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => { /* a reset after the answer, or a refused connection */ });
    sock.on('close', () => {
      clearTimeout(timer);
      const response = parseResponse(Buffer.concat(chunks));
      if (response && response.status >= 500) {
        reject(new Error(`server answered ${response.status}: ${response.text.slice(0, 500)}`));
        return;
      }
      resolve({ response, closed: true });
    });
    sock.write(request, () => {});
  });
}

/* Send one keep-alive request on an open socket and wait for its response. */
export function roundTrip(sock, request, { timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseResponse(buf);
      if (r) { done(); resolve(r); }
    };
    const onClose = () => { done(); reject(new Error('connection closed before a response')); };
    const timer = setTimeout(() => { done(); reject(new Error(`no response within ${timeoutMs} ms`)); }, timeoutMs);
    function done() {
      clearTimeout(timer);
      sock.removeListener('data', onData);
      sock.removeListener('close', onClose);
    }
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.write(request);
  });
}

/* Resolves when sock closes (true), or with false after timeoutMs. */
export function closed(sock, timeoutMs) {
  if (sock.destroyed || sock.closed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    sock.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}
