
/*
 * Copyright (C) ngx_llm authors
 *
 * Deployment host names that follow DNS.  With nginx's "resolver" in the
 * http{} block, each worker re-resolves every host name of the model file
 * every llm_resolver_refresh through nginx's own non-blocking resolver,
 * and swaps a deployment's addresses when the answer changes; a failed
 * answer keeps the last good ones.  Without "resolver" the addresses
 * found at load stay (ngx_http_llm_config.c).
 *
 * The hosts of OAuth2 token endpoints (Entra ID's, Google's) follow DNS
 * the same way: a deployment's token address stays while the answers
 * still hold it, and moves to one of them when they no longer do.
 *
 * Nothing keeps a pointer into d->addrs across an event loop turn:
 * peer.get copies the sockaddr it picks into the request pool, a fetch
 * (health probe) copies its address into the fetch's pool, and the
 * keepalive cache stores addresses by value.  So a replaced array is freed
 * at once, and the cycle pool does not grow with refreshes.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


/* one host name, shared by the deployments that use it */
struct ngx_http_llm_rhost_s {
    ngx_str_t                      name;          /* the resolver writes it */
    ngx_http_llm_deploy_t        **deploys;
    ngx_uint_t                     ndeploys;
    ngx_http_llm_main_conf_t      *lmcf;
    ngx_resolver_ctx_t            *ctx;           /* the query in flight */
    ngx_event_t                    timer;
    unsigned                       token:1;       /* token endpoint host */
    unsigned                       failing:1;     /* warned in this streak */
};


static ngx_str_t *ngx_http_llm_resolve_name(ngx_http_llm_deploy_t *d,
    ngx_uint_t token);
static ngx_http_llm_rhost_t *ngx_http_llm_resolve_host(
    ngx_http_llm_main_conf_t *lmcf, ngx_str_t *name, ngx_uint_t token);
static ngx_int_t ngx_http_llm_resolve_token(ngx_http_llm_deploy_t *d,
    ngx_resolver_addr_t *ra, ngx_uint_t n, ngx_log_t *log);
static ngx_addr_t *ngx_http_llm_resolve_addrs(ngx_resolver_addr_t *ra,
    ngx_uint_t n, in_port_t port, ngx_log_t *log);
static void ngx_http_llm_resolve_timer(ngx_event_t *ev);
static void ngx_http_llm_resolve_handler(ngx_resolver_ctx_t *ctx);
static ngx_int_t ngx_http_llm_resolve_set(ngx_http_llm_deploy_t *d,
    ngx_resolver_addr_t *ra, ngx_uint_t n, ngx_log_t *log);
static ngx_uint_t ngx_http_llm_resolve_same(ngx_http_llm_deploy_t *d,
    ngx_resolver_addr_t *ra, ngx_uint_t n);
static u_char *ngx_http_llm_resolve_text(u_char *p, u_char *last,
    ngx_addr_t *addrs, ngx_resolver_addr_t *ra, ngx_uint_t n);
static void ngx_http_llm_resolve_cleanup(void *data);


/* the "resolver" of the http{} block, if there is a real one */
ngx_int_t
ngx_http_llm_resolve_conf(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /*
     * the core module's merge gives http{} a resolver with no servers
     * when "resolver" is not set
     */
    if (clcf->resolver == NULL || clcf->resolver->connections.nelts == 0) {
        lmcf->resolver = NULL;
        return NGX_OK;
    }

    lmcf->resolver = clcf->resolver;

    /* nothing merges the http{} level itself: its default is ours to set */
    lmcf->resolver_timeout = clcf->resolver_timeout == NGX_CONF_UNSET_MSEC
                             ? 30000 : clcf->resolver_timeout;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_resolve_init_process(ngx_cycle_t *cycle,
    ngx_http_llm_main_conf_t *lmcf)
{
    ngx_str_t               *name;
    ngx_msec_t               delay;
    ngx_uint_t               i, k, n, off;
    ngx_pool_cleanup_t      *cln;
    ngx_http_llm_rhost_t    *h;
    ngx_http_llm_deploy_t   *d, **all;

    if (lmcf->resolver == NULL) {
        return NGX_OK;
    }

    d = lmcf->deploys.elts;
    n = lmcf->deploys.nelts;

    /* at most a provider host and a token host per deployment */
    lmcf->rhosts = ngx_pcalloc(cycle->pool,
                               (n ? 2 * n : 1) * sizeof(ngx_http_llm_rhost_t));
    all = ngx_palloc(cycle->pool, (n ? 2 * n : 1) * sizeof(void *));
    cln = ngx_pool_cleanup_add(cycle->pool, 0);

    if (lmcf->rhosts == NULL || all == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    lmcf->nrhosts = 0;

    /* count the deployments of each distinct name ... */
    for (k = 0; k < 2; k++) {
        for (i = 0; i < n; i++) {
            name = ngx_http_llm_resolve_name(&d[i], k);
            if (name == NULL) {
                continue;
            }

            h = ngx_http_llm_resolve_host(lmcf, name, k);

            if (h == NULL) {
                h = &lmcf->rhosts[lmcf->nrhosts++];

                h->name.len = name->len;
                h->name.data = ngx_pnalloc(cycle->pool, h->name.len);
                if (h->name.data == NULL) {
                    return NGX_ERROR;
                }

                ngx_memcpy(h->name.data, name->data, h->name.len);
                h->lmcf = lmcf;
                h->token = k;
            }

            h->ndeploys++;
        }
    }

    off = 0;

    for (i = 0; i < lmcf->nrhosts; i++) {
        lmcf->rhosts[i].deploys = &all[off];
        off += lmcf->rhosts[i].ndeploys;
        lmcf->rhosts[i].ndeploys = 0;
    }

    /* ... then list them */
    for (k = 0; k < 2; k++) {
        for (i = 0; i < n; i++) {
            name = ngx_http_llm_resolve_name(&d[i], k);

            if (name) {
                h = ngx_http_llm_resolve_host(lmcf, name, k);
                h->deploys[h->ndeploys++] = &d[i];
            }
        }
    }

    cln->handler = ngx_http_llm_resolve_cleanup;
    cln->data = lmcf;

    for (i = 0; i < lmcf->nrhosts; i++) {
        h = &lmcf->rhosts[i];

        h->timer.handler = ngx_http_llm_resolve_timer;
        h->timer.data = h;
        h->timer.log = cycle->log;

        /* a worker that is told to exit does not wait for the next round */
        h->timer.cancelable = 1;

        /*
         * a name the master could not resolve is asked for at once; the
         * others are spread over the first interval, so that a long list
         * of hosts is not asked for in one burst
         */
        delay = (h->token ? h->deploys[0]->token_addr == NULL
                          : h->deploys[0]->naddrs == 0)
                ? 0 : 1 + ngx_random() % lmcf->resolver_refresh;

        ngx_add_timer(&h->timer, delay);
    }

    return NGX_OK;
}


/* the name a deployment's provider (or token endpoint) host follows */
static ngx_str_t *
ngx_http_llm_resolve_name(ngx_http_llm_deploy_t *d, ngx_uint_t token)
{
    if (!token) {
        return d->refresh ? &d->ssl_name : NULL;
    }

    return (d->sa && d->token_sni.len && !d->token_ip_literal)
           ? &d->token_sni : NULL;
}


static ngx_http_llm_rhost_t *
ngx_http_llm_resolve_host(ngx_http_llm_main_conf_t *lmcf, ngx_str_t *name,
    ngx_uint_t token)
{
    ngx_uint_t             i;
    ngx_http_llm_rhost_t  *h;

    h = lmcf->rhosts;

    for (i = 0; i < lmcf->nrhosts; i++) {
        if (h[i].token == token && h[i].name.len == name->len
            && ngx_strncasecmp(h[i].name.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}


static void
ngx_http_llm_resolve_timer(ngx_event_t *ev)
{
    ngx_http_llm_rhost_t *h = ev->data;

    ngx_resolver_ctx_t  *ctx;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    ctx = ngx_resolve_start(h->lmcf->resolver, NULL);

    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "llm: could not start resolving \"%V\"", &h->name);
        ngx_add_timer(ev, h->lmcf->resolver_refresh);
        return;
    }

    ctx->name = h->name;
    ctx->handler = ngx_http_llm_resolve_handler;
    ctx->data = h;
    ctx->timeout = h->lmcf->resolver_timeout;

    /* nor may this query's timeout timer keep an exiting worker */
    ctx->cancelable = 1;

    /* before the call: a cached answer runs the handler from inside it */
    h->ctx = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        /* the resolver has freed ctx, and not called the handler */
        h->ctx = NULL;

        ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                      "llm: could not start resolving \"%V\"", &h->name);
        ngx_add_timer(ev, h->lmcf->resolver_refresh);
    }
}


static void
ngx_http_llm_resolve_handler(ngx_resolver_ctx_t *ctx)
{
    ngx_http_llm_rhost_t *h = ctx->data;

    u_char                  now[512], was[512], *p;
    size_t                  nlen, wlen;
    ngx_int_t               rc;
    ngx_log_t              *log;
    ngx_uint_t              i, changed, known;
    ngx_http_llm_deploy_t  *d;

    log = h->timer.log;
    d = h->deploys[0];
    known = h->token ? (d->token_addr != NULL) : d->naddrs;

    if (ctx->state != NGX_OK || ctx->naddrs == 0) {

        if (!h->failing) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "llm: could not resolve \"%V\"%s: %s; %s",
                          &h->name, h->token ? " (token endpoint)" : "",
                          ctx->state ? ngx_resolver_strerror(ctx->state)
                                     : "no addresses",
                          known ? "its deployments keep the last addresses"
                                : "calls to it fail until it resolves");
            h->failing = 1;
        }

        goto done;
    }

    /* the previous addresses, for the log, before they are freed */
    p = h->token ? ngx_http_llm_resolve_text(was, was + sizeof(was),
                                             d->token_addr, NULL, known)
                 : ngx_http_llm_resolve_text(was, was + sizeof(was),
                                             d->addrs, NULL, d->naddrs);
    if (p == was) {
        p = ngx_cpymem(was, "nothing", sizeof("nothing") - 1);
    }

    wlen = p - was;
    changed = 0;

    for (i = 0; i < h->ndeploys; i++) {
        rc = h->token
             ? ngx_http_llm_resolve_token(h->deploys[i], ctx->addrs,
                                          ctx->naddrs, log)
             : ngx_http_llm_resolve_set(h->deploys[i], ctx->addrs,
                                        ctx->naddrs, log);

        if (rc == NGX_OK) {
            changed = 1;
        }

        /* NGX_ERROR: out of memory, logged; the old addresses stay */
    }

    if (changed || h->failing) {
        p = ngx_http_llm_resolve_text(now, now + sizeof(now), NULL,
                                      ctx->addrs, ctx->naddrs);
        nlen = p - now;

        if (changed) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "llm: \"%V\" now resolves to %*s (was %*s)",
                          &h->name, nlen, now, wlen, was);

        } else {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "llm: \"%V\" resolves again, to %*s", &h->name,
                          nlen, now);
        }
    }

    h->failing = 0;

done:

    ngx_resolve_name_done(ctx);
    h->ctx = NULL;

    if (!ngx_exiting && !ngx_terminate) {
        ngx_add_timer(&h->timer, h->lmcf->resolver_refresh);
    }
}


/*
 * NGX_OK: the deployment has the new addresses; NGX_DECLINED: they are
 * the ones it has (DNS answers come in any order); NGX_ERROR: no memory
 */
static ngx_int_t
ngx_http_llm_resolve_set(ngx_http_llm_deploy_t *d, ngx_resolver_addr_t *ra,
    ngx_uint_t n, ngx_log_t *log)
{
    ngx_addr_t  *addrs;

    if (ngx_http_llm_resolve_same(d, ra, n)) {
        return NGX_DECLINED;
    }

    addrs = ngx_http_llm_resolve_addrs(ra, n, (in_port_t) d->dep->base.port,
                                       log);
    if (addrs == NULL) {
        return NGX_ERROR;
    }

    /* nobody holds a pointer into the old set, see the top of this file */
    if (d->addrs_alloc) {
        ngx_free(d->addrs);
    }

    d->addrs = addrs;
    d->naddrs = n;
    d->addrs_alloc = 1;

    return NGX_OK;
}


/* the answer's addresses with the port, in one block: one ngx_free() */
static ngx_addr_t *
ngx_http_llm_resolve_addrs(ngx_resolver_addr_t *ra, ngx_uint_t n,
    in_port_t port, ngx_log_t *log)
{
    u_char          *p;
    ngx_uint_t       i;
    ngx_addr_t      *addrs;
    ngx_sockaddr_t  *sa;

    addrs = ngx_alloc(n * (sizeof(ngx_addr_t) + sizeof(ngx_sockaddr_t)
                           + NGX_SOCKADDR_STRLEN),
                      log);
    if (addrs == NULL) {
        return NULL;
    }

    sa = (ngx_sockaddr_t *) &addrs[n];
    p = (u_char *) &sa[n];

    for (i = 0; i < n; i++) {
        ngx_memcpy(&sa[i], ra[i].sockaddr, ra[i].socklen);
        ngx_inet_set_port(&sa[i].sockaddr, port);

        addrs[i].sockaddr = &sa[i].sockaddr;
        addrs[i].socklen = ra[i].socklen;
        addrs[i].name.data = p;
        addrs[i].name.len = ngx_sock_ntop(&sa[i].sockaddr, ra[i].socklen, p,
                                          NGX_SOCKADDR_STRLEN, 1);
        p += NGX_SOCKADDR_STRLEN;
    }

    return addrs;
}


/*
 * A token endpoint is one address: it stays while the answer holds it
 * (NGX_DECLINED), else the first of the answer replaces it (NGX_OK)
 */
static ngx_int_t
ngx_http_llm_resolve_token(ngx_http_llm_deploy_t *d, ngx_resolver_addr_t *ra,
    ngx_uint_t n, ngx_log_t *log)
{
    ngx_uint_t   i;
    ngx_addr_t  *addr;

    for (i = 0; d->token_addr && i < n; i++) {
        if (ngx_cmp_sockaddr(ra[i].sockaddr, ra[i].socklen,
                             d->token_addr->sockaddr, d->token_addr->socklen,
                             0)
            == NGX_OK)
        {
            return NGX_DECLINED;
        }
    }

    addr = ngx_http_llm_resolve_addrs(ra, 1, d->token_port, log);
    if (addr == NULL) {
        return NGX_ERROR;
    }

    /* a fetch and a token try copy it: nobody holds the old one */
    if (d->token_addr_alloc) {
        ngx_free(d->token_addr);
    }

    d->token_addr = addr;
    d->token_addr_alloc = 1;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_llm_resolve_same(ngx_http_llm_deploy_t *d, ngx_resolver_addr_t *ra,
    ngx_uint_t n)
{
    ngx_uint_t   i, j;
    ngx_addr_t  *a;

    if (d->naddrs != n) {
        return 0;
    }

    a = d->addrs;

    /* both ways, should an answer repeat an address */
    for (i = 0; i < n; i++) {
        for (j = 0; j < n; j++) {
            if (ngx_cmp_sockaddr(ra[i].sockaddr, ra[i].socklen,
                                 a[j].sockaddr, a[j].socklen, 0)
                == NGX_OK)
            {
                break;
            }
        }

        if (j == n) {
            return 0;
        }

        for (j = 0; j < n; j++) {
            if (ngx_cmp_sockaddr(a[i].sockaddr, a[i].socklen,
                                 ra[j].sockaddr, ra[j].socklen, 0)
                == NGX_OK)
            {
                break;
            }
        }

        if (j == n) {
            return 0;
        }
    }

    return 1;
}


/* "a, b, c" of either kind of address list, cut to fit, without ports */
static u_char *
ngx_http_llm_resolve_text(u_char *p, u_char *last, ngx_addr_t *addrs,
    ngx_resolver_addr_t *ra, ngx_uint_t n)
{
    u_char           *start;
    socklen_t         len;
    ngx_uint_t        i;
    struct sockaddr  *sa;

    start = p;

    for (i = 0; i < n; i++) {
        if ((size_t) (last - p) < NGX_SOCKADDR_STRLEN + sizeof(", ...")) {
            return ngx_cpymem(p, ", ...", sizeof(", ...") - 1);
        }

        if (p != start) {
            *p++ = ',';
            *p++ = ' ';
        }

        sa = addrs ? addrs[i].sockaddr : ra[i].sockaddr;
        len = addrs ? addrs[i].socklen : ra[i].socklen;

        p += ngx_sock_ntop(sa, len, p, last - p, 0);
    }

    return p;
}


/*
 * the worker's cycle pool goes: stop the queries and timers, free the
 * address sets; this runs before the resolver's own cleanup, which was
 * registered earlier, at load
 */
static void
ngx_http_llm_resolve_cleanup(void *data)
{
    ngx_http_llm_main_conf_t *lmcf = data;

    ngx_uint_t              i;
    ngx_http_llm_rhost_t   *h;
    ngx_http_llm_deploy_t  *d;

    for (i = 0; i < lmcf->nrhosts; i++) {
        h = &lmcf->rhosts[i];

        if (h->ctx) {
            ngx_resolve_name_done(h->ctx);
            h->ctx = NULL;
        }

        if (h->timer.timer_set) {
            ngx_del_timer(&h->timer);
        }
    }

    d = lmcf->deploys.elts;

    for (i = 0; i < lmcf->deploys.nelts; i++) {
        if (d[i].addrs_alloc) {
            ngx_free(d[i].addrs);
            d[i].addrs = NULL;
            d[i].naddrs = 0;
            d[i].addrs_alloc = 0;
        }

        if (d[i].token_addr_alloc) {
            ngx_free(d[i].token_addr);
            d[i].token_addr = NULL;
            d[i].token_addr_alloc = 0;
        }
    }
}
