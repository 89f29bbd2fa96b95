/*
 * Copyright (C) ngx_llm authors
 *
 * The LiteLLM model file: a bare list of models (models.yaml) or a full
 * config.yaml (model_list, router_settings, litellm_settings,
 * general_settings, environment_variables).  Loaded once, in the nginx
 * master at configuration time; read-only afterwards.
 */

#ifndef _LLM_CONFIG_H_INCLUDED_
#define _LLM_CONFIG_H_INCLUDED_


#include <cjson/cJSON.h>


typedef enum {
    LLM_PROVIDER_UNKNOWN = 0,
    LLM_PROVIDER_OPENAI,        /* openai/, bare OpenAI names, any api_base */
    LLM_PROVIDER_AZURE,
    LLM_PROVIDER_ANTHROPIC,
    LLM_PROVIDER_OLLAMA,        /* ollama/ and ollama_chat/: both /api/chat */
    LLM_PROVIDER_MISTRAL,
    LLM_PROVIDER_GROQ,
    LLM_PROVIDER_COHERE,        /* cohere/ and cohere_chat/: both /v2/chat */
    LLM_PROVIDER_BEDROCK,
    LLM_PROVIDER_VERTEX,        /* vertex_ai/, alias vertexai/ */
    LLM_PROVIDER_MAX
} llm_provider_e;


/* a parsed base URL: scheme, host, port, path prefix */
typedef struct {
    int       tls;              /* https */
    char     *host;             /* name or literal, no brackets */
    int       port;
    char     *path;             /* prefix without trailing '/', may be "" */
} llm_url_t;


typedef struct {
    char            *model_name;    /* client-facing name (the group) */
    char            *model;         /* litellm_params.model as written */
    char            *prefix;        /* "openai", "anthropic", ... ("" bare) */
    char            *model_id;      /* provider model id after the prefix */
    llm_provider_e   provider;

    char            *id;            /* model_info.id, else a stable hash */
    char            *api_base;      /* resolved api_base, or NULL */
    llm_url_t        base;          /* api_base or the provider default */
    char            *api_key;       /* resolved secret, or NULL */
    char            *bearer;        /* "Bearer <api_key>", or NULL */
#define LLM_DEPLOYMENT_BEARER  1    /* for drivers that build older trees */
    char            *organization;  /* litellm_params.organization, or NULL */

    /*
     * the first os.environ/NAME of this entry that was not set; calls
     * to the model then fail with a 401 naming it
     */
    char            *missing_env;

    cJSON           *params;        /* litellm_params, secrets resolved */
    cJSON           *defaults;      /* request params merged under requests */
    cJSON           *model_info;    /* model_info, or NULL */

    int              drop_params;   /* -1: not set, use litellm_settings */
    int              weight;        /* 0: not set */
    int              order;         /* 0: not set */
    double           rpm;           /* 0: not set */
    double           tpm;
    double           timeout;       /* seconds, 0: not set */
    double           stream_timeout;
    int              num_retries;   /* -1: not set */
    int              mode_embedding; /* model_info.mode == "embedding" */

    int              line;          /* line of the entry in the file */
} llm_deployment_t;


typedef struct {
    char              *path;
    llm_deployment_t  *deps;
    size_t             ndeps;

    cJSON             *router_settings;     /* may be NULL */
    cJSON             *litellm_settings;    /* may be NULL */
    cJSON             *general_settings;    /* may be NULL */

    int                drop_params;         /* litellm_settings.drop_params */
} llm_config_t;


#define LLM_LOG_NOTICE  1
#define LLM_LOG_WARN    2

/* messages about the file that are not fatal (unknown keys, unset env) */
typedef void (*llm_config_log_pt)(void *data, int level, const char *msg);

/* looks up an environment variable; NULL means getenv() */
typedef const char *(*llm_config_getenv_pt)(const char *name);


/*
 * Returns NULL on a fatal error, with a message in err that names the
 * file and line ("models.yaml:12: entry has no model_name").
 */
llm_config_t *llm_config_load_file(const char *path,
    llm_config_getenv_pt getenv_fn, llm_config_log_pt log, void *log_data,
    char *err, size_t errlen);
llm_config_t *llm_config_load_buf(const char *buf, size_t len,
    const char *name, llm_config_getenv_pt getenv_fn, llm_config_log_pt log,
    void *log_data, char *err, size_t errlen);
void llm_config_free(llm_config_t *cf);

/* "openai" -> LLM_PROVIDER_OPENAI, NULL-safe; unknown -> _UNKNOWN */
llm_provider_e llm_provider_from_prefix(const char *prefix, size_t len);
const char *llm_provider_name(llm_provider_e p);

/* a string of litellm_params, secrets resolved; "" and non-strings: NULL */
const char *llm_deployment_str(const llm_deployment_t *dep, const char *key);

/* parses "https://host:port/path"; returns 0, or -1 with err filled */
int llm_url_parse(const char *url, llm_url_t *u, char *err, size_t errlen);
void llm_url_free(llm_url_t *u);


#endif /* _LLM_CONFIG_H_INCLUDED_ */
