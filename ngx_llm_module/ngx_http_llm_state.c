
/*
 * Copyright (C) ngx_llm authors
 *
 * What every worker knows of each deployment, in shared memory: requests
 * in flight, failures and cooldown, latency, this minute's usage.  Slots
 * are keyed by the deployment's id, which is stable across reloads, and
 * the zone itself is reused by a reload, so routing state survives one.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


#define NGX_HTTP_LLM_STATE_VERSION  1


static ngx_int_t ngx_http_llm_state_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


ngx_int_t
ngx_http_llm_state_add(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    ngx_str_t  name = ngx_string("ngx_llm_state");

    lmcf->zone = ngx_shared_memory_add(cf, &name, lmcf->zone_size,
                                       &ngx_http_llm_module);
    if (lmcf->zone == NULL) {
        return NGX_ERROR;
    }

    if (lmcf->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory \"%V\" is already used",
                           &name);
        return NGX_ERROR;
    }

    lmcf->zone->init = ngx_http_llm_state_init_zone;
    lmcf->zone->data = lmcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_state_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_llm_main_conf_t  *olmcf = data;

    size_t                     size;
    ngx_uint_t                 n;
    ngx_slab_pool_t           *shpool;
    ngx_http_llm_shctx_t      *sh;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (olmcf && olmcf->sh
        && olmcf->sh->version == NGX_HTTP_LLM_STATE_VERSION)
    {
        /* a reload: the old picture stays */
        lmcf->sh = olmcf->sh;
        lmcf->shpool = olmcf->shpool;
        return NGX_OK;
    }

    lmcf->shpool = shpool;

    if (shm_zone->shm.exists) {
        lmcf->sh = shpool->data;
        return NGX_OK;
    }

    /* the slab pool keeps some of the zone for itself */
    n = (shm_zone->shm.size - 8 * ngx_pagesize)
        / sizeof(ngx_http_llm_slot_t);

    if (n < 64) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "llm_zone \"%V\" is too small", &shm_zone->shm.name);
        return NGX_ERROR;
    }

    size = sizeof(ngx_http_llm_shctx_t) + n * sizeof(ngx_http_llm_slot_t);

    sh = ngx_slab_alloc(shpool, size);
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, size);

    sh->version = NGX_HTTP_LLM_STATE_VERSION;
    sh->nslots = n;

    shpool->data = sh;
    lmcf->sh = sh;

    size = sizeof(" in llm_zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = ngx_slab_alloc(shpool, size);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in llm_zone \"%V\"%Z",
                &shm_zone->shm.name);

    return NGX_OK;
}


/* the deployment's slot; looked up once per worker, then cached */
ngx_http_llm_slot_t *
ngx_http_llm_state_slot(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d)
{
    size_t                 len;
    uint32_t               hash;
    ngx_uint_t             i, n;
    ngx_http_llm_slot_t   *s;
    ngx_http_llm_shctx_t  *sh;

    if (d->slot) {
        return d->slot;
    }

    sh = lmcf->sh;
    s = NULL;
    len = ngx_min(ngx_strlen(d->dep->id), sizeof(s->id));
    hash = ngx_crc32_short((u_char *) d->dep->id, len);

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    for (n = 0; n < sh->nslots; n++) {
        i = (hash + n) % sh->nslots;
        s = &sh->slots[i];

        if (s->id_len == 0) {
            ngx_memcpy(s->id, d->dep->id, len);
            s->id_len = len;
            break;
        }

        if (s->id_len == len && ngx_memcmp(s->id, d->dep->id, len) == 0) {
            break;
        }
    }

    ngx_shmtx_unlock(&lmcf->shpool->mutex);

    if (n == sh->nslots) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "llm: no free slot for deployment \"%s\" in "
                      "llm_zone; increase its size", d->dep->id);
        return NULL;
    }

    d->slot = s;

    return s;
}


void
ngx_http_llm_state_candidate(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d, llm_route_cand_t *c)
{
    int64_t               minute;
    ngx_http_llm_slot_t  *s;

    ngx_memzero(c, sizeof(llm_route_cand_t));

    c->weight = d->dep->weight > 0 ? d->dep->weight
                : d->dep->rpm > 0 ? d->dep->rpm
                : d->dep->tpm > 0 ? d->dep->tpm : 1;
    c->order = d->dep->order;
    c->rpm_limit = d->dep->rpm;
    c->tpm_limit = d->dep->tpm;
    c->cost = d->cost;

    s = ngx_http_llm_state_slot(lmcf, d);
    if (s == NULL) {
        return;
    }

    minute = (int64_t) ngx_time() / 60;

    /* reads without the lock: a torn double only skews one decision */
    c->cooling = !lmcf->router.disable_cooldowns
                 && llm_health_cooling(&s->health,
                                       (int64_t) ngx_current_msec);
    c->inflight = (long) s->inflight;
    c->latency = s->ttft > 0 ? s->ttft : s->latency;

    if (s->minute == minute) {
        c->rpm_used = s->rpm;
        c->tpm_used = s->tpm;
    }
}


void
ngx_http_llm_state_start(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_slot_t *s)
{
    int64_t  minute;

    (void) ngx_atomic_fetch_add(&s->inflight, 1);

    minute = (int64_t) ngx_time() / 60;

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    if (s->minute != minute) {
        s->minute = minute;
        s->rpm = 0;
        s->tpm = 0;
    }

    s->rpm++;

    ngx_shmtx_unlock(&lmcf->shpool->mutex);
}


void
ngx_http_llm_state_done(ngx_http_llm_slot_t *s)
{
    (void) ngx_atomic_fetch_add(&s->inflight, -1);
}


/* returns 1 when the failure put the deployment in cooldown */
ngx_int_t
ngx_http_llm_state_fail(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_slot_t *s, ngx_msec_int_t retry_after_ms)
{
    ngx_int_t                cooled;
    llm_router_settings_t   *rs;

    rs = &lmcf->router;

    if (rs->disable_cooldowns) {
        return 0;
    }

    ngx_shmtx_lock(&lmcf->shpool->mutex);

    cooled = llm_health_fail(&s->health, (int64_t) ngx_current_msec,
                             rs->allowed_fails,
                             (int64_t) (rs->cooldown_time * 1000),
                             retry_after_ms);

    ngx_shmtx_unlock(&lmcf->shpool->mutex);

    return cooled;
}


void
ngx_http_llm_state_success(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_slot_t *s, ngx_msec_t latency, ngx_uint_t ttft,
    off_t tokens)
{
    ngx_shmtx_lock(&lmcf->shpool->mutex);

    if (ttft) {
        s->ttft = llm_ewma(s->ttft, (double) latency, 0.2);

    } else {
        s->latency = llm_ewma(s->latency, (double) latency, 0.2);
    }

    if (s->minute == (int64_t) ngx_time() / 60) {
        s->tpm += tokens;
    }

    ngx_shmtx_unlock(&lmcf->shpool->mutex);
}


/* a health probe's verdict: success ends a cooldown early */
void
ngx_http_llm_state_probe(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_slot_t *s, ngx_uint_t ok)
{
    ngx_shmtx_lock(&lmcf->shpool->mutex);

    if (ok) {
        llm_health_ok(&s->health, (int64_t) ngx_current_msec);
    }

    ngx_shmtx_unlock(&lmcf->shpool->mutex);
}


/* the earliest end of a cooldown among a group's deployments, in s */
time_t
ngx_http_llm_state_cooldown_left(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_group_t *g)
{
    int64_t                 left, min;
    ngx_uint_t              i;
    ngx_http_llm_slot_t    *s;
    ngx_http_llm_deploy_t  *d;

    d = lmcf->deploys.elts;
    min = -1;

    for (i = 0; i < g->ndeps; i++) {
        s = ngx_http_llm_state_slot(lmcf, &d[g->deps[i]]);
        if (s == NULL) {
            continue;
        }

        left = s->health.cooldown_until - (int64_t) ngx_current_msec;

        if (left > 0 && (min < 0 || left < min)) {
            min = left;
        }
    }

    return min < 0 ? 1 : (time_t) ((min + 999) / 1000);
}
