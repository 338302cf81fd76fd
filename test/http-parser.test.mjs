// The incremental response parser: framing, interim responses, limits, every RFC 9112
// rejection, and fast-check properties (any split parses the same; random bytes never
// crash or hang it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HttpParseError } from 'iomux';
import { ResponseParser } from '../dist/http/parser.js';
import { guardFds } from './helpers/fds.mjs';

guardFds();

/** Parses `chunks` (strings or Buffers) as one response; returns a plain summary. */
function parse(chunks, { method = 'GET', eof = true } = {}) {
  const p = new ResponseParser();
  p.reset(method);
  let leftover = 0;
  for (const c of [].concat(chunks)) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1');
    if (p.done) { leftover += b.length; continue; }
    const used = p.feed(b, 0, b.length);
    leftover += b.length - used;
  }
  const complete = p.done || (eof && p.eof());
  return {
    complete, status: p.status, statusText: p.statusText, headers: p.headers, trailers: p.trailers,
    body: complete ? p.body.toString('latin1') : null, keepAlive: p.keepAlive, leftover,
  };
}

const rejects = (chunks, re, opts) => assert.throws(() => parse(chunks, opts), (e) => {
  assert.ok(e instanceof HttpParseError, `expected HttpParseError, got ${e}`);
  assert.equal(e.code, 'ERR_HTTP_PARSE');
  if (re) assert.match(e.message, re);
  return true;
});

test('Content-Length body, repeated fields joined, names lower-cased', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello');
  assert.equal(r.complete, true);
  assert.equal(r.status, 200);
  assert.equal(r.statusText, 'OK');
  assert.deepEqual(r.headers, { 'content-length': '5', 'x-a': '1, 2', 'set-cookie': 'a=1, b=2' });
  assert.equal(r.body, 'hello');
  assert.equal(r.keepAlive, true);
  assert.equal(Object.getPrototypeOf(r.headers), Object.prototype);
});

test('chunked body with extensions and trailers', () => {
  const r = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n'
    + '5;name=value\r\nhello\r\n6 ; x\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Sum: abc\r\nX-Sum: d\r\n\r\n');
  assert.equal(r.body, 'hello world0123456789');
  assert.deepEqual(r.trailers, { 'x-sum': 'abc, d' });
  assert.equal(r.keepAlive, true);
  assert.equal(r.leftover, 0);
});

test('chunked body with leading zeros in sizes and an empty trailer section', () => {
  const r = parse('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0003\r\nabc\r\n000\r\n\r\n');
  assert.equal(r.body, 'abc');
  assert.deepEqual(r.trailers, {});
});

test('close-delimited body ends at EOF and is never kept alive', () => {
  const r = parse(['HTTP/1.1 200 OK\r\n\r\npart one,', ' part two']);
  assert.equal(r.body, 'part one, part two');
  assert.equal(r.keepAlive, false);
  const cut = parse('HTTP/1.1 200 OK\r\n\r\nabc', { eof: false });
  assert.equal(cut.complete, false);
});

test('Transfer-Encoding without final chunked: body runs until close', () => {
  const r = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw bytes');
  assert.equal(r.body, 'raw bytes');
  assert.equal(r.keepAlive, false);
});

test('HEAD, 204 and 304 have no body even with Content-Length', () => {
  const head = parse('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', { method: 'HEAD', eof: false });
  assert.equal(head.complete, true);
  assert.equal(head.body, '');
  assert.equal(head.headers['content-length'], '1000');
  for (const s of [204, 304]) {
    const r = parse(`HTTP/1.1 ${s} X\r\nContent-Length: 10\r\n\r\n`, { eof: false });
    assert.equal(r.complete, true);
    assert.equal(r.status, s);
    assert.equal(r.body, '');
  }
});

test('1xx interim responses are skipped, in one read or split', () => {
  const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n'
    + 'HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok';
  for (const chunks of [[text], text.split('')]) {
    const r = parse(chunks, { eof: false });
    assert.equal(r.complete, true);
    assert.equal(r.status, 201);
    assert.deepEqual(r.headers, { 'content-length': '2' });
    assert.equal(r.body, 'ok');
  }
});

test('status line variants: empty reason, no reason, HTTP/1.0 keep-alive rules', () => {
  assert.equal(parse('HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n').statusText, '');
  assert.equal(parse('HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n').status, 404);
  assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n').keepAlive, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: upgrade, close\r\nContent-Length: 0\r\n\r\n').keepAlive, false);
});

test('LF-only line endings are accepted', () => {
  const r = parse('HTTP/1.1 200 OK\nContent-Length: 3\nA: b\n\nabc');
  assert.equal(r.body, 'abc');
  assert.deepEqual(r.headers, { 'content-length': '3', a: 'b' });
});

test('identical repeated Content-Length values are one value', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc').body, 'abc');
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc').body, 'abc');
});

test('bytes after a complete response are reported as left over', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA', { eof: false });
  assert.equal(r.body, 'ok');
  assert.equal(r.leftover, 5);
});

test('a __proto__ header is an own property, not a prototype change', () => {
  const r = parse('HTTP/1.1 200 OK\r\n__proto__: x\r\nContent-Length: 0\r\n\r\n');
  assert.equal(Object.getPrototypeOf(r.headers), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(r.headers, '__proto__').value, 'x');
});

test('malformed framing is rejected', () => {
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', /both Content-Length and Transfer-Encoding/);
  rejects('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', /both/);
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', /conflicting Content-Length/);
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n', /conflicting Content-Length/);
  rejects('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid Content-Length/);
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n', /invalid Content-Length/);
  rejects('HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n', /invalid Content-Length/);
  rejects('HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n', /too large/);
});

test('a Transfer-Encoding whose final coding is not chunked: the body runs until close (RFC 9112 6.3)', () => {
  for (const te of ['Transfer-Encoding: chunked, gzip', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity',
    'Transfer-Encoding: chunkedchunked']) {
    const r = parse(`HTTP/1.1 200 OK\r\n${te}\r\n\r\n2\r\nOK\r\n0\r\n\r\n`);
    assert.equal(r.complete, true, te);
    assert.equal(r.body, '2\r\nOK\r\n0\r\n\r\n', te);
    assert.equal(r.keepAlive, false, te);
    assert.equal(parse(`HTTP/1.1 200 OK\r\n${te}\r\n\r\nabc`, { eof: false }).complete, false, te);
  }
  // Chunked as the final coding still frames the body, whatever comes before it.
  const r = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n', { eof: false });
  assert.equal(r.complete, true);
  assert.equal(r.body, 'OK');
});

test('empty lines before a status line are skipped: at the start and after an interim response', () => {
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  for (const chunks of [`\r\n${ok}`, `\n\r\n${ok}`, ['\r', '\n', ok], `HTTP/1.1 100 Continue\r\n\r\n\r\n${ok}`,
    [...`HTTP/1.1 100 Continue\r\n\r\n\r\n${ok}`]]) {
    const r = parse(chunks, { eof: false });
    assert.equal(r.complete, true, JSON.stringify(chunks));
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok');
  }
  rejects('\rHTTP/1.1 200 OK\r\n\r\n', /bare CR before the status line/);
  rejects('\r\n'.repeat(40000), /empty lines before the status line/, { eof: false });
});

test('1xx interim responses (100, 103 with fields) before the final one', () => {
  const r = parse('HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n'
    + 'HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop', { eof: false });
  assert.equal(r.complete, true);
  assert.equal(r.status, 404);
  assert.equal(r.headers.link, undefined);
  assert.equal(r.body, 'nop');
});

test('HTTP versions: 1.0 and 1.1, and 0.9 read as 1.0; others are refused', () => {
  const r = parse('HTTP/0.9 200 OK\r\nContent-Length: 0\r\n\r\n', { eof: false });
  assert.equal(r.complete, true);
  assert.equal(r.keepAlive, false);
  for (const v of ['1.2', '1.9', '2.0', '5.6', '0.0']) rejects(`HTTP/${v} 200 OK\r\n\r\n`, /unsupported HTTP version/);
});

test('obs-fold and bad field lines are rejected', () => {
  rejects('HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n', /obsolete line folding/);
  rejects('HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n', /obsolete line folding/);
  rejects('HTTP/1.1 200 OK\r\n folded: x\r\n\r\n', /obsolete line folding/);
  rejects('HTTP/1.1 200 OK\r\nA : b\r\n\r\n', /invalid header field line/);
  rejects('HTTP/1.1 200 OK\r\nNo colon\r\n\r\n', /invalid header field line/);
  rejects('HTTP/1.1 200 OK\r\n: empty name\r\n\r\n', /invalid header field line/);
  rejects('HTTP/1.1 200 OK\r\nBad(name): x\r\n\r\n', /invalid header field line/);
  rejects('HTTP/1.1 200 OK\r\nA: b\x00c\r\n\r\n', /control character/);
  rejects('HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n', /bare CR/);
});

test('bad status lines are rejected', () => {
  rejects('HTTP/2.0 200 OK\r\n\r\n', /unsupported HTTP version/);
  rejects('HTTP/1.1 20 OK\r\n\r\n', /invalid status line/);
  rejects('HTTP/1.1 2000 OK\r\n\r\n', /invalid status line/);
  rejects('HTTP/1.1 099 OK\r\n\r\n', /invalid status code/);
  rejects('ICY 200 OK\r\n\r\n', /invalid status line/);
  rejects('http/1.1 200 OK\r\n\r\n', /invalid status line/);
  rejects('HTTP/1.1  200 OK\r\n\r\n', /invalid status line/);
  rejects('HTTP/1.1 200 O\x01K\r\n\r\n', /control character/);
  rejects('HTTP/1.1 101 Switching Protocols\r\n\r\n', /101/);
});

test('the status line is checked as soon as it ends, and bytes that cannot start one at once', () => {
  // Without the rest of the head: a peer that is not an HTTP server is found out at once.
  const early = (chunks, re) => rejects(chunks, re, { eof: false });
  early('SSH-2.0-OpenSSH_9.6\r\n', /invalid status line "SSH-2.0-OpenSSH_9.6"/);
  early(['S'], /invalid status line "S"/);
  early(['HTT', 'P-'], /invalid status line "HTTP-"/);
  early(['HTTP/1.1 OK\r', '\nServer: x\r\n'], /invalid status line "HTTP\/1.1 OK"/);
  early('HTTP/2.0 200 OK\r\n', /unsupported HTTP version/);
  early('HTTP/1.1 200 O\x01K\n', /control character/);
  early('HTTP/1.1 101 Switching Protocols\r\n', /101/);
  // Interim responses: each status line is checked as it ends.
  early(['HTTP/1.1 100 Continue\r\n\r\nFTP'], /invalid status line "FTP"/);
  // Field lines too, as each ends: a head that can never be valid fails without waiting.
  early(['HTTP/1.1 200 OK\r\n Host: foo'], /obsolete line folding/);
  early(['HTTP/1.1 200 OK\r\nA: b\r\nBad line\r\n'], /invalid header field line "Bad line"/);
  early(['HTTP/1.1 200 OK\r\nA: b\r\n', 'B: \x01\r\n'], /control character/);
  // A good status line with the head still incomplete waits for more.
  for (const chunks of [['HTTP/1.1 200 OK\r\nContent-Le'], ['H', 'TTP/', '1', '.1 2', '00 OK\r', '\n'], ['HTTP/1.0 204 \n'],
    ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX: y\r\n']]) {
    assert.equal(parse(chunks, { eof: false }).complete, false, JSON.stringify(chunks));
  }
});

test('bad chunk sizes and chunk framing are rejected', () => {
  const h = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
  rejects(`${h}zz\r\n`, /invalid chunk size/);
  rejects(`${h}\r\n`, /invalid chunk size/);
  rejects(`${h}-5\r\n`, /invalid chunk size/);
  rejects(`${h} 5\r\n`, /invalid chunk size/);
  rejects(`${h}5x\r\n`, /invalid chunk size/);
  rejects(`${h}5 x\r\n`, /after whitespace/);
  rejects(`${h}5\rX`, /bare CR/);
  rejects(`${h}${'0'.repeat(17)}1\r\n`, /more than 16 digits/);
  rejects(`${h}fffffffffffffff\r\n`, /too large/);
  rejects(`${h}5\r\nhelloX\r\n`, /missing CRLF after chunk data/);
  rejects(`${h}5\r\nhello\rX`, /bare CR/);
  rejects(`${h}5;${'e'.repeat(5000)}\r\n`, /chunk extensions longer/);
  rejects(`${h}5;a\x01\r\n`, /invalid chunk extension: unexpected byte 0x1/);
  rejects(`${h}0\r\nbad trailer\r\n\r\n`, /invalid trailer field line/);
  rejects(`${h}0\r\nA: 1\r\n b\r\n\r\n`, /obsolete line folding in trailer/);
});

test('chunk extensions are checked against RFC 9112 7.1.1', () => {
  const h = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
  for (const ext of [';a', ';a=b', ' ;a', ';a ;b', ';a = b', ';a="x; y"', ';a="q\\"q"', ';a=b;c;d="e"', '\t;\ta\t=\t"v"\t;b']) {
    const r = parse(`${h}2${ext}\r\nOK\r\n0${ext}\r\n\r\n`, { eof: false });
    assert.equal(r.complete, true, ext);
    assert.equal(r.body, 'OK', ext);
  }
  rejects(`${h}2;\r\nOK\r\n0\r\n\r\n`, /invalid chunk extension.*name must follow/);
  rejects(`${h}2; \r\n`, /invalid chunk extension/);
  rejects(`${h}5;a="abc";b="def; ghi\r\nhello\r\n`, /invalid chunk extension.*quoted string/);
  rejects(`${h}2;a=\r\n`, /invalid chunk extension/);
  rejects(`${h}2;a=b c\r\n`, /invalid chunk extension/);
  rejects(`${h}2;a b\r\n`, /invalid chunk extension/);
  rejects(`${h}2;a=b \r\n`, /invalid chunk extension/);
  rejects(`${h}2;a@b\r\n`, /invalid chunk extension/);
  rejects(`${h}2;a="x\\\x01"\r\n`, /invalid chunk extension/);
});

test('limits: a 64 KiB head and the header count', () => {
  const big = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70 * 1024)}\r\n\r\n`;
  rejects(big, /response head larger than 65536 bytes/);
  rejects(big.match(/[^]{1,1000}/g), /response head larger than 65536 bytes/);
  // No terminator at all: rejected once 64 KiB are buffered, not kept growing.
  rejects(['HTTP/1.1 200 OK\r\n', ...Array.from({ length: 100 }, () => 'X: 0123456789\r\n'.repeat(64))], /larger than 65536/);
  const fits = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(60 * 1024)}\r\nContent-Length: 0\r\n\r\n`;
  assert.equal(parse(fits).headers.x.length, 60 * 1024);
  const many = `HTTP/1.1 200 OK\r\n${Array.from({ length: 300 }, (_, i) => `h${i}: v\r\n`).join('')}\r\n`;
  rejects(many, /too many header fields: 300/);
  const h = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n';
  rejects(`${h}${'T: 0123456789abcdef\r\n'.repeat(4000)}\r\n`, /trailer section larger/);
});

// ---- properties ----

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/)
  .filter((n) => !['content-length', 'transfer-encoding', 'connection'].includes(n.toLowerCase()));
const value = fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/);
const response = fc.record({
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  reason: fc.stringMatching(/^[A-Za-z ]{0,20}$/),
  headers: fc.array(fc.tuple(token, value), { maxLength: 8 }),
  body: fc.uint8Array({ maxLength: 3000 }),
  framing: fc.constantFrom('length', 'chunked', 'eof'),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }),
  lf: fc.boolean(),
  interim: fc.boolean(),
  trailers: fc.array(fc.tuple(token, value), { maxLength: 3 }),
});

function serialize(r) {
  const nl = r.lf ? '\n' : '\r\n';
  let head = r.interim ? `HTTP/1.1 100 Continue${nl}${nl}` : '';
  head += `HTTP/1.1 ${r.status} ${r.reason}${nl}`;
  for (const [n, v] of r.headers) head += `${n}: ${v}${nl}`;
  const body = Buffer.from(r.body);
  const parts = [];
  if (r.framing === 'length') head += `Content-Length: ${body.length}${nl}`;
  if (r.framing === 'chunked') {
    head += `Transfer-Encoding: chunked${nl}`;
    let off = 0;
    for (let i = 0; off < body.length; i++) {
      const n = Math.min(r.chunkSizes[i % r.chunkSizes.length], body.length - off);
      parts.push(Buffer.from(`${n.toString(16)}\r\n`), body.subarray(off, off + n), Buffer.from('\r\n'));
      off += n;
    }
    parts.push(Buffer.from(`0\r\n${r.trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`));
  } else {
    parts.push(body);
  }
  return Buffer.concat([Buffer.from(`${head}${nl}`, 'latin1'), ...parts]);
}

function splitAt(buf, cuts) {
  const points = [...new Set(cuts.map((c) => Math.floor(c * buf.length)))].sort((a, b) => a - b);
  const out = [];
  let prev = 0;
  for (const p of points) { out.push(buf.subarray(prev, p)); prev = p; }
  out.push(buf.subarray(prev));
  return out;
}

test('property: any split of a valid response parses to the same result', () => {
  fc.assert(fc.property(response, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }), (r, cuts) => {
    const bytes = serialize(r);
    const whole = parse([bytes]);
    assert.equal(whole.complete, true);
    assert.equal(whole.status, r.status);
    assert.equal(whole.body, Buffer.from(r.body).toString('latin1'));
    assert.equal(whole.leftover, 0);
    assert.deepEqual(parse(splitAt(bytes, cuts)), whole);
  }), { numRuns: 300 });
});

test('property: byte-at-a-time parses to the same result', () => {
  fc.assert(fc.property(response, (r) => {
    const bytes = serialize(r);
    const chunks = [];
    for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
    assert.deepEqual(parse(chunks), parse([bytes]));
  }), { numRuns: 50 });
});

function survives(chunks) {
  try {
    parse(chunks);
  } catch (e) {
    if (!(e instanceof HttpParseError)) throw e;
  }
}

test('property: random bytes never crash or hang the parser', () => {
  const started = Date.now();
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 10 }), (chunks) => {
    survives(chunks.map((c) => Buffer.from(c)));
  }), { numRuns: 500 });
  // Random bytes after a valid prefix reach the deeper states (fields, chunks, trailers).
  const prefixes = ['HTTP/1.1 200 OK\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n'];
  fc.assert(fc.property(fc.constantFrom(...prefixes), fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }),
    (prefix, chunks) => { survives([prefix, ...chunks.map((c) => Buffer.from(c))]); }), { numRuns: 500 });
  fc.assert(fc.property(fc.constantFrom(...prefixes), fc.string({ unit: fc.constantFrom('\r', '\n', ':', ' ', '\t', 'a', '0', ';', 'f') }),
    (prefix, s) => { survives([prefix, s]); }), { numRuns: 500 });
  assert.ok(Date.now() - started < 30000);
});

test('a chunked body of millions of 1-byte chunks costs its bytes, not an object per chunk (32 MiB heap)', async () => {
  // The child parses 3 million 1-byte chunks (18 MB on the wire, fed 64 KiB at a time)
  // with a 32 MiB V8 heap: any per-chunk object kept until the end exhausts that heap.
  const { spawnSync } = await import('node:child_process');
  const parser = new URL('../dist/http/parser.js', import.meta.url).href;
  const script = `
    const { ResponseParser } = await import(${JSON.stringify(parser)});
    const N = 3_000_000;
    const wire = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n'),
      Buffer.alloc(6 * N, '1\\r\\nx\\r\\n'), Buffer.from('0\\r\\n\\r\\n')]);
    const p = new ResponseParser();
    p.reset('GET');
    const read = Buffer.allocUnsafe(64 * 1024);
    for (let off = 0; off < wire.length && !p.done; off += read.length) {
      const n = wire.copy(read, 0, off, off + read.length);
      p.feed(read, 0, n);
    }
    const body = p.body;
    if (!p.done || body.length !== N || body.indexOf('y') !== -1 || body[N - 1] !== 120) throw new Error('wrong body');
    process.stdout.write('ok');`;
  const r = spawnSync(process.execPath, ['--max-old-space-size=32', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.stdout, 'ok', `child exited ${r.status} (${r.signal}): ${r.stderr.slice(-400)}`);
});
