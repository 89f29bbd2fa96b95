
/*
 * Copyright (C) ngx_llm authors
 *
 * OAuth2 access tokens: Vertex AI's (a Google service-account key or
 * gcloud user credentials) and Azure's (Entra ID client credentials).
 * The credentials are read in the master at configuration time.  A token
 * lives in the deployment's shared-memory slot until shortly before it
 * expires; when it is missing, one request (in one worker) wins a lease
 * and fetches a new one at the token endpoint from the event loop, and
 * every request that needs it waits on a short timer, never blocking a
 * worker.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"
#include "llm_google_auth.h"
#include "llm_azure_auth.h"


/*
 * The token of a credential lives in the slot of the first deployment
 * that has it: deployments sharing a key share one token and one fetch.
 */
#define ngx_http_llm_token_slot(lmcf, d)                                      \
    ngx_http_llm_state_slot(lmcf, (d)->token_owner)

/*
 * a token this close to its end is not used any more: 120 s, or half the
 * lifetime of a token that lives less than 4 minutes (which would never
 * be used otherwise, and each request would wait for another)
 */
#define NGX_HTTP_LLM_TOKEN_MARGIN   120
#define ngx_http_llm_token_until(expires_in)                                  \
    (ngx_time() + (expires_in)                                                \
     - ngx_min((expires_in) / 2, NGX_HTTP_LLM_TOKEN_MARGIN))
#define NGX_HTTP_LLM_TOKEN_LEASE    15000
#define NGX_HTTP_LLM_TOKEN_WAIT     20000
#define NGX_HTTP_LLM_TOKEN_POLL     20
#define NGX_HTTP_LLM_TOKEN_BACKOFF  5000


typedef struct {
    ngx_http_llm_main_conf_t      *lmcf;
    ngx_http_llm_deploy_t         *deploy;
} ngx_http_llm_token_fetch_t;


static ngx_int_t ngx_http_llm_auth_vertex(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_deploy_t *d);
static ngx_int_t ngx_http_llm_auth_entra(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_deploy_t *d);
static ngx_int_t ngx_http_llm_auth_keep(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_deploy_t *d);
static void ngx_http_llm_auth_cleanup_sa(void *data);
static ngx_int_t ngx_http_llm_auth_endpoint(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_deploy_t *d);
static ngx_buf_t *ngx_http_llm_auth_request(ngx_pool_t *pool,
    ngx_http_llm_deploy_t *d);
static ngx_int_t ngx_http_llm_auth_refresh(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d, ngx_log_t *log);
static void ngx_http_llm_auth_keep_token(ngx_http_llm_slot_t *s,
    ngx_http_llm_deploy_t *d, const char *token, long expires_in);
static void ngx_http_llm_auth_keep_error(ngx_http_llm_slot_t *s,
    ngx_http_llm_deploy_t *d, const llm_error_t *err);
static void ngx_http_llm_auth_fetched(ngx_http_llm_fetch_t *f);
static void ngx_http_llm_auth_wait(ngx_event_t *ev);
static void ngx_http_llm_auth_wait_cleanup(void *data);


/* at configuration time: the credentials of each deployment that has some */
ngx_int_t
ngx_http_llm_auth_init(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    ngx_int_t               rc;
    ngx_uint_t              i;
    ngx_http_llm_deploy_t  *d;

    d = lmcf->deploys.elts;

    for (i = 0; i < lmcf->deploys.nelts; i++) {

        switch (d[i].dep->provider) {

        case LLM_PROVIDER_VERTEX:
            rc = ngx_http_llm_auth_vertex(cf, lmcf, &d[i]);
            break;

        case LLM_PROVIDER_AZURE:
            rc = ngx_http_llm_auth_entra(cf, lmcf, &d[i]);
            break;

        default:
            rc = NGX_OK;
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_auth_vertex(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d)
{
    int            rc;
    char           err[512], *json;
    const char    *path;
    const cJSON   *v;

    v = cJSON_GetObjectItemCaseSensitive(d->dep->params, "vertex_credentials");
    path = getenv("GOOGLE_APPLICATION_CREDENTIALS");

    if (!cJSON_IsObject(v) && !cJSON_IsString(v) && path == NULL) {
        /* an express-mode api_key, or nothing: the adapter says so */
        return NGX_OK;
    }

    d->sa = ngx_pcalloc(cf->pool, sizeof(llm_google_sa_t));
    if (d->sa == NULL) {
        return NGX_ERROR;
    }

    if (cJSON_IsObject(v)) {
        json = cJSON_PrintUnformatted(v);
        rc = json ? llm_google_sa_parse(json, ngx_strlen(json), d->sa,
                                        err, sizeof(err))
                  : -1;
        free(json);

    } else {
        rc = llm_google_sa_load(cJSON_IsString(v) ? v->valuestring : path,
                                d->sa, err, sizeof(err));
    }

    if (rc != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_config: %V:%d: vertex_credentials of "
                           "model \"%s\": %s", &lmcf->config_file,
                           d->dep->line, d->dep->model_name, err);
        return NGX_ERROR;
    }

    d->sa->provider = "vertex_ai";

    if (ngx_http_llm_auth_keep(cf, lmcf, d) != NGX_OK) {
        return NGX_ERROR;
    }

    /* as LiteLLM: the key's project when the model names none */
    if (d->sa->project_id
        && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                               d->dep->params, "vertex_project"))
        && (cJSON_DeleteItemFromObjectCaseSensitive(d->dep->params,
                                                    "vertex_project"),
            cJSON_AddStringToObject(d->dep->params, "vertex_project",
                                    d->sa->project_id) == NULL))
    {
        return NGX_ERROR;
    }

    return ngx_http_llm_auth_endpoint(cf, lmcf, d);
}


/* Azure with tenant_id, client_id and client_secret (and no key) */
static ngx_int_t
ngx_http_llm_auth_entra(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d)
{
    int               rc;
    char              err[512];
    llm_google_sa_t   sa;

    rc = llm_azure_entra_load(d->dep, getenv("AZURE_AUTHORITY_HOST"), &sa,
                              err, sizeof(err));

    if (rc == 0) {
        return NGX_OK;
    }

    if (rc < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_config: %V:%d: model \"%s\": %s",
                           &lmcf->config_file, d->dep->line,
                           d->dep->model_name, err);
        return NGX_ERROR;
    }

    d->sa = ngx_palloc(cf->pool, sizeof(llm_google_sa_t));

    if (d->sa == NULL) {
        llm_google_sa_free(&sa);
        return NGX_ERROR;
    }

    *d->sa = sa;

    if (ngx_http_llm_auth_keep(cf, lmcf, d) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_llm_auth_endpoint(cf, lmcf, d);
}


/* the credentials live as long as the configuration; whose slot */
static ngx_int_t
ngx_http_llm_auth_keep(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_llm_deploy_t  *o;

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        llm_google_sa_free(d->sa);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_llm_auth_cleanup_sa;
    cln->data = d->sa;

    if (llm_oauth_fingerprint(d->sa, d->token_cred) != 0) {
        return NGX_ERROR;
    }

    /* the deployments before this one have their fingerprints */
    d->token_owner = d;

    for (o = lmcf->deploys.elts; o < d; o++) {
        if (o->sa && ngx_memcmp(o->token_cred, d->token_cred,
                                LLM_OAUTH_FINGERPRINT) == 0)
        {
            d->token_owner = o;
            break;
        }
    }

    return NGX_OK;
}


static void
ngx_http_llm_auth_cleanup_sa(void *data)
{
    llm_google_sa_free(data);
}


/* where the key's token_uri is: resolved now, like the providers */
static ngx_int_t
ngx_http_llm_auth_endpoint(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d)
{
    char        err[256];
    u_char     *p;
    ngx_url_t   u;
    llm_url_t   url;

    if (llm_url_parse(d->sa->token_uri, &url, err, sizeof(err)) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "llm_config: token_uri of model \"%s\": %s",
                           d->dep->model_name, err);
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, ngx_strlen(url.host) + ngx_strlen(url.path)
                              + sizeof("[]:65535") + 1);
    if (p == NULL) {
        llm_url_free(&url);
        return NGX_ERROR;
    }

    d->token_host.data = p;
    d->token_host.len = ngx_sprintf(p, "%s:%d", url.host, url.port) - p;
    d->token_path.data = d->token_host.data + d->token_host.len;
    d->token_path.len = ngx_sprintf(d->token_path.data, "%s",
                                    url.path[0] ? url.path : "/")
                        - d->token_path.data;
    d->token_tls = url.tls;
    d->token_port = (in_port_t) url.port;

    d->token_sni.len = ngx_strlen(url.host);
    d->token_sni.data = ngx_pstrdup(cf->pool, &(ngx_str_t) {
                                        d->token_sni.len,
                                        (u_char *) url.host });
    llm_url_free(&url);

    if (d->token_sni.data == NULL) {
        return NGX_ERROR;
    }

    d->token_ip_literal = ngx_inet_addr(d->token_sni.data, d->token_sni.len)
                          != INADDR_NONE
                          || ngx_strlchr(d->token_sni.data,
                                         d->token_sni.data + d->token_sni.len,
                                         ':')
                             != NULL;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = d->token_host;
    u.default_port = d->token_tls ? 443 : 80;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        /* with "resolver", the workers try again (ngx_http_llm_resolve.c) */
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "llm_config: could not resolve the token_uri "
                           "host \"%V\" of model \"%s\"; calls to it will "
                           "fail until it resolves", &d->token_host,
                           d->dep->model_name);
        return NGX_OK;
    }

    d->token_addr = &u.addrs[0];

    return NGX_OK;
}


/*
 * Before a try of a deployment with OAuth2 credentials: NGX_OK with the
 * token in the call, NGX_AGAIN when the request must wait for one
 * (ctx->auth_wait resumes it), NGX_ERROR with err filled.
 */
ngx_int_t
ngx_http_llm_auth(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_deploy_t *d, llm_error_t *err)
{
    u_char               *p;
    size_t                len;
    ngx_int_t             rc;
    ngx_uint_t            cred;
    ngx_http_llm_slot_t  *s;
    u_char                token[sizeof(s->token)];

    ctx->call.access_token = NULL;

    if (d->sa == NULL) {
        return NGX_OK;
    }

    s = ngx_http_llm_token_slot(ctx->lmcf, d);
    if (s == NULL) {
        llm_error_set(err, 500, "server_error", NULL, NULL,
                      "no room in llm_zone for model \"%s\"",
                      d->dep->model_name);
        return NGX_ERROR;
    }

    len = 0;

    ngx_shmtx_lock(&ctx->lmcf->shpool->mutex);

    cred = ngx_memcmp(s->token_cred, d->token_cred, LLM_OAUTH_FINGERPRINT)
           == 0;

    if (cred && s->token_len
        && s->token_expires > ngx_time())
    {
        len = s->token_len;
        ngx_memcpy(token, s->token, len);
        rc = NGX_OK;

    } else if (cred && s->token_error_until > (int64_t) ngx_current_msec) {
        llm_error_set(err, s->token_error_status, "authentication_error",
                      NULL, NULL, "%s: could not get an access token "
                      "for model \"%s\": %s", d->sa->provider,
                      d->dep->model_name,
                      s->token_error);
        rc = NGX_ERROR;

    } else if (d->token_addr == NULL) {
        /*
         * this worker has no address for the token endpoint (yet, with
         * "resolver"): nothing to wait for, and no back-off to share,
         * since another worker may have one
         */
        llm_error_set(err, 502, "server_error", NULL, NULL,
                      "%s: the token endpoint host \"%.*s\" of model \"%s\" "
                      "has not resolved yet", d->sa->provider,
                      (int) d->token_host.len, d->token_host.data,
                      d->dep->model_name);
        rc = NGX_ERROR;

    } else {
        rc = NGX_AGAIN;

        if (s->token_lease < (int64_t) ngx_current_msec) {
            s->token_lease = (int64_t) ngx_current_msec
                             + NGX_HTTP_LLM_TOKEN_LEASE;
            rc = NGX_DECLINED;
        }
    }

    ngx_shmtx_unlock(&ctx->lmcf->shpool->mutex);

    if (rc == NGX_DECLINED) {
        /* this worker holds the lease: it fetches, everyone waits */
        if (ngx_http_llm_auth_refresh(ctx->lmcf, d, r->connection->log)
            != NGX_OK)
        {
            llm_error_set(err, 502, "server_error", NULL, NULL,
                          "%s: could not request an access token for "
                          "model \"%s\"", d->sa->provider,
                          d->dep->model_name);

            /* no fetch started: the lease goes, the reason stays */
            ngx_shmtx_lock(&ctx->lmcf->shpool->mutex);
            s->token_lease = 0;
            ngx_http_llm_auth_keep_error(s, d, err);
            ngx_shmtx_unlock(&ctx->lmcf->shpool->mutex);

            return NGX_ERROR;
        }

        rc = NGX_AGAIN;
    }

    if (rc == NGX_OK) {
        p = ngx_pnalloc(r->pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, token, len);
        p[len] = '\0';
        ngx_explicit_memzero(token, len);

        ctx->call.access_token = (char *) p;

        return NGX_OK;
    }

    if (rc != NGX_AGAIN) {
        return rc;
    }

    if (ctx->auth_wait.handler == NULL) {
        ctx->auth_wait.handler = ngx_http_llm_auth_wait;
        ctx->auth_wait.data = r;
        ctx->auth_wait.log = r->connection->log;
        ctx->auth_deadline = ngx_current_msec + NGX_HTTP_LLM_TOKEN_WAIT;

        if (ngx_http_llm_add_cleanup(r->pool, ngx_http_llm_auth_wait_cleanup,
                                     &ctx->auth_wait)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_current_msec >= ctx->auth_deadline) {
        llm_error_set(err, 504, "server_error", "timeout", NULL,
                      "%s: timed out waiting for an access token for "
                      "model \"%s\"", d->sa->provider, d->dep->model_name);
        return NGX_ERROR;
    }

    ngx_add_timer(&ctx->auth_wait, NGX_HTTP_LLM_TOKEN_POLL);

    return NGX_AGAIN;
}


/*
 * A token, or the reason there is none (kept for the back-off, so that the
 * requests behind fail at once with it), in the credential's slot, with
 * the fingerprint of the credential it is of.  The caller holds the lock.
 */
static void
ngx_http_llm_auth_keep_token(ngx_http_llm_slot_t *s, ngx_http_llm_deploy_t *d,
    const char *token, long expires_in)
{
    s->token_len = ngx_strlen(token);
    ngx_memcpy(s->token, token, s->token_len);
    s->token_expires = ngx_http_llm_token_until(expires_in);
    s->token_error_until = 0;
    ngx_memcpy(s->token_cred, d->token_cred, LLM_OAUTH_FINGERPRINT);
}


static void
ngx_http_llm_auth_keep_error(ngx_http_llm_slot_t *s, ngx_http_llm_deploy_t *d,
    const llm_error_t *err)
{
    ngx_cpystrn(s->token_error, (u_char *) err->message,
                sizeof(s->token_error));
    s->token_error_status = err->status;
    s->token_error_until = (int64_t) ngx_current_msec
                           + NGX_HTTP_LLM_TOKEN_BACKOFF;
    ngx_memcpy(s->token_cred, d->token_cred, LLM_OAUTH_FINGERPRINT);
}


/* for a try that cannot wait (a retry): the token if there is one */
void
ngx_http_llm_auth_cached(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_deploy_t *d)
{
    llm_error_t  err;

    if (d->sa && ngx_http_llm_auth(r, ctx, d, &err) == NGX_AGAIN) {
        ngx_del_timer(&ctx->auth_wait);
    }
}


/* the token request: a form POST whose assertion is a credential */
static ngx_buf_t *
ngx_http_llm_auth_request(ngx_pool_t *pool, ngx_http_llm_deploy_t *d)
{
    ngx_buf_t  *b;
    llm_buf_t   body;

    ngx_memzero(&body, sizeof(llm_buf_t));

    if (llm_google_token_request(d->sa, ngx_time(), &body) != 0) {
        llm_buf_free(&body);
        return NULL;
    }

    b = ngx_create_temp_buf(pool, d->token_path.len + d->token_host.len
                                  + body.len + 256);

    if (b) {
        b->last = ngx_sprintf(b->last, "POST %V HTTP/1.1" CRLF
                              "Host: %V" CRLF
                              "Content-Type: "
                              "application/x-www-form-urlencoded" CRLF
                              "Content-Length: %uz" CRLF
                              "Connection: close" CRLF CRLF,
                              &d->token_path, &d->token_host, body.len);
        b->last = ngx_cpymem(b->last, body.data, body.len);
        b->flush = 1;
    }

    /* no copy of the assertion lingers in the heap */
    ngx_explicit_memzero(body.data, body.len);
    llm_buf_free(&body);

    return b;
}


static ngx_int_t
ngx_http_llm_auth_refresh(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d, ngx_log_t *log)
{
    ngx_buf_t                   *b;
    ngx_http_llm_fetch_t        *f;
    ngx_http_llm_token_fetch_t  *tf;

    /* d->token_addr is set: ngx_http_llm_auth() checked */

    f = ngx_http_llm_fetch_create(ngx_cycle->log);
    if (f == NULL) {
        return NGX_ERROR;
    }

    tf = ngx_palloc(f->pool, sizeof(ngx_http_llm_token_fetch_t));
    b = ngx_http_llm_auth_request(f->pool, d);

    if (tf == NULL || b == NULL) {
        ngx_destroy_pool(f->pool);
        return NGX_ERROR;
    }

    tf->lmcf = lmcf;
    tf->deploy = d;

    f->request = b;
    f->addr = d->token_addr;
    f->ssl_name = d->token_sni;
    f->tls = d->token_tls;
#if (NGX_HTTP_SSL)
    f->ssl = lmcf->ssl;
#endif
    f->timeout = NGX_HTTP_LLM_TOKEN_LEASE - 1000;
    f->handler = ngx_http_llm_auth_fetched;
    f->data = tf;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "llm: fetching an access token for model \"%s\" at %V",
                  d->dep->model_name, &d->token_host);

    ngx_http_llm_fetch_start(f);

    return NGX_OK;
}


static void
ngx_http_llm_auth_fetched(ngx_http_llm_fetch_t *f)
{
    ngx_http_llm_token_fetch_t *tf = f->data;

    long                   expires_in;
    char                   token[sizeof(((ngx_http_llm_slot_t *) 0)->token)];
    ngx_int_t              ok;
    llm_error_t            err;
    ngx_http_llm_slot_t   *s;

    s = ngx_http_llm_token_slot(tf->lmcf, tf->deploy);
    if (s == NULL) {
        return;
    }

    ok = 0;
    expires_in = 0;

    if (f->status == 0) {
        llm_error_set(&err, 502, "server_error", NULL, NULL, "%s", f->error);

    } else if (llm_oauth_token_response(tf->deploy->sa->provider,
                                        f->body.data, f->body.len, token,
                                        sizeof(token), &expires_in, &err)
               == 0)
    {
        ok = 1;
    }

    ngx_shmtx_lock(&tf->lmcf->shpool->mutex);

    s->token_lease = 0;

    if (ok) {
        ngx_http_llm_auth_keep_token(s, tf->deploy, token, expires_in);

    } else {
        ngx_http_llm_auth_keep_error(s, tf->deploy, &err);
    }

    ngx_shmtx_unlock(&tf->lmcf->shpool->mutex);

    ngx_explicit_memzero(token, sizeof(token));

    if (ok) {
        ngx_log_error(NGX_LOG_INFO, f->log, 0,
                      "llm: access token for model \"%s\" valid for %ls",
                      tf->deploy->dep->model_name, expires_in);

    } else {
        ngx_log_error(NGX_LOG_ERR, f->log, 0,
                      "llm: access token for model \"%s\" failed: %s",
                      tf->deploy->dep->model_name, err.message);
    }
}


/* a waiting request looks again */
static void
ngx_http_llm_auth_wait(ngx_event_t *ev)
{
    ngx_int_t            rc;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_http_llm_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);

    ngx_http_set_log_request(c->log, r);

    rc = ngx_http_llm_upstream_start(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_llm_auth_wait_cleanup(void *data)
{
    ngx_event_t  *ev = data;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }
}


/* the provider refused the token: nobody uses it again */
void
ngx_http_llm_auth_invalidate(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d)
{
    ngx_http_llm_slot_t  *s;

    s = ngx_http_llm_token_slot(lmcf, d);
    if (s == NULL) {
        return;
    }

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    ngx_explicit_memzero(s->token, s->token_len);
    s->token_len = 0;
    s->token_expires = 0;

    ngx_shmtx_unlock(&lmcf->shpool->mutex);
}


/*
 * A try that fetches the token itself, through the upstream: when the
 * provider refused a token mid-request, the request cannot wait on a
 * timer, but it can make one more try.
 */
ngx_int_t
ngx_http_llm_auth_try(ngx_peer_connection_t *pc, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_deploy_t *d)
{
    ngx_buf_t            *b;
    ngx_chain_t          *cl;
    ngx_sockaddr_t       *sa;
    ngx_http_request_t   *r;
    ngx_http_upstream_t  *u;

    r = ctx->request;
    u = r->upstream;

    ctx->need_token = 0;

    if (d->token_addr == NULL) {
        return NGX_BUSY;
    }

    b = ngx_http_llm_auth_request(r->pool, d);
    cl = ngx_alloc_chain_link(r->pool);

    /* a copy: a DNS refresh frees the deployment's while this try runs */
    sa = ngx_palloc(r->pool, sizeof(ngx_sockaddr_t));

    if (b == NULL || cl == NULL || sa == NULL) {
        return NGX_BUSY;
    }

    cl->buf = b;
    cl->next = NULL;
    u->request_bufs = cl;

    ngx_memcpy(sa, d->token_addr->sockaddr, d->token_addr->socklen);

    pc->sockaddr = &sa->sockaddr;
    pc->socklen = d->token_addr->socklen;
    pc->name = &d->token_host;
    pc->cached = 0;
    pc->connection = NULL;

#if (NGX_HTTP_SSL)
    u->ssl = d->token_tls;
    u->ssl_name = d->token_sni;
    u->conf->ssl_verify = d->token_ip_literal ? 0 : 1;
#endif

    ctx->token_phase = 1;
    ctx->try_start = ngx_current_msec;

    ngx_log_error(NGX_LOG_INFO, pc->log, 0,
                  "llm: fetching a new access token for model \"%s\" at %V",
                  d->dep->model_name, &d->token_host);

    return NGX_OK;
}


/* the token endpoint's answer, read like any response */
ngx_int_t
ngx_http_llm_auth_answer(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    long                   expires_in;
    llm_buf_t              out;
    ngx_int_t              rc;
    llm_error_t            err;
    ngx_http_llm_slot_t   *s;
    char                   token[sizeof(((ngx_http_llm_slot_t *) 0)->token)];

    ctx->token_phase = 0;
    ctx->rebuild = 1;

    s = ngx_http_llm_token_slot(ctx->lmcf, ctx->deploy);

    if (s
        && llm_oauth_token_response(ctx->deploy->sa->provider,
                                    (const char *) ctx->resp.data,
                                    ctx->resp.len, token, sizeof(token),
                                    &expires_in, &err)
           == 0)
    {
        ngx_shmtx_lock(&ctx->lmcf->shpool->mutex);
        ngx_http_llm_auth_keep_token(s, ctx->deploy, token, expires_in);
        ngx_shmtx_unlock(&ctx->lmcf->shpool->mutex);

        ngx_explicit_memzero(token, sizeof(token));

        /* the provider once more, with the new token */
        ctx->status_retry = 1;
        (void) ngx_http_llm_retry_same(r, ctx);

        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    if (s == NULL) {
        llm_error_set(&err, 500, "server_error", NULL, NULL,
                      "no room in llm_zone");
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "llm: model \"%V\": access token: %s", &ctx->group->name,
                  err.message);

    ngx_memzero(&out, sizeof(llm_buf_t));

    if (llm_error_json(&err, &out) != 0) {
        llm_buf_free(&out);
        return NGX_ERROR;
    }

    rc = ngx_http_llm_commit(r, ctx, err.status, (u_char *) out.data,
                             out.len);
    llm_buf_free(&out);

    return rc;
}
