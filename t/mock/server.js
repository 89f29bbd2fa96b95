#!/usr/bin/env node
'use strict';
// Mock LLM providers for the integration tests.
//
//   node t/mock/server.js --port 0 --tls-port 0 --cert c.pem --key k.pem \
//        [--host 127.0.0.1] [--ready-file f.json] [--parent-pid N] [--hang-ms 60000]
//
// One process, one HTTP listener and (with --cert/--key) one HTTPS
// listener, both loopback.  Port 0 picks a free port; the ports actually
// bound are written as JSON {pid,port,tls_port} to --ready-file (atomically,
// via rename) and printed as "MOCK_READY {...}" on stdout.
//
// Provider routes come from t/mock/providers/index.js (a routing table,
// one file per provider).  Control endpoints, never under provider paths:
//   GET    /__requests          every recorded provider request, newest last
//   DELETE /__requests          forget them
//   POST   /__release           release every request waiting at a gate
//                               (mock-slow-release); answers {"released":n}
//   GET    /__waiting           {"waiting":n}: requests parked at the gate
//   GET    /__health            {"ok":true}
//
// Each recorded request: seq, conn_id (one per TCP connection), remote_port,
// remote_address, tls, servername (TLS SNI or null), alpn, method, url,
// path, query, headers (lower-case names), raw_headers, body (utf-8 text),
// body_base64, json (parsed body or null), json_error, provider, route,
// seed (of the awkward-split PRNG), time.
//
// The process never exits on bad input; with --parent-pid it exits when
// that process is gone, so an interrupted test run leaves nothing behind.

const http = require('http');
const https = require('https');
const fs = require('fs');
const path = require('path');
const { URL } = require('url');
const providers = require('./providers');

function parseArgs(argv) {
  const a = { host: '127.0.0.1', port: 0, tlsPort: null, hangMs: 60000 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    switch (k) {
      case '--host': a.host = v; i++; break;
      case '--port': a.port = Number(v); i++; break;
      case '--tls-port': a.tlsPort = Number(v); i++; break;
      case '--cert': a.cert = v; i++; break;
      case '--key': a.key = v; i++; break;
      case '--ready-file': a.readyFile = v; i++; break;
      case '--parent-pid': a.parentPid = Number(v); i++; break;
      case '--hang-ms': a.hangMs = Number(v); i++; break;
      case '--quiet': a.quiet = true; break;
      default:
        process.stderr.write(`mock: unknown argument ${k}\n`);
        process.exit(2);
    }
  }
  return a;
}

const args = parseArgs(process.argv);
const MAX_BODY = 64 * 1024 * 1024;

function log(...m) {
  if (!args.quiet) process.stderr.write(`[mock ${new Date().toISOString()}] ${m.join(' ')}\n`);
}

process.on('uncaughtException', (e) => log('uncaught exception (ignored):', e && e.stack || e));
process.on('unhandledRejection', (e) => log('unhandled rejection (ignored):', e && e.stack || e));

// ---- shared state -------------------------------------------------------

const state = {
  requests: [],
  seq: 0,
  connSeq: 0,
  waiters: new Set(),
  hangMs: args.hangMs,
};

// Park a request until POST /__release.  The waiter is dropped when the
// client goes away.  Returns nothing; fn runs at most once.
function waitRelease(ctx, fn) {
  let done = false;
  const w = {
    ctx,
    release() {
      if (done) return;
      done = true;
      state.waiters.delete(w);
      fn();
    },
  };
  state.waiters.add(w);
  ctx.res.on('close', () => { done = true; state.waiters.delete(w); });
}

// ---- control endpoints --------------------------------------------------

function control(req, res, url, body) {
  const send = (status, obj) => {
    const b = Buffer.from(JSON.stringify(obj));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': b.length });
    res.end(b);
  };
  const p = url.pathname;
  if (p === '/__requests' && req.method === 'GET') return send(200, state.requests), true;
  if (p === '/__requests' && req.method === 'DELETE') {
    const n = state.requests.length;
    state.requests = [];
    return send(200, { deleted: n }), true;
  }
  if (p === '/__release' && req.method === 'POST') {
    const ws = [...state.waiters];
    ws.forEach((w) => w.release());
    log(`released ${ws.length} waiting request(s)`);
    return send(200, { released: ws.length }), true;
  }
  if (p === '/__waiting' && req.method === 'GET') return send(200, { waiting: state.waiters.size }), true;
  if (p === '/__health' && req.method === 'GET') return send(200, { ok: true, pid: process.pid }), true;
  if (p.startsWith('/__')) return send(404, { error: 'unknown control endpoint ' + p }), true;
  return false;
}

// ---- request dispatch ---------------------------------------------------

function onRequest(req, res) {
  const chunks = [];
  let size = 0;
  let tooBig = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) { tooBig = true; return; }
    chunks.push(c);
  });
  req.on('error', () => {});
  res.on('error', () => {});
  req.on('end', () => {
    try {
      handle(req, res, Buffer.concat(chunks), tooBig);
    } catch (e) {
      log('handler error:', e && e.stack || e);
      try {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: 'mock internal error: ' + e, type: 'server_error', param: null, code: null } }));
        } else {
          res.destroy();
        }
      } catch (_) { /* nothing left to do */ }
    }
  });
}

function handle(req, res, body, tooBig) {
  let url;
  try {
    url = new URL(req.url, 'http://mock.invalid');
  } catch (_) {
    url = new URL('http://mock.invalid/');
  }
  if (control(req, res, url, body)) return;

  const sock = req.socket;
  const text = body.toString('utf8');
  let json = null;
  let jsonError = null;
  if (body.length) {
    try { json = JSON.parse(text); } catch (e) { jsonError = String(e.message || e); }
  }
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const seq = ++state.seq;
  const record = {
    seq,
    conn_id: sock.__mockConnId || null,
    remote_port: sock.remotePort,
    remote_address: sock.remoteAddress,
    tls: !!sock.encrypted,
    servername: sock.encrypted ? (sock.servername || null) : null,
    alpn: sock.encrypted ? (sock.alpnProtocol || null) : null,
    method: req.method,
    url: req.url,
    path: url.pathname,
    query,
    http_version: req.httpVersion,
    headers: Object.assign({}, req.headers),
    raw_headers: req.rawHeaders,
    body: text,
    body_base64: body.toString('base64'),
    json,
    json_error: jsonError,
    provider: null,
    route: null,
    seed: seq * 7919 + 13,
    time: Date.now(),
  };

  const match = providers.match(req.method, url.pathname);
  if (match) {
    record.provider = match.provider;
    record.route = match.route.name;
  }
  state.requests.push(record);
  if (state.requests.length > 10000) state.requests.shift();
  log(`#${seq} conn=${record.conn_id} ${record.tls ? 'https' : 'http'} ${req.method} ${req.url} provider=${record.provider} route=${record.route} model=${json && json.model}`);

  const ctx = {
    req, res, url, body, text, json, jsonError, record, query,
    params: match ? match.params : {},
    seed: record.seed,
    split: req.headers['x-mock-split'] === '1',
    state,
    log,
    waitRelease: (fn) => waitRelease(ctx, fn),
  };

  if (tooBig) {
    return providers.sendError(ctx, 413, 'request body too large for the mock');
  }
  if (!match) {
    return providers.notFound(ctx);
  }
  match.route.handler(ctx);
}

// ---- listeners ----------------------------------------------------------

function tuneServer(srv, isTls) {
  srv.keepAliveTimeout = 120000; // keep idle upstream connections for the keepalive tests
  srv.headersTimeout = 125000;
  srv.requestTimeout = 0;
  srv.on('clientError', (err, socket) => {
    try {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    } catch (_) { /* ignore */ }
  });
  const tag = (s) => {
    s.__mockConnId = ++state.connSeq;
    s.setNoDelay(true);
    s.on('error', () => {});
  };
  if (isTls) {
    srv.on('secureConnection', tag);
    srv.on('tlsClientError', () => {});
  } else {
    srv.on('connection', tag);
  }
}

function listen(srv, port) {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, args.host, () => resolve(srv.address().port));
  });
}

async function main() {
  const plain = http.createServer(onRequest);
  tuneServer(plain, false);
  const port = await listen(plain, args.port);
  let tlsPort = null;
  if (args.cert && args.key) {
    const secure = https.createServer({
      cert: fs.readFileSync(args.cert),
      key: fs.readFileSync(args.key),
    }, onRequest);
    tuneServer(secure, true);
    tlsPort = await listen(secure, args.tlsPort || 0);
  }
  const info = { pid: process.pid, port, tls_port: tlsPort };
  if (args.readyFile) {
    const tmp = args.readyFile + '.tmp';
    fs.writeFileSync(tmp, JSON.stringify(info));
    fs.renameSync(tmp, args.readyFile);
  }
  process.stdout.write('MOCK_READY ' + JSON.stringify(info) + '\n');
  log(`listening http=${args.host}:${port} https=${tlsPort ? args.host + ':' + tlsPort : '-'} providers=${providers.names().join(',')}`);

  if (args.parentPid) {
    setInterval(() => {
      try { process.kill(args.parentPid, 0); } catch (_) {
        log(`parent ${args.parentPid} is gone, exiting`);
        process.exit(0);
      }
    }, 1000).unref();
  }
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => { log(`${sig}, exiting`); process.exit(0); });
}

main().catch((e) => {
  process.stderr.write('mock: failed to start: ' + (e && e.stack || e) + '\n');
  process.exit(1);
});

module.exports = { path: path.resolve(__filename) };
