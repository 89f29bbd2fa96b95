
/*
 * Copyright (C) ngx_llm authors
 *
 * The balancer behind llm_pass.  Every try may go to another deployment,
 * so peer.get sets the address, TLS, SNI name, timeouts and the provider
 * request afresh each time (nginx-internals.md section 1).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static ngx_int_t ngx_http_llm_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us);
static ngx_int_t ngx_http_llm_get_peer(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_llm_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state);
static ngx_uint_t ngx_http_llm_stale(ngx_peer_connection_t *pc,
    ngx_http_llm_ctx_t *ctx, ngx_http_upstream_t *u);
static void ngx_http_llm_set_timeouts(ngx_http_llm_ctx_t *ctx,
    ngx_http_upstream_t *u, ngx_http_llm_deploy_t *d);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_llm_verify_ip(ngx_peer_connection_t *pc,
    ngx_str_t *name);
static ngx_int_t ngx_http_llm_set_session(ngx_peer_connection_t *pc,
    void *data);
static void ngx_http_llm_save_session(ngx_peer_connection_t *pc,
    void *data);
#endif


ngx_int_t
ngx_http_llm_init_balancer(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    ngx_http_upstream_srv_conf_t  *us;

    /*
     * not registered with ngx_http_upstream_add(): no upstream{} block
     * can name it, and it has no servers of its own
     */
    us = ngx_pcalloc(cf->pool, sizeof(ngx_http_upstream_srv_conf_t));
    if (us == NULL) {
        return NGX_ERROR;
    }

    ngx_str_set(&us->host, "llm_pass");
    us->peer.init = ngx_http_llm_init_peer;
    us->peer.data = lmcf;
    us->file_name = cf->conf_file->file.name.data;
    us->line = cf->conf_file->line;

    lmcf->upstream = us;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_init_peer(ngx_http_request_t *r,
    ngx_http_upstream_srv_conf_t *us)
{
    ngx_http_upstream_t  *u;
    ngx_http_llm_ctx_t   *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);
    u = r->upstream;

    u->peer.get = ngx_http_llm_get_peer;
    u->peer.free = ngx_http_llm_free_peer;
    u->peer.data = ctx;
    /* the first tries of the plan may have been skipped already */
    u->peer.tries = ctx->nplan - ctx->attempt;

#if (NGX_HTTP_SSL)
    u->peer.set_session = ngx_http_llm_set_session;
    u->peer.save_session = ngx_http_llm_save_session;
#endif

    ctx->deploy = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    ngx_addr_t             *a;
    ngx_chain_t            *cl;
    struct sockaddr        *sa;
    ngx_http_request_t     *r;
    ngx_http_upstream_t    *u;
    ngx_http_llm_deploy_t  *d;

    r = ctx->request;
    u = r->upstream;

    for ( ;; ) {
        if (ctx->attempt >= ctx->nplan) {
            return NGX_BUSY;
        }

        d = &((ngx_http_llm_deploy_t *) ctx->lmcf->deploys.elts)
                                            [ctx->plan[ctx->attempt].deploy];

        ctx->token_phase = 0;

        if (ctx->need_token) {
            /* this try goes to the token endpoint, see ngx_http_llm_auth.c */
            ctx->deploy = d;
            return ngx_http_llm_auth_try(pc, ctx, d);
        }

        if ((d == ctx->deploy || ctx->deploy == NULL) && !ctx->rebuild) {
            break;
        }

        /* kept for the error filter, should no deployment take the call */
        if (ctx->error == NULL) {
            ctx->error = ngx_palloc(r->pool, sizeof(llm_error_t));
            if (ctx->error == NULL) {
                return NGX_ERROR;
            }
        }

        /* another deployment: another body, auth, signature */
        cl = ngx_http_llm_build_request(r, ctx, d, ctx->error);

        if (cl) {
            ctx->rebuild = 0;
            ctx->error_set = 0;
            u->request_bufs = cl;
            break;
        }

        /* one that cannot take the request is passed over */
        ngx_log_error(NGX_LOG_INFO, pc->log, 0,
                      "llm: deployment \"%s\" of model \"%s\" cannot take "
                      "the request: %s", d->dep->id, d->dep->model_name,
                      ctx->error->message);

        ctx->error_set = 1;
        ctx->rebuild = 1;
        ctx->attempt++;

        if (pc->tries > 1) {
            pc->tries--;
        }
    }

    /*
     * a copy: a DNS refresh may free d->addrs while this try is under
     * way (ngx_http_llm_resolve.c); d->name lives as long as the cycle.
     * naddrs is not 0: the request was built, which needs an address,
     * and a refresh never takes a deployment's last addresses away
     */
    a = &d->addrs[d->next++ % d->naddrs];

    sa = ngx_palloc(r->pool, a->socklen);
    if (sa == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(sa, a->sockaddr, a->socklen);

    ctx->deploy = d;
    ctx->status_retry = 0;
    ctx->try_start = ngx_current_msec;

    ctx->slot = ngx_http_llm_state_slot(ctx->lmcf, d);

    if (ctx->slot) {
        ngx_http_llm_state_start(ctx->lmcf, ctx->slot);
        ctx->in_flight = 1;
    }

    pc->sockaddr = sa;
    pc->socklen = a->socklen;
    pc->name = &d->name;
    pc->cached = 0;
    pc->connection = NULL;

#if (NGX_HTTP_SSL)
    u->ssl = d->tls;
    u->ssl_name = d->ssl_name;

    /*
     * nginx checks certificates against DNS names only; an address is
     * checked by OpenSSL itself during the handshake, see set_session
     */
    u->conf->ssl_verify = d->ip_literal ? 0 : 1;
#endif

    ngx_http_llm_set_timeouts(ctx, u, d);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "llm balancer: try %ui model \"%s\" at %V",
                   ctx->attempt, d->dep->model, &d->name);

    return ngx_http_llm_keepalive_get(ctx->lmcf, pc, d);
}


/* x-litellm-timeout, then the deployment's, the router's, the location's */
static void
ngx_http_llm_set_timeouts(ngx_http_llm_ctx_t *ctx, ngx_http_upstream_t *u,
    ngx_http_llm_deploy_t *d)
{
    double                    t, st;
    llm_router_settings_t    *rs;
    ngx_http_llm_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(ctx->request, ngx_http_llm_module);
    rs = &ctx->lmcf->router;

    if (ctx->timeout) {
        u->conf->read_timeout = ctx->timeout;
        return;
    }

    t = d->dep->timeout > 0 ? d->dep->timeout : rs->timeout;
    st = d->dep->stream_timeout > 0 ? d->dep->stream_timeout
                                    : rs->stream_timeout;

    if (ctx->call.stream && st > 0) {
        t = st;
    }

    u->conf->read_timeout = t > 0 ? (ngx_msec_t) (t * 1000)
                                  : llcf->upstream.read_timeout;
}


/*
 * A cached connection that failed before a byte of an answer came back
 * had been closed by the provider while idle.  A timeout, or a failure
 * after the answer started, is the deployment's own.
 */
static ngx_uint_t
ngx_http_llm_stale(ngx_peer_connection_t *pc, ngx_http_llm_ctx_t *ctx,
    ngx_http_upstream_t *u)
{
    ngx_connection_t  *c;

    c = pc->connection;

    if (!pc->cached || ctx->status_retry || ctx->token_phase
        || (u->state && u->state->bytes_received))
    {
        return 0;
    }

    if (c && (c->read->timedout || c->write->timedout)) {
        return 0;
    }

    return 1;
}


static void
ngx_http_llm_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_http_llm_ctx_t *ctx = data;

    ngx_http_upstream_t  *u;

    u = ctx->request->upstream;

    if (pc->tries) {
        pc->tries--;
    }

    if (ctx->in_flight) {
        ngx_http_llm_state_done(ctx->slot);
        ctx->in_flight = 0;
    }

    if (state & NGX_PEER_FAILED) {
        if (ngx_http_llm_stale(pc, ctx, u)) {
            /*
             * a kept-alive connection the provider had closed: nginx
             * tries again, and the same deployment deserves that try
             */
            return;
        }

        /* failures by status were counted where the status was read */
        if (!ctx->status_retry && ctx->slot
            && ngx_http_llm_state_fail(ctx->lmcf, ctx->slot, -1))
        {
            ngx_log_error(NGX_LOG_WARN, pc->log, 0,
                          "llm: deployment \"%s\" of model \"%s\" cools "
                          "down for %.0fs after failures", ctx->deploy->dep->id,
                          ctx->deploy->dep->model_name,
                          ctx->lmcf->router.cooldown_time);
        }

        ctx->attempt++;

        return;
    }

    if (ctx->deploy && u->keepalive && pc->connection) {
        ngx_http_llm_keepalive_put(ctx->lmcf, pc, ctx->deploy);
    }
}


#if (NGX_HTTP_SSL)

/*
 * set_session is the one hook between SSL_new() and the handshake: the
 * address goes into the verify parameters, and a certificate that is
 * not for it, or not trusted, fails the handshake itself
 */
static ngx_int_t
ngx_http_llm_verify_ip(ngx_peer_connection_t *pc, ngx_str_t *name)
{
    SSL     *ssl;
    u_char   ip[NGX_SOCKADDR_STRLEN + 1];

    ssl = pc->connection->ssl->connection;

    if (name->len >= sizeof(ip)) {
        return NGX_ERROR;
    }

    ngx_cpystrn(ip, name->data, name->len + 1);

    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), (char *) ip)
        != 1)
    {
        ngx_ssl_error(NGX_LOG_ERR, pc->log, 0,
                      "llm: could not verify upstream address \"%V\"",
                      name);
        return NGX_ERROR;
    }

    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_set_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    ngx_int_t               rc;
    ngx_http_llm_deploy_t  *d;

    d = ctx->deploy;

    if (d == NULL) {
        return NGX_OK;
    }

    if (ctx->token_phase) {
        return d->token_ip_literal
               ? ngx_http_llm_verify_ip(pc, &d->token_sni) : NGX_OK;
    }

    if (d->ip_literal && ngx_http_llm_verify_ip(pc, &d->ssl_name) != NGX_OK) {
        return NGX_ERROR;
    }

    if (d->ssl_session == NULL) {
        return NGX_OK;
    }

    rc = ngx_ssl_set_session(pc->connection, d->ssl_session);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "llm set session: %i", rc);

    return rc;
}


static void
ngx_http_llm_save_session(ngx_peer_connection_t *pc, void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    ngx_ssl_session_t      *session;
    ngx_http_llm_deploy_t  *d;

    d = ctx->deploy;

    /* the token endpoint's session is not the provider's */
    if (d == NULL || ctx->token_phase) {
        return;
    }

    session = ngx_ssl_get0_session(pc->connection);
    if (session == NULL) {
        return;
    }

    /* sessions are per deployment, so per SNI name too */
    session = ngx_ssl_get_session(pc->connection);
    if (session == NULL) {
        return;
    }

    if (d->ssl_session) {
        ngx_ssl_free_session(d->ssl_session);
    }

    d->ssl_session = session;
}

#endif
