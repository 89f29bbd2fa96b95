#!/usr/bin/env node
'use strict';
// A DNS server for the resolver tests (t/07-resolver.t).
//
//   node t/mock/dns.js [--host 127.0.0.1] [--ready-file f.json]
//        [--parent-pid N]
//
// UDP DNS on host:<free port>, and an HTTP control listener on
// host:<free port>.  The ports are written as JSON {pid,dns_port,http_port}
// to --ready-file (atomically, via rename) and printed as "DNS_READY {...}".
//
// Answers come from a table of names that the control endpoint changes at
// run time.  Each name has a mode:
//   ok        A queries get the name's addresses (TTL "ttl", default 0),
//             other types an empty NOERROR answer
//   servfail  SERVFAIL (rcode 2) for every type
//   nxdomain  NXDOMAIN (rcode 3)
//   drop      no answer at all: the client times out
// A name that is not in the table is NXDOMAIN.
//
// Control (HTTP):
//   GET    /__set?name=N&a=127.0.0.1,127.0.0.2&mode=ok&ttl=0   -> {"ok":true}
//   GET    /__stats   {"queries":{"<name>":{"A":n,"AAAA":n}},"table":{...}}
//   DELETE /__stats   forget the counts
//
// With --parent-pid it exits when that process is gone.

const dgram = require('dgram');
const http = require('http');
const fs = require('fs');
const { URL } = require('url');

function parseArgs(argv) {
  const a = { host: '127.0.0.1', readyFile: null, parentPid: 0 };
  for (let i = 2; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--host': a.host = v; i++; break;
      case '--ready-file': a.readyFile = v; i++; break;
      case '--parent-pid': a.parentPid = Number(v); i++; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return a;
}

const args = parseArgs(process.argv);
const table = new Map();      // name -> {mode, a: [ip], ttl}
let queries = {};             // name -> {A: n, AAAA: n, ...}

const TYPES = { 1: 'A', 28: 'AAAA', 5: 'CNAME', 33: 'SRV', 12: 'PTR' };

function log(s) {
  process.stdout.write(`${new Date().toISOString()} ${s}\n`);
}

// the question of a query: {name, qtype, end} or null
function parseQuestion(msg) {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  const labels = [];
  let i = 12;
  for (;;) {
    if (i >= msg.length) return null;
    const len = msg[i];
    if (len === 0) { i++; break; }
    if (len & 0xc0) return null;          // no compression in a question
    if (i + 1 + len > msg.length) return null;
    labels.push(msg.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  if (i + 4 > msg.length) return null;
  return {
    name: labels.join('.').toLowerCase(),
    qtype: msg.readUInt16BE(i),
    end: i + 4,
  };
}

function answer(msg, q, rcode, addrs, ttl) {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(msg.readUInt16BE(0), 0);               // id
  // QR, opcode 0, AA, RD as asked, RA; Z, AD, CD zero
  head.writeUInt16BE(0x8000 | 0x0400 | (msg[2] & 0x01) << 8 | 0x0080
                     | rcode, 2);
  head.writeUInt16BE(1, 4);                                  // qdcount
  head.writeUInt16BE(addrs.length, 6);                       // ancount
  const parts = [head, msg.subarray(12, q.end)];
  for (const ip of addrs) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);          // the name of the question
    rr.writeUInt16BE(1, 2);               // A
    rr.writeUInt16BE(1, 4);               // IN
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(4, 10);
    ip.split('.').forEach((o, k) => { rr[12 + k] = Number(o); });
    parts.push(rr);
  }
  return Buffer.concat(parts);
}

const udp = dgram.createSocket('udp4');

udp.on('message', (msg, rinfo) => {
  const q = parseQuestion(msg);
  if (!q) { log(`bad query from ${rinfo.address}:${rinfo.port}`); return; }
  const type = TYPES[q.qtype] || String(q.qtype);
  const c = queries[q.name] || (queries[q.name] = {});
  c[type] = (c[type] || 0) + 1;

  const e = table.get(q.name);
  const mode = e ? e.mode : 'nxdomain';
  const to = e && mode === 'ok' ? ' ' + e.a.join(',') : '';
  log(`${type} ${q.name} -> ${mode}${to}`);
  if (mode === 'drop') return;
  let out;
  if (mode === 'servfail') out = answer(msg, q, 2, [], 0);
  else if (mode === 'nxdomain') out = answer(msg, q, 3, [], 0);
  else out = answer(msg, q, 0, q.qtype === 1 ? e.a : [], e.ttl);
  udp.send(out, rinfo.port, rinfo.address);
});

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json',
                          'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const ctl = http.createServer((req, res) => {
  let url;
  try { url = new URL(req.url, 'http://dns.invalid/'); } catch (e) {
    return sendJson(res, 400, { error: 'bad url' });
  }
  req.resume();
  if (url.pathname === '/__set') {
    const name = (url.searchParams.get('name') || '').toLowerCase();
    const mode = url.searchParams.get('mode') || 'ok';
    const a = (url.searchParams.get('a') || '').split(',').filter((s) => s);
    const ttl = Number(url.searchParams.get('ttl') || 0);
    if (!name || !['ok', 'servfail', 'nxdomain', 'drop'].includes(mode)
        || a.some((ip) => !/^\d+\.\d+\.\d+\.\d+$/.test(ip)))
    {
      return sendJson(res, 400, { error: 'bad name, mode or address' });
    }
    const old = table.get(name);
    table.set(name, { mode, a: a.length || !old ? a : old.a, ttl });
    log(`set ${name} ${mode} ${table.get(name).a.join(',')}`);
    return sendJson(res, 200, { ok: true });
  }
  if (url.pathname === '/__stats') {
    if (req.method === 'DELETE') queries = {};
    return sendJson(res, 200, { queries, table: Object.fromEntries(table) });
  }
  sendJson(res, 404, { error: 'no such control endpoint' });
});

function bound(what, fn) {
  return new Promise((resolve, reject) => {
    what.once('error', reject);
    fn(resolve);
  });
}

(async () => {
  await bound(udp, (ok) => udp.bind(0, args.host, ok));
  await bound(ctl, (ok) => ctl.listen(0, args.host, ok));
  const info = { pid: process.pid, dns_port: udp.address().port,
                 http_port: ctl.address().port };
  if (args.readyFile) {
    fs.writeFileSync(args.readyFile + '.tmp', JSON.stringify(info));
    fs.renameSync(args.readyFile + '.tmp', args.readyFile);
  }
  log(`DNS_READY ${JSON.stringify(info)}`);
  if (args.parentPid) {
    setInterval(() => {
      try { process.kill(args.parentPid, 0); } catch (e) { process.exit(0); }
    }, 500).unref();
  }
})().catch((e) => {
  log(`cannot start: ${e.stack || e}`);
  process.exit(1);
});
