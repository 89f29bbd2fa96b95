'use strict';
// The routing table of the mock: one module per provider, each exporting
//
//   module.exports = {
//     name: 'openai',
//     routes: [ { name, method, pattern: /regex on the URL path/, handler(ctx) }, ... ],
//   };
//
// Routes are tried in the order of PROVIDERS below, then in each file's
// order; the first match wins.  Put providers with specific paths (e.g.
// Azure's /openai/deployments/<dep>/chat/completions, Anthropic's
// /v1/messages) BEFORE 'openai', whose patterns accept any path prefix.
// Named capture groups of `pattern` are handed to the handler as
// ctx.params.  See ../server.js for ctx and ../lib.js for the helpers.

const { sendJson } = require('../lib');

// each provider's mock lives in its own file; one not written yet is
// simply absent from the table
function optional(name) {
  try {
    return require(name);
  } catch (e) {
    if (e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(name)) return null;
    throw e;
  }
}

const PROVIDERS = [
  optional('./azure'),
  optional('./anthropic'),
  optional('./cohere'),
  optional('./ollama'),
  optional('./bedrock'),
  optional('./vertex'),
  optional('./mistral'),
  optional('./groq'),
  // openai last: its patterns accept any path prefix
  require('./openai'),
].filter(Boolean);

function match(method, pathname) {
  for (const p of PROVIDERS) {
    for (const r of p.routes) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(pathname);
      if (m) return { provider: p.name, route: r, params: m.groups || {} };
    }
  }
  return null;
}

function sendError(ctx, status, message) {
  sendJson(ctx, status, { error: { message, type: 'invalid_request_error', param: null, code: null } });
}

function notFound(ctx) {
  sendError(ctx, 404, `mock: no provider route for ${ctx.req.method} ${ctx.url.pathname}`);
}

function names() {
  return PROVIDERS.map((p) => p.name);
}

module.exports = { match, sendError, notFound, names, PROVIDERS };
