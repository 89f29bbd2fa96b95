
/*
 * Copyright (C) ngx_llm authors
 *
 * The gateway's own HTTP calls, made from nginx's event loop with no
 * client request behind them: OAuth2 token exchanges and health probes.
 * A fetch sends one request with "Connection: close", reads the answer
 * to its end (bounded), and calls back once.  It lives in its own pool,
 * so it can outlive the request that started it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"
#include "llm_http.h"


#define NGX_HTTP_LLM_FETCH_MAX  (1024 * 1024)


static void ngx_http_llm_fetch_connected(ngx_http_llm_fetch_t *f);
static ngx_int_t ngx_http_llm_connect_error(ngx_connection_t *c);
#if (NGX_HTTP_SSL)
static void ngx_http_llm_fetch_ssl_handshake(ngx_connection_t *c);
static ngx_int_t ngx_http_llm_ssl_name(ngx_connection_t *c, ngx_str_t *name);
static ngx_int_t ngx_http_llm_ssl_verify(ngx_connection_t *c,
    ngx_str_t *name);
#endif
static void ngx_http_llm_fetch_write(ngx_event_t *wev);
static void ngx_http_llm_fetch_read(ngx_event_t *rev);
static void ngx_http_llm_fetch_timeout(ngx_event_t *ev);
static void ngx_http_llm_fetch_posted(ngx_event_t *ev);
static void ngx_http_llm_fetch_done(ngx_http_llm_fetch_t *f,
    const char *error);
static void ngx_http_llm_fetch_close(ngx_http_llm_fetch_t *f);


ngx_http_llm_fetch_t *
ngx_http_llm_fetch_create(ngx_log_t *log)
{
    ngx_pool_t            *pool;
    ngx_http_llm_fetch_t  *f;

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NULL;
    }

    f = ngx_pcalloc(pool, sizeof(ngx_http_llm_fetch_t));
    if (f == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    f->pool = pool;
    f->log = log;

    return f;
}


/*
 * Starts the call; f->handler runs later, never from inside this
 * function, so a caller needs no care for re-entry.
 */
void
ngx_http_llm_fetch_start(ngx_http_llm_fetch_t *f)
{
    ngx_int_t          rc;
    ngx_addr_t        *addr;
    ngx_connection_t  *c;

    f->timer.handler = ngx_http_llm_fetch_timeout;
    f->timer.data = f;
    f->timer.log = f->log;
    f->timer.cancelable = 1;

    f->posted.handler = ngx_http_llm_fetch_posted;
    f->posted.data = f;
    f->posted.log = f->log;

    ngx_add_timer(&f->timer, f->timeout);

    /* a DNS refresh may free a deployment's addresses while we run */
    addr = ngx_palloc(f->pool, sizeof(ngx_addr_t) + f->addr->socklen
                               + f->addr->name.len);
    if (addr == NULL) {
        ngx_post_event(&f->posted, &ngx_posted_events);
        return;
    }

    addr->sockaddr = (struct sockaddr *) &addr[1];
    addr->socklen = f->addr->socklen;
    addr->name.data = (u_char *) addr->sockaddr + addr->socklen;
    addr->name.len = f->addr->name.len;
    ngx_memcpy(addr->sockaddr, f->addr->sockaddr, addr->socklen);
    ngx_memcpy(addr->name.data, f->addr->name.data, addr->name.len);
    f->addr = addr;

    f->pc.sockaddr = f->addr->sockaddr;
    f->pc.socklen = f->addr->socklen;
    f->pc.name = &f->addr->name;
    f->pc.get = ngx_event_get_peer;
    f->pc.log = f->log;
    f->pc.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&f->pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_snprintf(f->error, sizeof(f->error) - 1,
                     "could not connect to %V%Z", &f->addr->name);
        ngx_post_event(&f->posted, &ngx_posted_events);
        return;
    }

    c = f->pc.connection;
    c->data = f;
    c->pool = f->pool;
    c->read->handler = ngx_http_llm_fetch_read;
    c->write->handler = ngx_http_llm_fetch_write;

    if (rc == NGX_AGAIN) {
        /* the write event tells when the connection is made */
        return;
    }

    ngx_http_llm_fetch_connected(f);
}


static void
ngx_http_llm_fetch_connected(ngx_http_llm_fetch_t *f)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = f->pc.connection;
    f->connected = 1;

#if (NGX_HTTP_SSL)

    if (f->tls && c->ssl == NULL) {
        if (ngx_ssl_create_connection(f->ssl, c,
                                      NGX_SSL_BUFFER|NGX_SSL_CLIENT)
            != NGX_OK)
        {
            ngx_http_llm_fetch_done(f, "could not start TLS");
            return;
        }

        if (ngx_http_llm_ssl_name(c, &f->ssl_name) != NGX_OK) {
            ngx_http_llm_fetch_done(f, "could not set the TLS name");
            return;
        }

        rc = ngx_ssl_handshake(c);

        if (rc == NGX_AGAIN) {
            c->ssl->handler = ngx_http_llm_fetch_ssl_handshake;
            return;
        }

        ngx_http_llm_fetch_ssl_handshake(c);
        return;
    }

#endif

    ngx_http_llm_fetch_write(c->write);
}


#if (NGX_HTTP_SSL)

static void
ngx_http_llm_fetch_ssl_handshake(ngx_connection_t *c)
{
    ngx_http_llm_fetch_t  *f;

    f = c->data;

    if (!c->ssl->handshaked) {
        ngx_http_llm_fetch_done(f, "TLS handshake failed");
        return;
    }

    if (ngx_http_llm_ssl_verify(c, &f->ssl_name) != NGX_OK) {
        ngx_http_llm_fetch_done(f, "the certificate is not trusted or not "
                                "for this host");
        return;
    }

    c->read->handler = ngx_http_llm_fetch_read;
    c->write->handler = ngx_http_llm_fetch_write;

    ngx_http_llm_fetch_write(c->write);
}

#endif


/* as ngx_http_upstream_test_connect(): did the connect() succeed? */
static ngx_int_t
ngx_http_llm_connect_error(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

#if (NGX_HAVE_KQUEUE)
    if (ngx_event_flags & NGX_USE_KQUEUE_EVENT) {
        if (c->write->pending_eof || c->read->pending_eof) {
            return NGX_ERROR;
        }

        return NGX_OK;
    }
#endif

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_connection_error(c, err, "connect() failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


#if (NGX_HTTP_SSL)

/* SNI for a name; for an address, OpenSSL checks it in the handshake */
static ngx_int_t
ngx_http_llm_ssl_name(ngx_connection_t *c, ngx_str_t *name)
{
    SSL     *ssl;
    u_char  *host;

    ssl = c->ssl->connection;

    host = ngx_pnalloc(c->pool, name->len + 1);
    if (host == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(host, name->data, name->len + 1);

    if (ngx_inet_addr(host, name->len) != INADDR_NONE
        || ngx_strlchr(host, host + name->len, ':') != NULL)
    {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
                                          (char *) host)
            != 1)
        {
            return NGX_ERROR;
        }

        SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
        return NGX_OK;
    }

    return SSL_set_tlsext_host_name(ssl, (char *) host) == 1
           ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_llm_ssl_verify(ngx_connection_t *c, ngx_str_t *name)
{
    long  rc;

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "llm: certificate verify error: (%l:%s) for \"%V\"",
                      rc, X509_verify_cert_error_string(rc), name);
        return NGX_ERROR;
    }

    if (ngx_inet_addr(name->data, name->len) != INADDR_NONE
        || ngx_strlchr(name->data, name->data + name->len, ':') != NULL)
    {
        /* the address was verified in the handshake */
        return NGX_OK;
    }

    if (ngx_ssl_check_host(c, name) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "llm: certificate does not match \"%V\"", name);
        return NGX_ERROR;
    }

    return NGX_OK;
}

#endif


static void
ngx_http_llm_fetch_write(ngx_event_t *wev)
{
    ssize_t                n;
    ngx_buf_t             *b;
    ngx_connection_t      *c;
    ngx_http_llm_fetch_t  *f;

    c = wev->data;
    f = c->data;
    b = f->request;

    if (!f->connected) {
        /* the connect finished, well or not */
        if (ngx_http_llm_connect_error(c) != NGX_OK) {
            ngx_http_llm_fetch_done(f, "connection refused or failed");
            return;
        }

        ngx_http_llm_fetch_connected(f);
        return;
    }

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_http_llm_fetch_done(f, "event error");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_llm_fetch_done(f, "could not send the request");
            return;
        }

        b->pos += n;
    }

    ngx_http_llm_fetch_read(c->read);
}


static void
ngx_http_llm_fetch_read(ngx_event_t *rev)
{
    ssize_t                n;
    u_char                 buf[4096];
    ngx_connection_t      *c;
    ngx_http_llm_fetch_t  *f;

    c = rev->data;
    f = c->data;

    if (f->request->pos < f->request->last) {
        /* still sending */
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_llm_fetch_done(f, "event error");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_llm_fetch_done(f, "the connection failed");
            return;
        }

        if (n == 0) {
            ngx_http_llm_fetch_done(f, NULL);
            return;
        }

        if (f->raw.len + n > NGX_HTTP_LLM_FETCH_MAX
            || llm_buf_append(&f->raw, buf, n) != 0)
        {
            ngx_http_llm_fetch_done(f, "the answer is too large");
            return;
        }
    }
}


static void
ngx_http_llm_fetch_timeout(ngx_event_t *ev)
{
    ngx_http_llm_fetch_done(ev->data, "timed out");
}


static void
ngx_http_llm_fetch_posted(ngx_event_t *ev)
{
    ngx_http_llm_fetch_t  *f;

    f = ev->data;

    ngx_http_llm_fetch_done(f, f->error[0] ? (char *) f->error : "failed");
}


static void
ngx_http_llm_fetch_done(ngx_http_llm_fetch_t *f, const char *error)
{
    char             perr[128];
    llm_http_resp_t  resp;

    ngx_http_llm_fetch_close(f);

    if (error == NULL) {
        if (llm_http_parse(f->raw.data, f->raw.len, &resp, perr,
                           sizeof(perr))
            == 0)
        {
            f->status = resp.status;
            f->body = resp.body;
            ngx_memcpy(f->retry_after, resp.retry_after,
                       sizeof(f->retry_after));

        } else {
            error = perr;
        }
    }

    if (error) {
        if (error != (char *) f->error) {
            ngx_snprintf(f->error, sizeof(f->error) - 1, "%s%Z", error);
        }

        f->status = 0;
    }

    llm_buf_free(&f->raw);

    if (f->handler) {
        f->handler(f);
    }

    llm_buf_free(&f->body);
    ngx_destroy_pool(f->pool);
}


static void
ngx_http_llm_fetch_close(ngx_http_llm_fetch_t *f)
{
    ngx_connection_t  *c;

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    if (f->posted.posted) {
        ngx_delete_posted_event(&f->posted);
    }

    c = f->pc.connection;

    if (c == NULL) {
        return;
    }

    f->pc.connection = NULL;

#if (NGX_HTTP_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    /* the pool is the fetch's own, destroyed after the callback */
    c->pool = NULL;
    ngx_close_connection(c);
}
