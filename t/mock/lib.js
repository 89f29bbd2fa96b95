'use strict';
// Shared helpers for the mock providers (t/mock/providers/*.js).
//
// A provider handler gets a `ctx` (see server.js) and answers with these
// helpers, so every provider gets the same awkward-split writer, the same
// release gate and the same "never crash" guarantees.

// A small deterministic PRNG (mulberry32): split points are reproducible
// from the seed that server.js logs with every request.
function prng(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Cuts `buf` into pieces of 1..7 bytes.  On top of the random cuts it
// always cuts one byte into every multi-byte UTF-8 character and right
// after every "data:" / between the two "\n" of an event end, so a
// split stream is guaranteed to split mid-character and mid-line.
function splitPoints(buf, rnd) {
  const cuts = new Set();
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b >= 0xc0 && i + 1 < buf.length) cuts.add(i + 1); // inside a UTF-8 char
    if (b === 0x0a && buf[i + 1] === 0x0a) cuts.add(i + 1); // between "\n" and "\n"
    if (b === 0x3a && i >= 4 && buf.toString('latin1', i - 4, i) === 'data') cuts.add(i + 1);
  }
  let pos = 0;
  while (pos < buf.length) {
    pos += 1 + Math.floor(rnd() * 7);
    if (pos < buf.length) cuts.add(pos);
  }
  return [...cuts].sort((x, y) => x - y);
}

function splitBuffer(buf, rnd) {
  const out = [];
  let prev = 0;
  for (const c of splitPoints(buf, rnd)) {
    if (c > prev && c < buf.length) {
      out.push(buf.subarray(prev, c));
      prev = c;
    }
  }
  if (prev < buf.length) out.push(buf.subarray(prev));
  return out;
}

// Writes `pieces` (Buffers) one at a time with setImmediate in between;
// stops quietly when the client went away.  cb() runs after the last one.
function writePieces(res, pieces, cb) {
  let i = 0;
  const step = () => {
    if (res.destroyed || res.writableEnded) return;
    if (i >= pieces.length) {
      if (cb) cb();
      return;
    }
    res.write(pieces[i++]);
    setImmediate(step);
  };
  step();
}

// A writer for one response body.  In split mode every write() is cut
// into 1..7-byte pieces; otherwise each write() goes out as one chunk.
// Writes are queued so that order holds across the asynchronous pieces.
class BodyWriter {
  constructor(ctx) {
    this.ctx = ctx;
    this.res = ctx.res;
    this.queue = [];
    this.busy = false;
    this.rnd = prng(ctx.seed);
  }
  write(data, cb) {
    this.queue.push({ data: Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8'), cb });
    this._pump();
  }
  end(cb) {
    this.queue.push({ end: true, cb });
    this._pump();
  }
  // Close the TCP connection without finishing the response.
  cut() {
    this.queue.push({ cut: true });
    this._pump();
  }
  _pump() {
    if (this.busy) return;
    const item = this.queue.shift();
    if (!item) return;
    const res = this.res;
    if (res.destroyed) {
      this.queue = [];
      return;
    }
    const next = () => {
      this.busy = false;
      if (item.cb) item.cb();
      this._pump();
    };
    this.busy = true;
    if (item.end) {
      res.end();
      next();
    } else if (item.cut) {
      // let what was written reach the socket, then reset it
      setImmediate(() => {
        res.socket && res.socket.destroy();
        this.busy = false;
      });
    } else if (this.ctx.split) {
      writePieces(res, splitBuffer(item.data, this.rnd), next);
    } else {
      res.write(item.data);
      setImmediate(next);
    }
  }
}

function sendJson(ctx, status, obj, headers) {
  const body = Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj), 'utf8');
  const res = ctx.res;
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, Object.assign({
    'content-type': 'application/json',
    'content-length': body.length,
  }, headers || {}));
  const w = new BodyWriter(ctx);
  w.write(body);
  w.end();
}

// Starts an SSE response (chunked transfer encoding, Node's default when
// no content-length is set) and returns a writer with event helpers.
function startSse(ctx, headers) {
  const res = ctx.res;
  res.writeHead(200, Object.assign({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'connection': 'keep-alive',
  }, headers || {}));
  const w = new BodyWriter(ctx);
  w.data = (obj, cb) => w.write('data: ' + (typeof obj === 'string' ? obj : JSON.stringify(obj)) + '\n\n', cb);
  w.event = (name, obj, cb) => w.write('event: ' + name + '\ndata: ' + JSON.stringify(obj) + '\n\n', cb);
  return w;
}

// The text of the last user message; content may be a string or parts.
function lastUserText(messages) {
  if (!Array.isArray(messages)) return '';
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m || m.role !== 'user') continue;
    return contentText(m.content);
  }
  return '';
}

function contentText(c) {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    return c.map((p) => (p && typeof p.text === 'string' ? p.text : '')).join('');
  }
  return '';
}

// A deterministic token count: words plus punctuation runs, at least 1.
function countTokens(text) {
  const m = String(text || '').match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu);
  return m ? m.length : 0;
}

function messagesTokens(messages) {
  if (!Array.isArray(messages)) return 1;
  let n = 0;
  for (const m of messages) {
    n += 4 + countTokens(m ? contentText(m.content) : '');
  }
  return n + 3;
}

// Cuts text into small fragments on code point boundaries (so a fragment
// is always valid UTF-16; the byte splitting happens in BodyWriter).
function fragments(text, size) {
  const cps = Array.from(text);
  const out = [];
  for (let i = 0; i < cps.length; i += size) out.push(cps.slice(i, i + size).join(''));
  return out;
}

module.exports = {
  prng, splitBuffer, writePieces, BodyWriter, sendJson, startSse,
  lastUserText, contentText, countTokens, messagesTokens, fragments,
};
