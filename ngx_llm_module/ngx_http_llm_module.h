
/*
 * Copyright (C) ngx_llm authors
 */


#ifndef _NGX_HTTP_LLM_MODULE_H_INCLUDED_
#define _NGX_HTTP_LLM_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "llm_adapter.h"
#include "llm_request_scan.h"
#include "llm_router.h"
#include "llm_google_auth.h"


#define NGX_HTTP_LLM_VERSION  "0.1.0"


/* one deployment's shared state, see ngx_http_llm_state.c */
typedef struct {
    u_char                         id[64];
    size_t                         id_len;
    ngx_atomic_t                   inflight;
    llm_health_t                   health;
    double                         latency;       /* EWMA, ms */
    double                         ttft;          /* EWMA, ms, streams */
    int64_t                        minute;        /* of rpm and tpm */
    double                         rpm;
    double                         tpm;

    /*
     * an OAuth2 access token (Vertex AI, Azure with Entra ID), see
     * ngx_http_llm_auth.c; Entra ID's are JWTs of 1-3 KB
     */
    int64_t                        token_lease;   /* ms: a fetch is on */
    time_t                         token_expires; /* then not used */
    int64_t                        token_error_until;
    int                            token_error_status;
    size_t                         token_len;
    u_char                         token[4096];
    u_char                         token_error[256];
    /* the credential the token (or error) is of: a reload may change it */
    u_char                         token_cred[LLM_OAUTH_FINGERPRINT];
} ngx_http_llm_slot_t;


typedef struct {
    ngx_flag_t                     ok;
    u_char                         error[256];
} ngx_http_llm_health_result_t;


typedef struct {
    ngx_uint_t                     pending;
    ngx_array_t                    probes;        /* ngx_http_llm_probe_t * */
    ngx_array_t                    deploys;       /* ngx_http_llm_deploy_t * */
    ngx_http_llm_health_result_t  *results;
} ngx_http_llm_health_t;


typedef struct {
    ngx_uint_t                     version;
    int64_t                        health_next;   /* ms: next probe round */
    ngx_uint_t                     nslots;
    ngx_http_llm_slot_t            slots[];
} ngx_http_llm_shctx_t;


/* the request headers every call sends, after Host (see request_buf) */
#define NGX_HTTP_LLM_FIXED_HEADERS                                           \
    "Content-Type: application/json" CRLF                                     \
    "Accept-Encoding: identity" CRLF                                          \
    "User-Agent: ngx_llm/" NGX_HTTP_LLM_VERSION CRLF


/* a deployment as the nginx side sees it: addresses, TLS name, host */
typedef struct ngx_http_llm_deploy_s {
    llm_deployment_t              *dep;
    ngx_addr_t                    *addrs;
    ngx_uint_t                     naddrs;
    ngx_uint_t                     next;          /* round robin, per worker */
    ngx_str_t                      name;          /* "host:port" for logs */
    ngx_str_t                      host;          /* Host header value */
    ngx_str_t                      fixed;         /* Host: ... User-Agent */
    ngx_str_t                      api_base;      /* scheme://name/path */
    ngx_str_t                      id;            /* dep->id */
    ngx_str_t                      model_name;    /* dep->model_name */
    ngx_str_t                      ssl_name;      /* SNI and verified name */
    ngx_uint_t                     weight;
    double                         cost;          /* USD per token */
    ngx_http_llm_slot_t           *slot;          /* per worker cache */

    llm_google_sa_t               *sa;            /* OAuth2 credential */
    u_char                         token_cred[LLM_OAUTH_FINGERPRINT];
    /* the first deployment with this credential: its slot holds the token */
    struct ngx_http_llm_deploy_s  *token_owner;
    ngx_addr_t                    *token_addr;
    ngx_str_t                      token_host;
    ngx_str_t                      token_path;
    ngx_str_t                      token_sni;
    ngx_uint_t                     token_tls;
    ngx_uint_t                     token_ip_literal;
    in_port_t                      token_port;

    unsigned                       tls:1;
    unsigned                       ip_literal:1;  /* host is an address */
    unsigned                       refresh:1;     /* re-resolved by workers */
    unsigned                       addrs_alloc:1; /* addrs is ngx_alloc()ed */
    unsigned                       token_addr_alloc:1;
#if (NGX_HTTP_SSL)
    ngx_ssl_session_t             *ssl_session;   /* per worker */
#endif
} ngx_http_llm_deploy_t;


/* the deployments sharing one model_name */
typedef struct {
    ngx_str_t                      name;
    ngx_uint_t                    *deps;          /* indexes into deploys */
    ngx_uint_t                     ndeps;
    ngx_uint_t                     total_weight;
} ngx_http_llm_group_t;


typedef struct ngx_http_llm_main_conf_s  ngx_http_llm_main_conf_t;
typedef struct ngx_http_llm_fetch_s      ngx_http_llm_fetch_t;
typedef struct ngx_http_llm_rhost_s      ngx_http_llm_rhost_t;

typedef void (*ngx_http_llm_fetch_pt)(ngx_http_llm_fetch_t *f);


/* one call of the gateway's own, see ngx_http_llm_fetch.c */
struct ngx_http_llm_fetch_s {
    ngx_pool_t                    *pool;          /* the fetch's own */
    ngx_log_t                     *log;

    ngx_addr_t                    *addr;
    ngx_str_t                      ssl_name;
#if (NGX_HTTP_SSL)
    ngx_ssl_t                     *ssl;
#endif
    ngx_buf_t                     *request;       /* all of it, in memory */
    ngx_msec_t                     timeout;       /* for the whole call */
    ngx_http_llm_fetch_pt          handler;
    void                          *data;

    /* the answer, valid in the handler */
    ngx_uint_t                     status;        /* 0: failed, see error */
    llm_buf_t                      body;
    char                           retry_after[32];
    u_char                         error[128];

    ngx_peer_connection_t          pc;
    ngx_event_t                    timer;
    ngx_event_t                    posted;
    llm_buf_t                      raw;

    unsigned                       tls:1;
    unsigned                       connected:1;
};

/* an idle upstream connection, keyed by address, TLS and SNI name */
typedef struct {
    ngx_queue_t                    queue;
    ngx_http_llm_main_conf_t      *lmcf;
    ngx_connection_t              *connection;
    socklen_t                      socklen;
    ngx_sockaddr_t                 sockaddr;
    ngx_uint_t                     tls;
    size_t                         sni_len;
    u_char                         sni[256];
} ngx_http_llm_keepalive_t;


struct ngx_http_llm_main_conf_s {
    ngx_str_t                      config_file;
    llm_config_t                  *cfg;

    ngx_array_t                    deploys;       /* ngx_http_llm_deploy_t */
    ngx_array_t                    groups;        /* ngx_http_llm_group_t */
    ngx_str_t                      models_json;   /* GET /v1/models */

    ngx_str_t                      trusted_certificate;
#if (NGX_HTTP_SSL)
    ngx_ssl_t                     *ssl;
#endif

    ngx_uint_t                     keepalive;
    ngx_msec_t                     keepalive_timeout;
    ngx_uint_t                     keepalive_requests;
    ngx_queue_t                    cache;         /* idle connections, MRU */
    ngx_queue_t                    free;

    ngx_http_upstream_srv_conf_t  *upstream;      /* our balancer */
    ngx_uint_t                     used;          /* some llm_pass exists */

    llm_router_settings_t          router;
    size_t                         zone_size;
    ngx_shm_zone_t                *zone;
    ngx_slab_pool_t               *shpool;
    ngx_http_llm_shctx_t          *sh;

    ngx_msec_t                     health_interval;
    ngx_event_t                    health_timer;
    ngx_http_llm_health_result_t   health_result;

    ngx_resolver_t                *resolver;      /* http{}'s, or NULL */
    ngx_msec_t                     resolver_timeout;
    ngx_msec_t                     resolver_refresh;
    ngx_http_llm_rhost_t          *rhosts;        /* per worker */
    ngx_uint_t                     nrhosts;
};


typedef struct {
    ngx_flag_t                     enable;
    ngx_http_upstream_conf_t       upstream;
    size_t                         max_response_size;
} ngx_http_llm_loc_conf_t;


typedef enum {
    NGX_HTTP_LLM_ROUTE_NONE = 0,
    NGX_HTTP_LLM_ROUTE_CHAT,
    NGX_HTTP_LLM_ROUTE_EMBEDDINGS,
    NGX_HTTP_LLM_ROUTE_MODELS,
    NGX_HTTP_LLM_ROUTE_LIVENESS,
    NGX_HTTP_LLM_ROUTE_READINESS,
    NGX_HTTP_LLM_ROUTE_HEALTH
} ngx_http_llm_route_e;


typedef enum {
    NGX_HTTP_LLM_RESP_STATUS = 0,
    NGX_HTTP_LLM_RESP_HEADERS,
    NGX_HTTP_LLM_RESP_BODY,
    NGX_HTTP_LLM_RESP_STREAM
} ngx_http_llm_resp_state_e;


#define NGX_HTTP_LLM_MAX_PLAN  32


/* one try: a deployment, and which group of the fallback chain it is in */
typedef struct {
    ngx_uint_t                     deploy;
    ngx_uint_t                     group;         /* 0: the one asked for */
} ngx_http_llm_try_t;


typedef struct {
    ngx_http_request_t            *request;
    ngx_http_llm_main_conf_t      *lmcf;
    ngx_http_llm_route_e           route;

    llm_call_t                     call;
    llm_call_lazy_t                lazy;          /* call.req parsed late */
    ngx_http_llm_group_t          *group;
    ngx_http_llm_deploy_t         *deploy;        /* the current try's */

    ngx_http_llm_try_t             plan[NGX_HTTP_LLM_MAX_PLAN];
    ngx_uint_t                     nplan;
    ngx_uint_t                     attempt;       /* index into plan */
    ngx_uint_t                     retries;       /* x-litellm-num-retries */
    ngx_msec_t                     timeout;       /* x-litellm-timeout */
    ngx_chain_t                   *prebuilt;      /* first try's request */
    ngx_msec_t                     try_start;
    ngx_http_llm_slot_t           *slot;          /* the current try's */

    /* the upstream response */
    ngx_http_llm_resp_state_e      state;
    ngx_http_status_t              status;
    ngx_http_chunked_t             chunked;
    off_t                          length;        /* -1: none given */
    llm_buf_t                      body;          /* when read in parts */
    ngx_str_t                      resp;          /* the whole body */
    llm_stream_t                  *stream;
    ngx_chain_t                   *out;           /* translated response */
    ngx_array_t                   *pass;          /* ngx_keyval_t to relay */
    ngx_uint_t                     pass_seen;     /* bits: names in pass */
    llm_usage_t                    usage;

    /* set when an error response belongs to us, see the error filter */
    llm_error_t                   *error;

    unsigned                       is_chunked:1;
    unsigned                       conn_close:1;
    unsigned                       body_done:1;
    unsigned                       error_set:1;   /* error holds the reason */
    unsigned                       replaced:1;    /* filter swapped a body */
    unsigned                       json_sent:1;   /* our own JSON went out */
    unsigned                       in_flight:1;   /* slot counts this try */
    unsigned                       status_retry:1; /* a try failed by status */
    unsigned                       need_token:1;  /* the next try fetches one */
    unsigned                       token_phase:1; /* this try fetches one */
    unsigned                       token_refreshed:1;
    unsigned                       rebuild:1;     /* the request is stale */
    unsigned                       replaced_sent:1;

    ngx_str_t                      replacement;   /* the filter's JSON */
    ngx_http_llm_health_t         *health;
    ngx_event_t                    auth_wait;     /* for an access token */
    ngx_msec_t                     auth_deadline;
} ngx_http_llm_ctx_t;


extern ngx_module_t  ngx_http_llm_module;


/* ngx_http_llm_config.c */
char *ngx_http_llm_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_llm_config_init(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
ngx_http_llm_group_t *ngx_http_llm_find_group(ngx_http_llm_main_conf_t *lmcf,
    const char *name);

/* ngx_http_llm_handler.c */
ngx_int_t ngx_http_llm_handler(ngx_http_request_t *r);
ngx_http_llm_ctx_t *ngx_http_llm_get_ctx(ngx_http_request_t *r);

/* ngx_http_llm_upstream.c */
ngx_int_t ngx_http_llm_upstream_start(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
ngx_chain_t *ngx_http_llm_build_request(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_deploy_t *d, llm_error_t *err);
ngx_buf_t *ngx_http_llm_request_buf(ngx_pool_t *pool,
    ngx_http_llm_deploy_t *d, llm_call_t *call, ngx_uint_t close,
    llm_error_t *err);

/* ngx_http_llm_response.c */
ngx_int_t ngx_http_llm_process_header(ngx_http_request_t *r);
ngx_int_t ngx_http_llm_fail_try(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, llm_error_t *err);
ngx_int_t ngx_http_llm_provider_headers(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_commit(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t status, u_char *data, size_t len);
ngx_int_t ngx_http_llm_content_type(ngx_http_request_t *r, const char *type);

/* ngx_http_llm_stream.c */
ngx_int_t ngx_http_llm_stream_gate(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_input_filter_init(void *data);
ngx_int_t ngx_http_llm_input_filter(void *data, ssize_t bytes);
void ngx_http_llm_finalize_stream(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_int_t rc);

/* ngx_http_llm_state.c */
ngx_int_t ngx_http_llm_state_add(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
ngx_http_llm_slot_t *ngx_http_llm_state_slot(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d);
void ngx_http_llm_state_candidate(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d, llm_route_cand_t *c);
void ngx_http_llm_state_start(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_slot_t *s);
void ngx_http_llm_state_done(ngx_http_llm_slot_t *s);
ngx_int_t ngx_http_llm_state_fail(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_slot_t *s, ngx_msec_int_t retry_after_ms);
void ngx_http_llm_state_success(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_slot_t *s, ngx_msec_t latency, ngx_uint_t ttft,
    off_t tokens);
void ngx_http_llm_state_probe(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_slot_t *s, ngx_uint_t ok);
time_t ngx_http_llm_state_cooldown_left(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_group_t *g);

/* ngx_http_llm_router.c */
ngx_int_t ngx_http_llm_router_init(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
ngx_int_t ngx_http_llm_plan(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    llm_error_t *err);
ngx_int_t ngx_http_llm_retry(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    const llm_error_t *err);
ngx_int_t ngx_http_llm_litellm_headers(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_retry_same(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);

/* ngx_http_llm_balancer.c */
ngx_int_t ngx_http_llm_init_balancer(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);

/* ngx_http_llm_keepalive.c */
ngx_int_t ngx_http_llm_keepalive_init(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
ngx_int_t ngx_http_llm_keepalive_get(ngx_http_llm_main_conf_t *lmcf,
    ngx_peer_connection_t *pc, ngx_http_llm_deploy_t *d);
void ngx_http_llm_keepalive_put(ngx_http_llm_main_conf_t *lmcf,
    ngx_peer_connection_t *pc, ngx_http_llm_deploy_t *d);

/* ngx_http_llm_auth.c */
ngx_int_t ngx_http_llm_auth_init(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
ngx_int_t ngx_http_llm_auth(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_deploy_t *d, llm_error_t *err);
void ngx_http_llm_auth_cached(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_deploy_t *d);
void ngx_http_llm_auth_invalidate(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d);
ngx_int_t ngx_http_llm_auth_try(ngx_peer_connection_t *pc,
    ngx_http_llm_ctx_t *ctx, ngx_http_llm_deploy_t *d);
ngx_int_t ngx_http_llm_auth_answer(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);

/* ngx_http_llm_health.c */
ngx_int_t ngx_http_llm_health_static(ngx_http_request_t *r, ngx_uint_t ready);
ngx_int_t ngx_http_llm_health(ngx_http_request_t *r);
ngx_int_t ngx_http_llm_health_init_process(ngx_cycle_t *cycle,
    ngx_http_llm_main_conf_t *lmcf);

/* ngx_http_llm_resolve.c */
ngx_int_t ngx_http_llm_resolve_conf(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
ngx_int_t ngx_http_llm_resolve_init_process(ngx_cycle_t *cycle,
    ngx_http_llm_main_conf_t *lmcf);

/* ngx_http_llm_fetch.c */
ngx_http_llm_fetch_t *ngx_http_llm_fetch_create(ngx_log_t *log);
void ngx_http_llm_fetch_start(ngx_http_llm_fetch_t *f);

/* ngx_http_llm_error.c */
ngx_int_t ngx_http_llm_send_error(ngx_http_request_t *r,
    const llm_error_t *err);
ngx_int_t ngx_http_llm_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len);
ngx_int_t ngx_http_llm_error_filter_init(ngx_conf_t *cf);

/* ngx_http_llm_util.c */
ngx_int_t ngx_http_llm_add_cleanup_json(ngx_pool_t *pool, cJSON *json);
ngx_int_t ngx_http_llm_add_cleanup_ctx(ngx_pool_t *pool,
    ngx_http_llm_ctx_t *ctx);
ngx_int_t ngx_http_llm_error_to_str(ngx_pool_t *pool, const llm_error_t *err,
    ngx_str_t *out);
u_char *ngx_http_llm_decimal(u_char *p, size_t n);
ngx_int_t ngx_http_llm_push_header(ngx_http_request_t *r, const char *key,
    size_t key_len, u_char *value, size_t len);
/* a header with a literal name */
#define ngx_http_llm_push(r, key, value, len)                                \
    ngx_http_llm_push_header(r, key, sizeof(key) - 1, value, len)
ngx_int_t ngx_http_llm_add_cleanup(ngx_pool_t *pool,
    ngx_pool_cleanup_pt handler, void *data);


#endif /* _NGX_HTTP_LLM_MODULE_H_INCLUDED_ */
