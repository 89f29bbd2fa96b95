
/*
 * Copyright (C) ngx_llm authors
 *
 * Idle upstream connections, per worker.  Unlike the stock keepalive
 * module, which matches a cached connection by address alone, a
 * connection here is reused only for the same address, the same TLS
 * setting and the same SNI name: providers behind one CDN share
 * addresses, and a TLS connection opened for one of them must never
 * carry another provider's key.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static ngx_int_t ngx_http_llm_keepalive_match(ngx_http_llm_keepalive_t *item,
    ngx_peer_connection_t *pc, ngx_http_llm_deploy_t *d);
static void ngx_http_llm_keepalive_dummy_handler(ngx_event_t *ev);
static void ngx_http_llm_keepalive_close_handler(ngx_event_t *ev);
static void ngx_http_llm_keepalive_close(ngx_connection_t *c);


ngx_int_t
ngx_http_llm_keepalive_init(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    ngx_uint_t                 i;
    ngx_http_llm_keepalive_t  *items;

    ngx_queue_init(&lmcf->cache);
    ngx_queue_init(&lmcf->free);

    if (lmcf->keepalive == 0) {
        return NGX_OK;
    }

    items = ngx_pcalloc(cf->pool,
                        sizeof(ngx_http_llm_keepalive_t) * lmcf->keepalive);
    if (items == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < lmcf->keepalive; i++) {
        items[i].lmcf = lmcf;
        ngx_queue_insert_head(&lmcf->free, &items[i].queue);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_keepalive_get(ngx_http_llm_main_conf_t *lmcf,
    ngx_peer_connection_t *pc, ngx_http_llm_deploy_t *d)
{
    ngx_queue_t               *q;
    ngx_connection_t          *c;
    ngx_http_llm_keepalive_t  *item;

    for (q = ngx_queue_head(&lmcf->cache);
         q != ngx_queue_sentinel(&lmcf->cache);
         q = ngx_queue_next(q))
    {
        item = ngx_queue_data(q, ngx_http_llm_keepalive_t, queue);

        if (ngx_http_llm_keepalive_match(item, pc, d) != NGX_OK) {
            continue;
        }

        ngx_queue_remove(q);
        ngx_queue_insert_head(&lmcf->free, q);

        c = item->connection;

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;
        c->pool->log = pc->log;

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        pc->connection = c;
        pc->cached = 1;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                       "llm get keepalive peer: using connection %p", c);

        return NGX_DONE;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_keepalive_match(ngx_http_llm_keepalive_t *item,
    ngx_peer_connection_t *pc, ngx_http_llm_deploy_t *d)
{
    if (item->tls != d->tls
        || item->sni_len != d->ssl_name.len
        || ngx_memcmp(item->sni, d->ssl_name.data, item->sni_len) != 0)
    {
        return NGX_DECLINED;
    }

    if (ngx_memn2cmp((u_char *) &item->sockaddr, (u_char *) pc->sockaddr,
                     item->socklen, pc->socklen)
        != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


void
ngx_http_llm_keepalive_put(ngx_http_llm_main_conf_t *lmcf,
    ngx_peer_connection_t *pc, ngx_http_llm_deploy_t *d)
{
    ngx_queue_t               *q;
    ngx_connection_t          *c;
    ngx_http_upstream_t       *u;
    ngx_http_llm_keepalive_t  *item;

    c = pc->connection;
    u = ((ngx_http_request_t *) c->data)->upstream;

    if (lmcf->keepalive == 0
        || d->ssl_name.len > sizeof(item->sni)
        || pc->socklen > sizeof(ngx_sockaddr_t)
        || ngx_terminate || ngx_exiting
        || c->read->eof || c->read->error || c->read->timedout
        || c->write->error || c->write->timedout
        || !u->request_body_sent
        || c->requests >= lmcf->keepalive_requests)
    {
        return;
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        return;
    }

    if (ngx_queue_empty(&lmcf->free)) {
        /* the least recently used idle connection makes room */
        q = ngx_queue_last(&lmcf->cache);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_llm_keepalive_t, queue);
        ngx_http_llm_keepalive_close(item->connection);

    } else {
        q = ngx_queue_head(&lmcf->free);
        ngx_queue_remove(q);

        item = ngx_queue_data(q, ngx_http_llm_keepalive_t, queue);
    }

    ngx_queue_insert_head(&lmcf->cache, q);

    item->connection = c;
    item->tls = d->tls;
    item->sni_len = d->ssl_name.len;
    ngx_memcpy(item->sni, d->ssl_name.data, d->ssl_name.len);
    item->socklen = pc->socklen;
    ngx_memcpy(&item->sockaddr, pc->sockaddr, pc->socklen);

    pc->connection = NULL;

    ngx_add_timer(c->read, lmcf->keepalive_timeout);

    c->write->handler = ngx_http_llm_keepalive_dummy_handler;
    c->read->handler = ngx_http_llm_keepalive_close_handler;

    c->data = item;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    c->pool->log = ngx_cycle->log;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, pc->log, 0,
                   "llm free keepalive peer: saving connection %p", c);

    if (c->read->ready) {
        ngx_http_llm_keepalive_close_handler(c->read);
    }
}


static void
ngx_http_llm_keepalive_dummy_handler(ngx_event_t *ev)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "llm keepalive dummy handler");
}


/* an idle connection became readable: the provider closed it, or erred */
static void
ngx_http_llm_keepalive_close_handler(ngx_event_t *ev)
{
    int                        n;
    char                       buf[1];
    ngx_connection_t          *c;
    ngx_http_llm_keepalive_t  *item;

    c = ev->data;

    if (c->close || c->read->timedout) {
        goto close;
    }

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
        ev->ready = 0;

        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            goto close;
        }

        return;
    }

close:

    item = c->data;

    ngx_http_llm_keepalive_close(c);

    ngx_queue_remove(&item->queue);
    ngx_queue_insert_head(&item->lmcf->free, &item->queue);
}


static void
ngx_http_llm_keepalive_close(ngx_connection_t *c)
{
#if (NGX_HTTP_SSL)

    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;

        if (ngx_ssl_shutdown(c) == NGX_AGAIN) {
            c->ssl->handler = ngx_http_llm_keepalive_close;
            return;
        }
    }

#endif

    if (c->pool) {
        ngx_destroy_pool(c->pool);
    }

    ngx_close_connection(c);
}
