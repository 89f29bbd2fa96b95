/*
 * Copyright (C) ngx_llm authors
 *
 * Routing decisions, pure: which deployment of a model group to try in
 * which order (LiteLLM's routing strategies and `order` tiers), the
 * fallback chain between groups, and the cooldown arithmetic.  The
 * nginx glue feeds in the shared-memory picture and the clock.
 */

#ifndef _LLM_ROUTER_H_INCLUDED_
#define _LLM_ROUTER_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>


typedef enum {
    LLM_ROUTE_SIMPLE_SHUFFLE = 0,
    LLM_ROUTE_LEAST_BUSY,
    LLM_ROUTE_LATENCY,
    LLM_ROUTE_USAGE,
    LLM_ROUTE_COST
} llm_route_strategy_e;


/* one deployment of a group, as the router sees it now */
typedef struct {
    double      weight;         /* weight, else rpm, else tpm, else 1 */
    int         order;          /* 0: none, tried after every tier */
    int         cooling;        /* in cooldown: not a candidate */
    long        inflight;
    double      latency;        /* EWMA in ms; 0: not measured yet */
    double      rpm_used;       /* this minute */
    double      tpm_used;
    double      rpm_limit;      /* 0: none */
    double      tpm_limit;
    double      cost;           /* USD per token (input + output); 0 */
} llm_route_cand_t;


/* a uniform random number in [0, 1) */
typedef double (*llm_route_rand_pt)(void *data);


/* "simple-shuffle", ...; -1 for an unknown name */
int llm_route_strategy(const char *name);

/*
 * Fills out[] with the indexes of the candidates that are not cooling,
 * best first; returns how many.  explore is the share of calls on
 * which latency-based routing puts a random deployment first.
 */
size_t llm_route_order(llm_route_strategy_e strategy,
    const llm_route_cand_t *c, size_t n, size_t *out, double explore,
    llm_route_rand_pt rnd, void *rnd_data);


/*
 * Fallbacks: LiteLLM's list of one-key maps,
 *     fallbacks: [{"gpt-4o": ["claude-sonnet", "llama3"]}]
 * followed transitively (a fallback's own fallbacks come right after
 * it), each group once, at most max groups.
 */
typedef struct {
    char     *group;
    char    **to;
    size_t    nto;
} llm_fallback_t;

typedef struct {
    llm_fallback_t  *items;
    size_t           n;
    char           **dflt;       /* default_fallbacks */
    size_t           ndflt;
} llm_fallbacks_t;

/*
 * Parses a fallbacks list (NULL is an empty one).  A loop, or a group
 * not in known[] (NULL: not checked), fails with a message in err.
 */
int llm_fallbacks_parse(const cJSON *list, const cJSON *dflt,
    const char *const *known, size_t nknown, llm_fallbacks_t *fb,
    char *err, size_t errlen);
void llm_fallbacks_free(llm_fallbacks_t *fb);

/* the groups to fall back to from group, in order; returns how many */
size_t llm_fallbacks_chain(const llm_fallbacks_t *fb, const char *group,
    size_t max, const char **out);


/* cooldown and failure accounting of one deployment */
typedef struct {
    int64_t     cooldown_until;     /* ms */
    int64_t     window_start;       /* ms, the minute failures count in */
    uint32_t    fails;
} llm_health_t;

/*
 * A failure at now_ms: past allowed_fails in a minute, or at once when
 * the provider said how long to wait (retry_after_ms >= 0), the
 * deployment cools down.  Returns 1 if it does.
 */
int llm_health_fail(llm_health_t *h, int64_t now_ms, uint32_t allowed_fails,
    int64_t cooldown_ms, int64_t retry_after_ms);
void llm_health_ok(llm_health_t *h, int64_t now_ms);
int llm_health_cooling(const llm_health_t *h, int64_t now_ms);


/*
 * router_settings (and the litellm_settings LiteLLM also reads them
 * from), checked at load
 */
typedef struct {
    int                 strategy;           /* llm_route_strategy_e */
    int                 num_retries;
    double              timeout;            /* seconds, 0: not set */
    double              stream_timeout;
    unsigned            allowed_fails;
    double              cooldown_time;      /* seconds */
    int                 disable_cooldowns;
    size_t              max_fallbacks;
    llm_fallbacks_t     fallbacks;
    llm_fallbacks_t     context_fallbacks;
    llm_fallbacks_t     policy_fallbacks;
    cJSON              *aliases;            /* model_group_alias, owned */
} llm_router_settings_t;

#define LLM_ROUTER_DEFAULT_RETRIES      2
#define LLM_ROUTER_DEFAULT_FAILS        3
#define LLM_ROUTER_DEFAULT_COOLDOWN     5.0
#define LLM_ROUTER_DEFAULT_FALLBACKS    5

/* known[]: the model_names of the model list, for checking fallbacks */
int llm_router_settings_load(const cJSON *router, const cJSON *litellm,
    const char *const *known, size_t nknown, llm_router_settings_t *rs,
    char *err, size_t errlen);
void llm_router_settings_free(llm_router_settings_t *rs);

/* model_group_alias: the group an alias stands for, or NULL */
const char *llm_router_alias(const llm_router_settings_t *rs,
    const char *name, int *hidden);


/* exponentially weighted moving average; a first sample sets it */
double llm_ewma(double avg, double sample, double alpha);


#endif /* _LLM_ROUTER_H_INCLUDED_ */
