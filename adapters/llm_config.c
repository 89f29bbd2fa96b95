/*
 * Copyright (C) ngx_llm authors
 *
 * The LiteLLM model file loader.  libyaml builds a document; each part
 * of it is turned into cJSON with PyYAML's idea of scalars, because
 * LiteLLM reads the same file with PyYAML and the two must agree on
 * what "60", "true" or "2024-10-21" mean.
 */


#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>
#include <openssl/evp.h>

#include "llm_buf.h"
#include "llm_config.h"


#define LLM_CONFIG_MAX_SIZE     (16 * 1024 * 1024)

/* deep enough for any real config, shallow enough to stop alias loops */
#define LLM_YAML_MAX_DEPTH      64

/* nodes that aliases may add on top of the document's own nodes */
#define LLM_YAML_ALIAS_NODES    100000

#define LLM_ENV_PREFIX          "os.environ/"
#define LLM_ENV_PREFIX_LEN      (sizeof(LLM_ENV_PREFIX) - 1)

#define LLM_ID_BYTES            8


typedef struct {
    const char            *name;
    const char            *buf;
    yaml_document_t       *doc;
    llm_config_t          *cf;
    cJSON                 *env;         /* environment_variables */
    llm_config_getenv_pt   getenv_fn;
    llm_config_log_pt      log;
    void                  *log_data;
    char                  *err;
    size_t                 errlen;
    size_t                 budget;      /* cJSON nodes left to build */
    int                    alias_noticed;
} llm_cf_ctx_t;


typedef struct {
    const char            *name;
    const char            *base;        /* NULL: computed or required */
    const char            *key_env;     /* LiteLLM's api_key fallback */
} llm_provider_info_t;


typedef struct {
    const char            *prefix;
    llm_provider_e         provider;
} llm_prefix_t;


typedef struct {
    const char            *key;
    size_t                 offset;
    int                    integer;
} llm_num_param_t;


static void llm_cf_error(llm_cf_ctx_t *ctx, size_t line, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
static void llm_cf_log(llm_cf_ctx_t *ctx, int level, size_t line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int llm_read_file(const char *path, llm_buf_t *b, char *err,
    size_t errlen);

static int llm_yaml_load(llm_cf_ctx_t *ctx, size_t len,
    yaml_document_t *doc);
static void llm_yaml_error(llm_cf_ctx_t *ctx, yaml_parser_t *parser);
static cJSON *llm_yaml_node(llm_cf_ctx_t *ctx, yaml_node_t *node, int depth,
    int raw);
static cJSON *llm_yaml_scalar(llm_cf_ctx_t *ctx, yaml_node_t *node, int raw);
static cJSON *llm_yaml_sequence(llm_cf_ctx_t *ctx, yaml_node_t *node,
    int depth, int raw);
static cJSON *llm_yaml_mapping(llm_cf_ctx_t *ctx, yaml_node_t *node,
    int depth, int raw);
static int llm_yaml_merge(llm_cf_ctx_t *ctx, cJSON *obj, yaml_node_t *node,
    int depth, int raw);
static int llm_yaml_merge_one(llm_cf_ctx_t *ctx, cJSON *obj,
    yaml_node_t *node, int depth, int raw);
static int llm_json_set(llm_cf_ctx_t *ctx, cJSON *obj, const char *key,
    cJSON *item);
static int llm_yaml_is_null(yaml_node_t *node);
static int llm_yaml_is_merge(yaml_node_t *node);
static int llm_yaml_null_str(const char *s);
static int llm_yaml_bool(const char *s);
static int llm_yaml_number(const char *s, double *num);
static yaml_node_pair_t *llm_yaml_pair(llm_cf_ctx_t *ctx, yaml_node_t *map,
    const char *key);
static yaml_node_t *llm_yaml_get(llm_cf_ctx_t *ctx, yaml_node_t *map,
    const char *key);
static size_t llm_yaml_line(yaml_node_t *node);
static size_t llm_yaml_key_line(llm_cf_ctx_t *ctx, yaml_node_t *map,
    const char *key, size_t dflt);

static int llm_config_root(llm_cf_ctx_t *ctx, yaml_node_t *root);
static int llm_config_mapping(llm_cf_ctx_t *ctx, yaml_node_t *root);
static int llm_config_drop_params(llm_cf_ctx_t *ctx, yaml_node_t *root);
static int llm_config_unknown_keys(llm_cf_ctx_t *ctx, yaml_node_t *root);
static int llm_config_section(llm_cf_ctx_t *ctx, yaml_node_t *root,
    const char *name, int raw, cJSON **out);
static int llm_config_models(llm_cf_ctx_t *ctx, yaml_node_t *list);

static int llm_env_resolve(llm_cf_ctx_t *ctx, cJSON *obj, yaml_node_t *node,
    const char *section, llm_deployment_t *d);
static int llm_env_item(llm_cf_ctx_t *ctx, cJSON *parent, cJSON *item,
    size_t line, const char *section, llm_deployment_t *d);
static int llm_env_missing(llm_cf_ctx_t *ctx, size_t line, const char *name,
    const char *section, llm_deployment_t *d);
static const char *llm_env_lookup(llm_cf_ctx_t *ctx, const char *name);

static int llm_deployment_init(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *node);
static int llm_deployment_entry(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *node);
static int llm_deployment_check(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    cJSON *name, yaml_node_t *node);
static int llm_deployment_model(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *node, yaml_node_t *pnode);
static int llm_deployment_prefix(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    size_t line);
static int llm_deployment_secrets(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode);
static int llm_deployment_cloud(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode);
static int llm_deployment_default(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode, const char *key, const char **envs,
    const char *settings_key, const char *dflt);
static int llm_deployment_base(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode);
static int llm_base_version(llm_deployment_t *d);
static const char *llm_default_base(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode, char *url, size_t len);
static int llm_deployment_numbers(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode);
static int llm_deployment_defaults(llm_cf_ctx_t *ctx, llm_deployment_t *d);
static int llm_deployment_id(llm_cf_ctx_t *ctx, llm_deployment_t *d);
static int llm_deployment_given_id(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    cJSON *id);
static int llm_deployment_hash(llm_deployment_t *d, int n, char *hex);
static llm_deployment_t *llm_deployment_by_id(llm_cf_ctx_t *ctx,
    llm_deployment_t *d, const char *id);
static void llm_deployment_free(llm_deployment_t *d);

static int llm_param_str(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode, const char *key, const char **out);
static int llm_param_set_str(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    const char *key, const char *value);
static int llm_param_unset(llm_deployment_t *d, const char *key);
static int llm_is_request_param(const char *key);
static int llm_json_number(cJSON *item, double *v);
static int llm_json_bool(cJSON *item);
static int llm_dns_label(const char *s);

static int llm_url_error(llm_url_t *u, char *err, size_t errlen,
    const char *msg);
static const char *llm_url_host(const char *auth, const char *end,
    llm_url_t *u, const char **host, size_t *len);
static int llm_url_chars(const char *p, size_t n, int ipv6);
static int llm_url_port(const char *p, size_t n);


static const llm_provider_info_t  llm_providers[LLM_PROVIDER_MAX] = {
    { "unknown", NULL, NULL },
    { "openai", "https://api.openai.com/v1", "OPENAI_API_KEY" },
    { "azure", NULL, "AZURE_API_KEY" },
    { "anthropic", "https://api.anthropic.com", "ANTHROPIC_API_KEY" },
    { "ollama", "http://localhost:11434", NULL },
    { "mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY" },
    { "groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY" },
    { "cohere", "https://api.cohere.com", "COHERE_API_KEY" },
    { "bedrock", NULL, "AWS_BEARER_TOKEN_BEDROCK" },
    { "vertex_ai", NULL, NULL }
};


static const llm_prefix_t  llm_prefixes[] = {
    { "openai", LLM_PROVIDER_OPENAI },
    { "azure", LLM_PROVIDER_AZURE },
    { "anthropic", LLM_PROVIDER_ANTHROPIC },
    { "ollama", LLM_PROVIDER_OLLAMA },
    { "ollama_chat", LLM_PROVIDER_OLLAMA },
    { "mistral", LLM_PROVIDER_MISTRAL },
    { "groq", LLM_PROVIDER_GROQ },
    { "cohere", LLM_PROVIDER_COHERE },
    { "cohere_chat", LLM_PROVIDER_COHERE },
    { "bedrock", LLM_PROVIDER_BEDROCK },
    { "vertex_ai", LLM_PROVIDER_VERTEX },
    { "vertexai", LLM_PROVIDER_VERTEX },
    { NULL, LLM_PROVIDER_UNKNOWN }
};


/* litellm_params that configure the gateway and are never sent upstream */
static const char  *llm_not_request_params[] = {
    "model", "api_key", "api_base", "api_version", "organization",
    "timeout", "stream_timeout", "max_retries", "num_retries", "rpm", "tpm",
    "weight", "order", "drop_params", "input_cost_per_token",
    "output_cost_per_token", "region_name", "custom_llm_provider",
    "use_in_pass_through", "merge_reasoning_content_in_choices", "tags",
    "litellm_credential_name", "api_type", "mock_response",
    "additional_drop_params", "allowed_openai_params",
    "configurable_clientside_auth_params", "model_info",

    /* routing, budget and pricing knobs of LiteLLM */
    "base_model", "max_budget", "budget_duration", "max_parallel_requests",
    "cache_read_input_token_cost", "cache_creation_input_token_cost",

    /* Entra ID credentials must never land in a request body */
    "tenant_id", "client_id", "client_secret",

    /* HTTP headers, not body fields: adapters read them from params */
    "extra_headers", "headers",
    NULL
};


static const char  *llm_not_request_prefixes[] = {
    "aws_", "vertex_", "azure_", "litellm_", "input_cost_per_",
    "output_cost_per_", NULL
};


static const llm_num_param_t  llm_num_params[] = {
    { "weight", offsetof(llm_deployment_t, weight), 1 },
    { "order", offsetof(llm_deployment_t, order), 1 },
    { "rpm", offsetof(llm_deployment_t, rpm), 0 },
    { "tpm", offsetof(llm_deployment_t, tpm), 0 },
    { "timeout", offsetof(llm_deployment_t, timeout), 0 },
    { "stream_timeout", offsetof(llm_deployment_t, stream_timeout), 0 },

    /* num_retries comes last so it wins over its alias */
    { "max_retries", offsetof(llm_deployment_t, num_retries), 1 },
    { "num_retries", offsetof(llm_deployment_t, num_retries), 1 },
    { NULL, 0, 0 }
};


llm_config_t *
llm_config_load_file(const char *path, llm_config_getenv_pt getenv_fn,
    llm_config_log_pt log, void *log_data, char *err, size_t errlen)
{
    llm_buf_t      b;
    llm_config_t  *cf;

    memset(&b, 0, sizeof(llm_buf_t));

    if (err == NULL) {
        errlen = 0;
    }

    if (llm_read_file(path, &b, err, errlen) != 0) {
        llm_buf_free(&b);
        return NULL;
    }

    cf = llm_config_load_buf(b.data ? b.data : "", b.len, path, getenv_fn,
                             log, log_data, err, errlen);

    llm_buf_free(&b);

    return cf;
}


static int
llm_read_file(const char *path, llm_buf_t *b, char *err, size_t errlen)
{
    FILE    *f;
    size_t   n;

    if (path == NULL) {
        snprintf(err, errlen, "no model file given");
        return -1;
    }

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }

    for ( ;; ) {
        if (llm_buf_reserve(b, 65536) != 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            break;
        }

        n = fread(b->data + b->len, 1, 65536, f);
        b->len += n;

        /* checked while reading: the file may be a pipe or still growing */
        if (b->len > LLM_CONFIG_MAX_SIZE) {
            snprintf(err, errlen, "%s: the file is larger than 16 MiB", path);
            break;
        }

        if (n == 65536) {
            continue;
        }

        if (ferror(f)) {
            snprintf(err, errlen, "%s: read error: %s", path,
                     strerror(errno));
            break;
        }

        fclose(f);
        return 0;
    }

    fclose(f);
    return -1;
}


llm_config_t *
llm_config_load_buf(const char *buf, size_t len, const char *name,
    llm_config_getenv_pt getenv_fn, llm_config_log_pt log, void *log_data,
    char *err, size_t errlen)
{
    int               rc;
    llm_cf_ctx_t      ctx;
    llm_config_t     *cf;
    yaml_document_t   doc;

    memset(&ctx, 0, sizeof(llm_cf_ctx_t));
    ctx.name = name ? name : "models.yaml";
    ctx.buf = buf ? buf : "";
    ctx.getenv_fn = getenv_fn;
    ctx.log = log;
    ctx.log_data = log_data;
    ctx.err = err;
    ctx.errlen = err ? errlen : 0;

    if (ctx.errlen) {
        err[0] = '\0';
    }

    if (len > LLM_CONFIG_MAX_SIZE) {
        llm_cf_error(&ctx, 0, "the file is larger than 16 MiB");
        return NULL;
    }

    cf = calloc(1, sizeof(llm_config_t));
    if (cf == NULL || (cf->path = strdup(ctx.name)) == NULL) {
        llm_cf_error(&ctx, 0, "out of memory");
        free(cf);
        return NULL;
    }

    ctx.cf = cf;

    if (llm_yaml_load(&ctx, len, &doc) != 0) {
        llm_config_free(cf);
        return NULL;
    }

    ctx.doc = &doc;
    ctx.budget = (size_t) (doc.nodes.top - doc.nodes.start)
                 + LLM_YAML_ALIAS_NODES;

    rc = llm_config_root(&ctx, yaml_document_get_root_node(&doc));

    yaml_document_delete(&doc);
    cJSON_Delete(ctx.env);

    if (rc != 0) {
        llm_config_free(cf);
        return NULL;
    }

    return cf;
}


void
llm_config_free(llm_config_t *cf)
{
    size_t  i;

    if (cf == NULL) {
        return;
    }

    for (i = 0; i < cf->ndeps; i++) {
        llm_deployment_free(&cf->deps[i]);
    }

    free(cf->deps);
    free(cf->path);
    cJSON_Delete(cf->router_settings);
    cJSON_Delete(cf->litellm_settings);
    cJSON_Delete(cf->general_settings);
    free(cf);
}


static void
llm_deployment_free(llm_deployment_t *d)
{
    free(d->model_name);
    free(d->model);
    free(d->prefix);
    free(d->model_id);
    free(d->id);
    free(d->api_base);
    free(d->api_key);
    free(d->bearer);
    free(d->organization);
    free(d->missing_env);
    llm_url_free(&d->base);
    cJSON_Delete(d->params);
    cJSON_Delete(d->defaults);
    cJSON_Delete(d->model_info);
}


static void
llm_cf_vformat(llm_cf_ctx_t *ctx, char *buf, size_t len, size_t line,
    const char *fmt, va_list ap)
{
    int  n;

    if (line) {
        n = snprintf(buf, len, "%s:%zu: ", ctx->name, line);

    } else {
        n = snprintf(buf, len, "%s: ", ctx->name);
    }

    /* a name longer than the buffer leaves no room: keep its head */
    if (n < 0 || (size_t) n >= len) {
        return;
    }

    vsnprintf(buf + n, len - n, fmt, ap);
}


static void
llm_cf_error(llm_cf_ctx_t *ctx, size_t line, const char *fmt, ...)
{
    va_list  ap;

    if (ctx->errlen == 0) {
        return;
    }

    va_start(ap, fmt);
    llm_cf_vformat(ctx, ctx->err, ctx->errlen, line, fmt, ap);
    va_end(ap);
}


static void
llm_cf_log(llm_cf_ctx_t *ctx, int level, size_t line, const char *fmt, ...)
{
    char     msg[1024];
    va_list  ap;

    if (ctx->log == NULL) {
        return;
    }

    va_start(ap, fmt);
    llm_cf_vformat(ctx, msg, sizeof(msg), line, fmt, ap);
    va_end(ap);

    ctx->log(ctx->log_data, level, msg);
}


static int
llm_yaml_load(llm_cf_ctx_t *ctx, size_t len, yaml_document_t *doc)
{
    int              rc;
    yaml_parser_t    parser;
    yaml_document_t  next;

    if (!yaml_parser_initialize(&parser)) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    yaml_parser_set_input_string(&parser, (const unsigned char *) ctx->buf,
                                 len);

    /* on failure libyaml has already freed the document */
    if (!yaml_parser_load(&parser, doc)) {
        llm_yaml_error(ctx, &parser);
        yaml_parser_delete(&parser);
        return -1;
    }

    rc = 0;

    /* PyYAML's safe_load refuses a second document; so do we */
    if (yaml_document_get_root_node(doc) != NULL) {
        if (!yaml_parser_load(&parser, &next)) {
            llm_yaml_error(ctx, &parser);
            rc = -1;

        } else {
            if (yaml_document_get_root_node(&next) != NULL) {
                llm_cf_error(ctx, next.start_mark.line + 1,
                             "more than one YAML document in the file");
                rc = -1;
            }

            yaml_document_delete(&next);
        }
    }

    yaml_parser_delete(&parser);

    if (rc != 0) {
        yaml_document_delete(doc);
    }

    return rc;
}


static void
llm_yaml_error(llm_cf_ctx_t *ctx, yaml_parser_t *parser)
{
    size_t       i, line;
    const char  *problem;

    problem = parser->problem ? parser->problem : "invalid YAML";

    switch (parser->error) {

    case YAML_MEMORY_ERROR:
        llm_cf_error(ctx, 0, "out of memory");
        return;

    case YAML_READER_ERROR:
        /* the reader knows only a byte offset: count the lines */
        line = 1;

        for (i = 0; i < parser->problem_offset && ctx->buf[i]; i++) {
            line += (ctx->buf[i] == '\n');
        }

        llm_cf_error(ctx, line, "%s", problem);
        return;

    default:
        break;
    }

    if (parser->context) {
        llm_cf_error(ctx, parser->problem_mark.line + 1, "%s (%s at line %zu)",
                     problem, parser->context,
                     parser->context_mark.line + 1);
        return;
    }

    llm_cf_error(ctx, parser->problem_mark.line + 1, "%s", problem);
}


/*
 * raw: plain scalars stay strings (environment_variables, whose values
 * are strings by nature); null stays null so that an empty value does
 * not shadow the real environment.
 */
static cJSON *
llm_yaml_node(llm_cf_ctx_t *ctx, yaml_node_t *node, int depth, int raw)
{
    if (node == NULL) {
        llm_cf_error(ctx, 0, "invalid YAML node");
        return NULL;
    }

    if (depth > LLM_YAML_MAX_DEPTH) {
        llm_cf_error(ctx, llm_yaml_line(node),
                     "nested deeper than %d levels (a recursive alias?)",
                     LLM_YAML_MAX_DEPTH);
        return NULL;
    }

    /* an alias is a reference: "billion laughs" must not eat the memory */
    if (ctx->budget == 0) {
        llm_cf_error(ctx, llm_yaml_line(node),
                     "aliases expand to too many nodes");
        return NULL;
    }

    ctx->budget--;

    switch (node->type) {

    case YAML_SCALAR_NODE:
        return llm_yaml_scalar(ctx, node, raw);

    case YAML_SEQUENCE_NODE:
        return llm_yaml_sequence(ctx, node, depth, raw);

    case YAML_MAPPING_NODE:
        return llm_yaml_mapping(ctx, node, depth, raw);

    default:
        llm_cf_error(ctx, llm_yaml_line(node), "empty YAML node");
        return NULL;
    }
}


/*
 * Only plain scalars are resolved; quoted ones are strings.  The
 * document API does not tell "!!str 5" from "5", so explicit tags are
 * not honoured.
 */
static cJSON *
llm_yaml_scalar(llm_cf_ctx_t *ctx, yaml_node_t *node, int raw)
{
    int          b;
    cJSON       *item;
    double       num;
    const char  *s;

    s = (const char *) node->data.scalar.value;

    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        item = cJSON_CreateString(s);

    } else if (llm_yaml_null_str(s)) {
        item = cJSON_CreateNull();

    } else if (raw) {
        item = cJSON_CreateString(s);

    } else if ((b = llm_yaml_bool(s)) != -1) {
        item = cJSON_CreateBool(b);

    } else if (llm_yaml_number(s, &num) == 0) {
        item = cJSON_CreateNumber(num);

    } else {
        item = cJSON_CreateString(s);
    }

    if (item == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
    }

    return item;
}


static cJSON *
llm_yaml_sequence(llm_cf_ctx_t *ctx, yaml_node_t *node, int depth, int raw)
{
    cJSON             *arr, *child;
    yaml_node_item_t  *it;

    arr = cJSON_CreateArray();
    if (arr == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return NULL;
    }

    for (it = node->data.sequence.items.start;
         it < node->data.sequence.items.top;
         it++)
    {
        child = llm_yaml_node(ctx, yaml_document_get_node(ctx->doc, *it),
                              depth + 1, raw);
        if (child == NULL) {
            goto failed;
        }

        if (!cJSON_AddItemToArray(arr, child)) {
            cJSON_Delete(child);
            llm_cf_error(ctx, 0, "out of memory");
            goto failed;
        }
    }

    return arr;

failed:

    cJSON_Delete(arr);
    return NULL;
}


static cJSON *
llm_yaml_mapping(llm_cf_ctx_t *ctx, yaml_node_t *node, int depth, int raw)
{
    cJSON             *obj, *val;
    yaml_node_t       *key;
    yaml_node_pair_t  *pair;

    obj = cJSON_CreateObject();
    if (obj == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return NULL;
    }

    for (pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top;
         pair++)
    {
        key = yaml_document_get_node(ctx->doc, pair->key);

        if (key == NULL || key->type != YAML_SCALAR_NODE) {
            llm_cf_error(ctx, llm_yaml_line(key ? key : node),
                         "a mapping key must be a scalar");
            goto failed;
        }

        /* merged after the explicit keys, which win wherever they are */
        if (llm_yaml_is_merge(key)) {
            continue;
        }

        val = llm_yaml_node(ctx, yaml_document_get_node(ctx->doc,
                                                        pair->value),
                            depth + 1, raw);
        if (val == NULL) {
            goto failed;
        }

        if (llm_json_set(ctx, obj, (const char *) key->data.scalar.value,
                         val)
            != 0)
        {
            goto failed;
        }
    }

    if (llm_yaml_merge(ctx, obj, node, depth, raw) != 0) {
        goto failed;
    }

    return obj;

failed:

    cJSON_Delete(obj);
    return NULL;
}


/*
 * YAML 1.1 merge keys ("<<: *defaults") are honoured by PyYAML and so
 * by LiteLLM.  Keys already set stay; of a list of merged mappings,
 * the earlier ones win.
 */
static int
llm_yaml_merge(llm_cf_ctx_t *ctx, cJSON *obj, yaml_node_t *node, int depth,
    int raw)
{
    yaml_node_t       *val;
    yaml_node_item_t  *it;
    yaml_node_pair_t  *pair;

    for (pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top;
         pair++)
    {
        if (!llm_yaml_is_merge(yaml_document_get_node(ctx->doc, pair->key))) {
            continue;
        }

        val = yaml_document_get_node(ctx->doc, pair->value);

        if (val != NULL && val->type == YAML_MAPPING_NODE) {
            if (llm_yaml_merge_one(ctx, obj, val, depth, raw) != 0) {
                return -1;
            }

            continue;
        }

        if (val == NULL || val->type != YAML_SEQUENCE_NODE) {
            llm_cf_error(ctx, llm_yaml_line(val ? val : node),
                         "a merge key needs a mapping or a list of them");
            return -1;
        }

        for (it = val->data.sequence.items.start;
             it < val->data.sequence.items.top;
             it++)
        {
            if (llm_yaml_merge_one(ctx, obj,
                                   yaml_document_get_node(ctx->doc, *it),
                                   depth, raw)
                != 0)
            {
                return -1;
            }
        }
    }

    return 0;
}


static int
llm_yaml_merge_one(llm_cf_ctx_t *ctx, cJSON *obj, yaml_node_t *node,
    int depth, int raw)
{
    cJSON  *src, *item, *next;

    if (node == NULL || node->type != YAML_MAPPING_NODE) {
        llm_cf_error(ctx, llm_yaml_line(node),
                     "a merge key needs a mapping or a list of them");
        return -1;
    }

    src = llm_yaml_node(ctx, node, depth + 1, raw);
    if (src == NULL) {
        return -1;
    }

    for (item = src->child; item; item = next) {
        next = item->next;

        if (cJSON_GetObjectItemCaseSensitive(obj, item->string) != NULL) {
            continue;
        }

        cJSON_DetachItemViaPointer(src, item);

        if (!cJSON_AddItemToObject(obj, item->string, item)) {
            cJSON_Delete(item);
            cJSON_Delete(src);
            llm_cf_error(ctx, 0, "out of memory");
            return -1;
        }
    }

    cJSON_Delete(src);

    return 0;
}


/* sets obj[key], taking item; a repeated key wins, as in PyYAML */
static int
llm_json_set(llm_cf_ctx_t *ctx, cJSON *obj, const char *key, cJSON *item)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL) {
        if (cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item)) {
            return 0;
        }

    } else if (cJSON_AddItemToObject(obj, key, item)) {
        return 0;
    }

    cJSON_Delete(item);
    llm_cf_error(ctx, 0, "out of memory");

    return -1;
}


static int
llm_yaml_is_null(yaml_node_t *node)
{
    return node != NULL
           && node->type == YAML_SCALAR_NODE
           && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
           && llm_yaml_null_str((const char *) node->data.scalar.value);
}


static int
llm_yaml_is_merge(yaml_node_t *node)
{
    return node != NULL
           && node->type == YAML_SCALAR_NODE
           && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
           && strcmp((const char *) node->data.scalar.value, "<<") == 0;
}


static int
llm_yaml_null_str(const char *s)
{
    return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0
           || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}


/* YAML 1.1 booleans, as PyYAML resolves them; -1 if not one */
static int
llm_yaml_bool(const char *s)
{
    size_t              i;
    static const char  *yes[] = { "true", "True", "TRUE", "yes", "Yes",
                                  "YES", "on", "On", "ON" };
    static const char  *no[] = { "false", "False", "FALSE", "no", "No",
                                 "NO", "off", "Off", "OFF" };

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(s, yes[i]) == 0) {
            return 1;
        }

        if (strcmp(s, no[i]) == 0) {
            return 0;
        }
    }

    return -1;
}


/*
 * Decimal integers and floats (with an optional exponent), and the '_'
 * digit separators PyYAML allows ("tpm: 1_000_000").  A leading zero
 * ("0123", an octal in YAML 1.1), hex, sexagesimal, .inf and .nan stay
 * strings: JSON cannot hold the last two, and keeping the text of the
 * rest loses nothing.
 */
static int
llm_yaml_number(const char *s, double *num)
{
    int          digits, dot, exp;
    char         buf[64], *end;
    size_t       n;
    const char  *p;

    n = 0;
    digits = 0;
    dot = 0;
    exp = 0;
    p = s;

    if (*p == '+' || *p == '-') {
        buf[n++] = *p++;
    }

    if (p[0] == '0' && isdigit((unsigned char) p[1])) {
        return -1;
    }

    for ( /* void */ ; *p; p++) {
        if (n >= sizeof(buf) - 2) {
            return -1;
        }

        if (isdigit((unsigned char) *p)) {
            digits++;
            buf[n++] = *p;

        } else if (*p == '_' && digits && !exp) {
            continue;

        } else if (*p == '.' && !dot && !exp) {
            dot = 1;
            buf[n++] = *p;

        } else if ((*p == 'e' || *p == 'E') && digits && !exp) {
            exp = 1;
            buf[n++] = *p;

            if (p[1] == '+' || p[1] == '-') {
                buf[n++] = *++p;
            }

            if (!isdigit((unsigned char) p[1])) {
                return -1;
            }

        } else {
            return -1;
        }
    }

    if (digits == 0) {
        return -1;
    }

    buf[n] = '\0';
    *num = strtod(buf, &end);

    return (*end == '\0' && isfinite(*num)) ? 0 : -1;
}


/* the last pair with this key: PyYAML lets a repeated key win */
static yaml_node_pair_t *
llm_yaml_pair(llm_cf_ctx_t *ctx, yaml_node_t *map, const char *key)
{
    yaml_node_t       *k;
    yaml_node_pair_t  *pair, *found;

    if (map == NULL || map->type != YAML_MAPPING_NODE) {
        return NULL;
    }

    found = NULL;

    for (pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top;
         pair++)
    {
        k = yaml_document_get_node(ctx->doc, pair->key);

        if (k != NULL && k->type == YAML_SCALAR_NODE
            && strcmp((const char *) k->data.scalar.value, key) == 0)
        {
            found = pair;
        }
    }

    return found;
}


static yaml_node_t *
llm_yaml_get(llm_cf_ctx_t *ctx, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t  *pair;

    pair = llm_yaml_pair(ctx, map, key);

    return pair ? yaml_document_get_node(ctx->doc, pair->value) : NULL;
}


static size_t
llm_yaml_line(yaml_node_t *node)
{
    return node ? node->start_mark.line + 1 : 0;
}


/*
 * The line of "key:" in map, else of map itself, else dflt: a key that
 * came in through a merge has no line of its own.
 */
static size_t
llm_yaml_key_line(llm_cf_ctx_t *ctx, yaml_node_t *map, const char *key,
    size_t dflt)
{
    yaml_node_pair_t  *pair;

    if (map == NULL) {
        return dflt;
    }

    pair = llm_yaml_pair(ctx, map, key);
    if (pair == NULL) {
        return llm_yaml_line(map);
    }

    return llm_yaml_line(yaml_document_get_node(ctx->doc, pair->key));
}


static int
llm_config_root(llm_cf_ctx_t *ctx, yaml_node_t *root)
{
    if (root == NULL) {
        llm_cf_error(ctx, 0, "the file is empty; expected a list of models "
                     "or a mapping with model_list");
        return -1;
    }

    if (root->type == YAML_SEQUENCE_NODE) {
        return llm_config_models(ctx, root);
    }

    if (root->type == YAML_MAPPING_NODE) {
        return llm_config_mapping(ctx, root);
    }

    llm_cf_error(ctx, llm_yaml_line(root),
                 "expected a list of models or a mapping with model_list");
    return -1;
}


static int
llm_config_mapping(llm_cf_ctx_t *ctx, yaml_node_t *root)
{
    yaml_node_t   *list;
    llm_config_t  *cf;

    cf = ctx->cf;

    if (llm_config_unknown_keys(ctx, root) != 0) {
        return -1;
    }

    if (llm_yaml_pair(ctx, root, "model_list") == NULL) {
        llm_cf_error(ctx, llm_yaml_line(root), "the file has no model_list");
        return -1;
    }

    /* environment_variables first: the other sections refer to them */
    if (llm_config_section(ctx, root, "environment_variables", 1, &ctx->env)
        != 0
        || llm_config_section(ctx, root, "litellm_settings", 0,
                              &cf->litellm_settings)
           != 0
        || llm_config_section(ctx, root, "router_settings", 0,
                              &cf->router_settings)
           != 0
        || llm_config_section(ctx, root, "general_settings", 0,
                              &cf->general_settings)
           != 0)
    {
        return -1;
    }

    if (llm_config_drop_params(ctx, root) != 0) {
        return -1;
    }

    list = llm_yaml_get(ctx, root, "model_list");

    if (llm_yaml_is_null(list)) {
        llm_cf_log(ctx, LLM_LOG_NOTICE, llm_yaml_line(list),
                   "the model list is empty");
        return 0;
    }

    if (list->type != YAML_SEQUENCE_NODE) {
        llm_cf_error(ctx, llm_yaml_line(list), "model_list must be a list");
        return -1;
    }

    return llm_config_models(ctx, list);
}


static int
llm_config_drop_params(llm_cf_ctx_t *ctx, yaml_node_t *root)
{
    int           v;
    yaml_node_t  *node;

    v = llm_json_bool(cJSON_GetObjectItemCaseSensitive(
                          ctx->cf->litellm_settings, "drop_params"));

    if (v == -1) {
        node = llm_yaml_get(ctx, root, "litellm_settings");
        llm_cf_error(ctx, llm_yaml_key_line(ctx, node, "drop_params", 0),
                     "litellm_settings.drop_params must be true or false");
        return -1;
    }

    ctx->cf->drop_params = (v == 1);

    return 0;
}


static int
llm_config_unknown_keys(llm_cf_ctx_t *ctx, yaml_node_t *root)
{
    size_t              i;
    llm_buf_t           b;
    const char         *s;
    yaml_node_t        *key;
    yaml_node_pair_t   *pair;
    static const char  *known[] = { "model_list", "router_settings",
                                    "litellm_settings", "general_settings",
                                    "environment_variables" };

    memset(&b, 0, sizeof(llm_buf_t));

    for (pair = root->data.mapping.pairs.start;
         pair < root->data.mapping.pairs.top;
         pair++)
    {
        key = yaml_document_get_node(ctx->doc, pair->key);

        if (key == NULL || key->type != YAML_SCALAR_NODE) {
            llm_cf_error(ctx, llm_yaml_line(key ? key : root),
                         "a mapping key must be a scalar");
            llm_buf_free(&b);
            return -1;
        }

        s = (const char *) key->data.scalar.value;

        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (strcmp(s, known[i]) == 0) {
                break;
            }
        }

        if (i < sizeof(known) / sizeof(known[0])) {
            continue;
        }

        if (llm_buf_appends(&b, b.len ? ", " : "") != 0
            || llm_buf_appends(&b, s) != 0)
        {
            llm_cf_error(ctx, 0, "out of memory");
            llm_buf_free(&b);
            return -1;
        }
    }

    /* one notice for all: LiteLLM files often carry keys for other tools */
    if (b.len) {
        llm_cf_log(ctx, LLM_LOG_NOTICE, 0,
                   "ignoring unknown top-level keys: %s", b.data);
    }

    llm_buf_free(&b);

    return 0;
}


static int
llm_config_section(llm_cf_ctx_t *ctx, yaml_node_t *root, const char *name,
    int raw, cJSON **out)
{
    yaml_node_t  *node;

    node = llm_yaml_get(ctx, root, name);

    if (node == NULL || llm_yaml_is_null(node)) {
        return 0;
    }

    if (node->type != YAML_MAPPING_NODE) {
        llm_cf_error(ctx, llm_yaml_key_line(ctx, root, name, 0),
                     "%s must be a mapping", name);
        return -1;
    }

    *out = llm_yaml_node(ctx, node, 1, raw);
    if (*out == NULL) {
        return -1;
    }

    /* LiteLLM resolves os.environ/ anywhere in the file, not only models */
    return raw ? 0 : llm_env_resolve(ctx, *out, node, name, NULL);
}


static int
llm_config_models(llm_cf_ctx_t *ctx, yaml_node_t *list)
{
    size_t         i, n;
    llm_config_t  *cf;

    cf = ctx->cf;
    n = list->data.sequence.items.top - list->data.sequence.items.start;

    if (n == 0) {
        llm_cf_log(ctx, LLM_LOG_NOTICE, llm_yaml_line(list),
                   "the model list is empty");
        return 0;
    }

    cf->deps = calloc(n, sizeof(llm_deployment_t));
    if (cf->deps == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    for (i = 0; i < n; i++) {
        /* counted first, so that a half-built entry is freed too */
        cf->ndeps = i + 1;

        if (llm_deployment_init(ctx, &cf->deps[i],
                                yaml_document_get_node(ctx->doc,
                                    list->data.sequence.items.start[i]))
            != 0)
        {
            return -1;
        }
    }

    return 0;
}


/*
 * Resolves every os.environ/NAME below obj.  node is the YAML mapping
 * obj came from; warnings point at the line of the top-level key.
 */
static int
llm_env_resolve(llm_cf_ctx_t *ctx, cJSON *obj, yaml_node_t *node,
    const char *section, llm_deployment_t *d)
{
    cJSON   *item, *next;
    size_t   line;

    for (item = obj->child; item; item = next) {
        next = item->next;
        line = llm_yaml_key_line(ctx, node, item->string, d ? d->line : 0);

        if (llm_env_item(ctx, obj, item, line, section, d) != 0) {
            return -1;
        }
    }

    return 0;
}


/*
 * An unset variable becomes null, as LiteLLM's get_secret() gives None:
 * the key stays visible as "configured but unset", so that no default
 * (a default base URL, say) quietly takes its place.
 */
static int
llm_env_item(llm_cf_ctx_t *ctx, cJSON *parent, cJSON *item, size_t line,
    const char *section, llm_deployment_t *d)
{
    cJSON       *child, *next, *repl;
    const char  *name, *value;

    if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
        for (child = item->child; child; child = next) {
            next = child->next;

            if (llm_env_item(ctx, item, child, line, section, d) != 0) {
                return -1;
            }
        }

        return 0;
    }

    if (!cJSON_IsString(item)
        || strncmp(item->valuestring, LLM_ENV_PREFIX, LLM_ENV_PREFIX_LEN)
           != 0)
    {
        return 0;
    }

    name = item->valuestring + LLM_ENV_PREFIX_LEN;
    value = llm_env_lookup(ctx, name);

    if (value == NULL && llm_env_missing(ctx, line, name, section, d) != 0) {
        return -1;
    }

    repl = value ? cJSON_CreateString(value) : cJSON_CreateNull();
    if (repl == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    /* ReplaceItemViaPointer frees the old key: hand it over instead */
    repl->string = item->string;
    item->string = NULL;

    cJSON_ReplaceItemViaPointer(parent, item, repl);

    return 0;
}


static int
llm_env_missing(llm_cf_ctx_t *ctx, size_t line, const char *name,
    const char *section, llm_deployment_t *d)
{
    if (d == NULL) {
        llm_cf_log(ctx, LLM_LOG_WARN, line,
                   "environment variable %s for %s is not set",
                   name, section);
        return 0;
    }

    llm_cf_log(ctx, LLM_LOG_WARN, line,
               "environment variable %s for model \"%s\" is not set; "
               "calls to it will fail", name, d->model_name);

    if (d->missing_env == NULL) {
        d->missing_env = strdup(name);

        if (d->missing_env == NULL) {
            llm_cf_error(ctx, 0, "out of memory");
            return -1;
        }
    }

    return 0;
}


/* LiteLLM puts environment_variables into the environment, overriding */
static const char *
llm_env_lookup(llm_cf_ctx_t *ctx, const char *name)
{
    cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(ctx->env, name);

    if (cJSON_IsString(v)) {
        return v->valuestring;
    }

    return ctx->getenv_fn ? ctx->getenv_fn(name) : getenv(name);
}


static int
llm_deployment_init(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *node)
{
    yaml_node_t  *pnode;

    d->drop_params = -1;
    d->num_retries = -1;
    d->line = (int) llm_yaml_line(node);

    if (node == NULL || node->type != YAML_MAPPING_NODE) {
        llm_cf_error(ctx, d->line, "a model entry must be a mapping");
        return -1;
    }

    /* NULL when litellm_params came in through a merge key */
    pnode = llm_yaml_get(ctx, node, "litellm_params");

    /* os.environ/ first: LiteLLM resolves even the model that way */
    if (llm_deployment_entry(ctx, d, node) != 0
        || llm_env_resolve(ctx, d->params, pnode, NULL, d) != 0
        || llm_deployment_model(ctx, d, node, pnode) != 0
        || llm_deployment_secrets(ctx, d, pnode) != 0
        || llm_deployment_cloud(ctx, d, pnode) != 0
        || llm_deployment_base(ctx, d, pnode) != 0
        || llm_deployment_numbers(ctx, d, pnode) != 0
        || llm_deployment_defaults(ctx, d) != 0
        || llm_deployment_id(ctx, d) != 0)
    {
        return -1;
    }

    return 0;
}


static int
llm_deployment_entry(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *node)
{
    int     rc;
    cJSON  *entry, *info;

    entry = llm_yaml_node(ctx, node, 1, 0);
    if (entry == NULL) {
        return -1;
    }

    d->params = cJSON_DetachItemFromObjectCaseSensitive(entry,
                                                        "litellm_params");

    info = cJSON_DetachItemFromObjectCaseSensitive(entry, "model_info");

    if (cJSON_IsNull(info)) {
        cJSON_Delete(info);
        info = NULL;
    }

    d->model_info = info;

    rc = llm_deployment_check(ctx, d,
                              cJSON_GetObjectItemCaseSensitive(entry,
                                                               "model_name"),
                              node);

    cJSON_Delete(entry);

    return rc;
}


static int
llm_deployment_check(llm_cf_ctx_t *ctx, llm_deployment_t *d, cJSON *name,
    yaml_node_t *node)
{
    cJSON   *mode;
    size_t   line;

    line = llm_yaml_key_line(ctx, node, "model_name", d->line);

    if (name == NULL || cJSON_IsNull(name)) {
        llm_cf_error(ctx, d->line, "model entry has no model_name");
        return -1;
    }

    if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
        llm_cf_error(ctx, line, "model_name must be a non-empty string");
        return -1;
    }

    d->model_name = strdup(name->valuestring);
    if (d->model_name == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    line = llm_yaml_key_line(ctx, node, "litellm_params", d->line);

    if (d->params == NULL || cJSON_IsNull(d->params)) {
        llm_cf_error(ctx, line, "model \"%s\" has no litellm_params",
                     d->model_name);
        return -1;
    }

    if (!cJSON_IsObject(d->params)) {
        llm_cf_error(ctx, line, "litellm_params of model \"%s\" must be "
                     "a mapping", d->model_name);
        return -1;
    }

    if (d->model_info != NULL && !cJSON_IsObject(d->model_info)) {
        llm_cf_error(ctx, llm_yaml_key_line(ctx, node, "model_info", d->line),
                     "model_info of model \"%s\" must be a mapping",
                     d->model_name);
        return -1;
    }

    mode = cJSON_GetObjectItemCaseSensitive(d->model_info, "mode");
    d->mode_embedding = cJSON_IsString(mode)
                        && strcmp(mode->valuestring, "embedding") == 0;

    return 0;
}


static int
llm_deployment_model(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *node, yaml_node_t *pnode)
{
    cJSON   *model;
    size_t   line;

    line = llm_yaml_key_line(ctx, pnode, "model", d->line);
    model = cJSON_GetObjectItemCaseSensitive(d->params, "model");

    if (model == NULL || cJSON_IsNull(model)) {
        llm_cf_error(ctx, llm_yaml_key_line(ctx, node, "litellm_params",
                                            d->line),
                     "model \"%s\" has no litellm_params.model",
                     d->model_name);
        return -1;
    }

    if (!cJSON_IsString(model) || model->valuestring[0] == '\0') {
        llm_cf_error(ctx, line, "litellm_params.model of model \"%s\" must "
                     "be a non-empty string", d->model_name);
        return -1;
    }

    d->model = strdup(model->valuestring);
    if (d->model == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    return llm_deployment_prefix(ctx, d, line);
}


static int
llm_deployment_prefix(llm_cf_ctx_t *ctx, llm_deployment_t *d, size_t line)
{
    size_t       n;
    const char  *slash;

    slash = strchr(d->model, '/');

    /* "gpt-4o": LiteLLM's bare names that the gateway sends to OpenAI */
    n = slash ? (size_t) (slash - d->model) : 0;
    d->provider = slash ? llm_provider_from_prefix(d->model, n)
                        : LLM_PROVIDER_OPENAI;

    if (d->provider == LLM_PROVIDER_UNKNOWN) {
        llm_cf_error(ctx, line, "unknown provider prefix \"%.*s\" in model "
                     "\"%s\"", (int) n, d->model, d->model);
        return -1;
    }

    if (slash && slash[1] == '\0') {
        llm_cf_error(ctx, line, "model \"%s\" has nothing after the prefix",
                     d->model);
        return -1;
    }

    d->prefix = strndup(d->model, n);
    d->model_id = strdup(slash ? slash + 1 : d->model);

    if (d->prefix == NULL || d->model_id == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    if (strcmp(d->prefix, "vertexai") == 0 && !ctx->alias_noticed) {
        ctx->alias_noticed = 1;
        llm_cf_log(ctx, LLM_LOG_NOTICE, line, "\"vertexai/\" is read as "
                   "LiteLLM's \"vertex_ai/\"; prefer the latter");
    }

    return 0;
}


static int
llm_deployment_secrets(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode)
{
    const char   *key, *base, *env;
    const cJSON  *org;

    if (llm_param_str(ctx, d, pnode, "api_key", &key) != 0
        || llm_param_str(ctx, d, pnode, "api_base", &base) != 0)
    {
        return -1;
    }

    env = llm_providers[d->provider].key_env;

    /*
     * no api_key at all: LiteLLM falls back to the provider's usual
     * variable (OPENAI_API_KEY, ...); an unset os.environ/ is not "no
     * api_key", it is reported through missing_env instead
     */
    if (key == NULL && env != NULL
        && cJSON_GetObjectItemCaseSensitive(d->params, "api_key") == NULL)
    {
        key = llm_env_lookup(ctx, env);
    }

    if (key != NULL && (d->api_key = strdup(key)) == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    /* the Authorization value of the providers that take a Bearer key */
    if (key != NULL && key[0] != '\0') {
        d->bearer = malloc(sizeof("Bearer ") + strlen(key));
        if (d->bearer == NULL) {
            llm_cf_error(ctx, 0, "out of memory");
            return -1;
        }

        strcpy(d->bearer, "Bearer ");
        strcat(d->bearer, key);
    }

    /* OpenAI's OpenAI-Organization header, read once rather than per call */
    org = cJSON_GetObjectItemCaseSensitive(d->params, "organization");

    if (cJSON_IsString(org) && org->valuestring[0] != '\0'
        && (d->organization = strdup(org->valuestring)) == NULL)
    {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    if (base != NULL && (d->api_base = strdup(base)) == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    return 0;
}


/*
 * Bedrock and Vertex take their region from several places.  The one
 * chosen is written back into params, so that the adapters (SigV4, the
 * Vertex URL path) use the very region the host name was built from.
 */
static int
llm_deployment_cloud(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode)
{
    cJSON              *item;
    const char         *key;
    static const char  *region_env[] = { "AWS_REGION_NAME", "AWS_REGION",
                                         NULL };
    static const char  *location_env[] = { "VERTEXAI_LOCATION",
                                           "VERTEX_LOCATION", NULL };
    static const char  *project_env[] = { "VERTEXAI_PROJECT",
                                          "VERTEX_PROJECT", NULL };
    static const char  *akid_env[] = { "AWS_ACCESS_KEY_ID", NULL };
    static const char  *secret_env[] = { "AWS_SECRET_ACCESS_KEY", NULL };
    static const char  *token_env[] = { "AWS_SESSION_TOKEN", NULL };

    if (d->provider == LLM_PROVIDER_BEDROCK) {
        key = "aws_region_name";

        /* the standard AWS_* variables, as LiteLLM (boto3) reads them */
        if (llm_deployment_default(ctx, d, pnode, key, region_env, NULL,
                                   "us-east-1")
            != 0
            || llm_deployment_default(ctx, d, pnode, "aws_access_key_id",
                                      akid_env, NULL, NULL) != 0
            || llm_deployment_default(ctx, d, pnode,
                                      "aws_secret_access_key", secret_env,
                                      NULL, NULL) != 0
            || llm_deployment_default(ctx, d, pnode, "aws_session_token",
                                      token_env, NULL, NULL) != 0)
        {
            return -1;
        }

    } else if (d->provider == LLM_PROVIDER_VERTEX) {
        key = "vertex_location";

        if (llm_deployment_default(ctx, d, pnode, key, location_env, key,
                                   "us-central1")
            != 0
            || llm_deployment_default(ctx, d, pnode, "vertex_project",
                                      project_env, "vertex_project", NULL)
               != 0)
        {
            return -1;
        }

    } else {
        return 0;
    }

    /* the region becomes part of a host name */
    item = cJSON_GetObjectItemCaseSensitive(d->params, key);

    if (!llm_dns_label(item->valuestring)) {
        llm_cf_error(ctx, llm_yaml_key_line(ctx, pnode, key, d->line),
                     "invalid %s \"%s\" for model \"%s\"", key,
                     item->valuestring, d->model_name);
        return -1;
    }

    return 0;
}


/* params[key], else litellm_settings[settings_key], else envs, else dflt */
static int
llm_deployment_default(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode, const char *key, const char **envs,
    const char *settings_key, const char *dflt)
{
    cJSON       *item;
    const char  *value;

    if (llm_param_str(ctx, d, pnode, key, &value) != 0) {
        return -1;
    }

    if (value == NULL && settings_key != NULL) {
        item = cJSON_GetObjectItemCaseSensitive(ctx->cf->litellm_settings,
                                                settings_key);
        value = cJSON_IsString(item) ? item->valuestring : NULL;
    }

    for ( /* void */ ; value == NULL && *envs; envs++) {
        value = llm_env_lookup(ctx, *envs);
    }

    if (value == NULL) {
        value = dflt;
    }

    if (value == NULL
        || cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d->params, key)))
    {
        return 0;
    }

    return llm_param_set_str(ctx, d, key, value);
}


static int
llm_deployment_base(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode)
{
    char         url[256], msg[128];
    size_t       line;
    const char  *key, *src;

    key = "api_base";
    src = d->api_base;

    /*
     * an api_base from an unset variable leaves no base at all rather
     * than the provider's default: calls fail on missing_env first
     */
    if (src == NULL && llm_param_unset(d, key)) {
        return 0;
    }

    if (src == NULL && d->provider == LLM_PROVIDER_BEDROCK) {
        key = "aws_bedrock_runtime_endpoint";

        if (llm_param_str(ctx, d, pnode, key, &src) != 0) {
            return -1;
        }

        if (src == NULL && llm_param_unset(d, key)) {
            return 0;
        }

        if (src == NULL) {
            src = llm_env_lookup(ctx, "AWS_BEDROCK_RUNTIME_ENDPOINT");
        }
    }

    if (src == NULL) {
        src = llm_default_base(ctx, d, pnode, url, sizeof(url));

        if (src == NULL) {
            return -1;
        }
    }

    if (llm_url_parse(src, &d->base, msg, sizeof(msg)) != 0) {
        line = llm_yaml_key_line(ctx, pnode, key, d->line);
        llm_cf_error(ctx, line, "invalid %s \"%s\" for model \"%s\": %s",
                     key, src, d->model_name, msg);
        return -1;
    }

    return llm_base_version(d);
}


/* Mistral's api_base is often given without "/v1"; LiteLLM adds it */
static int
llm_base_version(llm_deployment_t *d)
{
    size_t   len;
    char    *path;

    if (d->provider != LLM_PROVIDER_MISTRAL) {
        return 0;
    }

    len = strlen(d->base.path);

    if (len >= 3 && strcmp(d->base.path + len - 3, "/v1") == 0) {
        return 0;
    }

    path = malloc(len + sizeof("/v1"));
    if (path == NULL) {
        return -1;
    }

    memcpy(path, d->base.path, len);
    memcpy(path + len, "/v1", sizeof("/v1"));

    free(d->base.path);
    d->base.path = path;

    return 0;
}


/*
 * Regions are DNS labels (checked in llm_deployment_cloud()), so url is
 * large enough for any host built here.
 */
static const char *
llm_default_base(llm_cf_ctx_t *ctx, llm_deployment_t *d, yaml_node_t *pnode,
    char *url, size_t len)
{
    cJSON       *item;
    const char  *base;

    switch (d->provider) {

    case LLM_PROVIDER_AZURE:
        /* LiteLLM's own fallback for a missing api_base */
        base = llm_env_lookup(ctx, "AZURE_API_BASE");

        if (base == NULL) {
            llm_cf_error(ctx, llm_yaml_key_line(ctx, pnode, "model", d->line),
                         "azure model \"%s\" needs api_base", d->model_name);
        }

        return base;

    case LLM_PROVIDER_BEDROCK:
        item = cJSON_GetObjectItemCaseSensitive(d->params, "aws_region_name");
        snprintf(url, len, "https://bedrock-runtime.%s.amazonaws.com",
                 item->valuestring);
        return url;

    case LLM_PROVIDER_VERTEX:
        item = cJSON_GetObjectItemCaseSensitive(d->params, "vertex_location");

        if (strcmp(item->valuestring, "global") == 0) {
            return "https://aiplatform.googleapis.com";
        }

        snprintf(url, len, "https://%s-aiplatform.googleapis.com",
                 item->valuestring);
        return url;

    default:
        return llm_providers[d->provider].base;
    }
}


static int
llm_deployment_numbers(llm_cf_ctx_t *ctx, llm_deployment_t *d,
    yaml_node_t *pnode)
{
    int                     v;
    cJSON                  *item;
    double                  num;
    const llm_num_param_t  *np;

    for (np = llm_num_params; np->key; np++) {
        item = cJSON_GetObjectItemCaseSensitive(d->params, np->key);

        if (item == NULL || cJSON_IsNull(item)) {
            continue;
        }

        if (llm_json_number(item, &num) != 0 || num < 0
            || (np->integer && (num != floor(num) || num > INT_MAX)))
        {
            llm_cf_error(ctx, llm_yaml_key_line(ctx, pnode, np->key, d->line),
                         "litellm_params.%s of model \"%s\" must be %s",
                         np->key, d->model_name,
                         np->integer ? "a whole number" : "a number");
            return -1;
        }

        if (np->integer) {
            *(int *) ((char *) d + np->offset) = (int) num;

        } else {
            *(double *) ((char *) d + np->offset) = num;
        }
    }

    item = cJSON_GetObjectItemCaseSensitive(d->params, "drop_params");
    v = llm_json_bool(item);

    if (v == -1) {
        llm_cf_error(ctx, llm_yaml_key_line(ctx, pnode, "drop_params",
                                            d->line),
                     "litellm_params.drop_params of model \"%s\" must be "
                     "true or false", d->model_name);
        return -1;
    }

    d->drop_params = (v == -2) ? -1 : v;

    return 0;
}


static int
llm_deployment_defaults(llm_cf_ctx_t *ctx, llm_deployment_t *d)
{
    cJSON  *item, *dup;

    d->defaults = cJSON_CreateObject();
    if (d->defaults == NULL) {
        goto nomem;
    }

    for (item = d->params->child; item; item = item->next) {

        /* null says nothing to merge (and may be an unset variable) */
        if (cJSON_IsNull(item) || !llm_is_request_param(item->string)) {
            continue;
        }

        dup = cJSON_Duplicate(item, 1);

        if (dup == NULL || !cJSON_AddItemToObject(d->defaults, item->string,
                                                  dup))
        {
            cJSON_Delete(dup);
            goto nomem;
        }
    }

    return 0;

nomem:

    llm_cf_error(ctx, 0, "out of memory");
    return -1;
}


static int
llm_deployment_id(llm_cf_ctx_t *ctx, llm_deployment_t *d)
{
    int     n;
    char    hex[LLM_ID_BYTES * 2 + 1];
    cJSON  *id;

    id = cJSON_GetObjectItemCaseSensitive(d->model_info, "id");

    if (id != NULL && !cJSON_IsNull(id)) {
        return llm_deployment_given_id(ctx, d, id);
    }

    /*
     * Entries that differ only in api_key (two accounts behind one
     * name) hash alike; the later ones get an ordinal, which is as
     * stable as the order of the file.
     */
    for (n = 1; /* void */; n++) {
        if (llm_deployment_hash(d, n, hex) != 0) {
            llm_cf_error(ctx, 0, "out of memory");
            return -1;
        }

        if (llm_deployment_by_id(ctx, d, hex) == NULL) {
            break;
        }
    }

    d->id = strdup(hex);
    if (d->id == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    return 0;
}


static int
llm_deployment_given_id(llm_cf_ctx_t *ctx, llm_deployment_t *d, cJSON *id)
{
    char               num[32];
    llm_deployment_t  *other;

    if (cJSON_IsString(id) && id->valuestring[0] != '\0') {
        d->id = strdup(id->valuestring);

    } else if (cJSON_IsNumber(id)) {
        snprintf(num, sizeof(num), "%.15g", id->valuedouble);
        d->id = strdup(num);

    } else {
        llm_cf_error(ctx, d->line, "model_info.id of model \"%s\" must be "
                     "a non-empty string", d->model_name);
        return -1;
    }

    if (d->id == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    /* the router keys health and cooldowns by id: they must differ */
    other = llm_deployment_by_id(ctx, d, d->id);

    if (other != NULL) {
        llm_cf_error(ctx, d->line, "model_info.id \"%s\" of model \"%s\" "
                     "is already used at line %d", d->id, d->model_name,
                     other->line);
        return -1;
    }

    return 0;
}


static int
llm_deployment_hash(llm_deployment_t *d, int n, char *hex)
{
    int             rc;
    size_t          i;
    llm_buf_t       b;
    unsigned int    mdlen;
    unsigned char   md[EVP_MAX_MD_SIZE];
    static const char  digits[] = "0123456789abcdef";

    memset(&b, 0, sizeof(llm_buf_t));

    rc = llm_buf_printf(&b, "%s\n%s\n%s", d->model_name, d->model,
                        d->api_base ? d->api_base : "");

    if (rc == 0 && n > 1) {
        rc = llm_buf_printf(&b, "\n%d", n);
    }

    if (rc == 0 && !EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL))
    {
        rc = -1;
    }

    llm_buf_free(&b);

    if (rc != 0) {
        return -1;
    }

    for (i = 0; i < LLM_ID_BYTES; i++) {
        hex[i * 2] = digits[md[i] >> 4];
        hex[i * 2 + 1] = digits[md[i] & 0xf];
    }

    hex[LLM_ID_BYTES * 2] = '\0';

    return 0;
}


/* an earlier deployment with this id, or NULL */
static llm_deployment_t *
llm_deployment_by_id(llm_cf_ctx_t *ctx, llm_deployment_t *d, const char *id)
{
    llm_deployment_t  *p;

    for (p = ctx->cf->deps; p < d; p++) {
        if (p->id != NULL && strcmp(p->id, id) == 0) {
            return p;
        }
    }

    return NULL;
}


/* a string param, borrowed; NULL if absent or null */
static int
llm_param_str(llm_cf_ctx_t *ctx, llm_deployment_t *d, yaml_node_t *pnode,
    const char *key, const char **out)
{
    cJSON  *item;

    *out = NULL;
    item = cJSON_GetObjectItemCaseSensitive(d->params, key);

    if (item == NULL || cJSON_IsNull(item)) {
        return 0;
    }

    if (!cJSON_IsString(item)) {
        llm_cf_error(ctx, llm_yaml_key_line(ctx, pnode, key, d->line),
                     "litellm_params.%s of model \"%s\" must be a string",
                     key, d->model_name);
        return -1;
    }

    *out = item->valuestring;

    return 0;
}


static int
llm_param_set_str(llm_cf_ctx_t *ctx, llm_deployment_t *d, const char *key,
    const char *value)
{
    cJSON  *item;

    item = cJSON_CreateString(value);
    if (item == NULL) {
        llm_cf_error(ctx, 0, "out of memory");
        return -1;
    }

    return llm_json_set(ctx, d->params, key, item);
}


/* the key was given but its variable is not set */
static int
llm_param_unset(llm_deployment_t *d, const char *key)
{
    return d->missing_env != NULL
           && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d->params, key));
}


static int
llm_is_request_param(const char *key)
{
    const char  **p;

    for (p = llm_not_request_params; *p; p++) {
        if (strcmp(key, *p) == 0) {
            return 0;
        }
    }

    for (p = llm_not_request_prefixes; *p; p++) {
        if (strncmp(key, *p, strlen(*p)) == 0) {
            return 0;
        }
    }

    return 1;
}


/* a number, or a string holding one ("60"): LiteLLM casts these too */
static int
llm_json_number(cJSON *item, double *v)
{
    char  *end;

    if (cJSON_IsNumber(item)) {
        *v = item->valuedouble;
        return 0;
    }

    if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
        return -1;
    }

    errno = 0;
    *v = strtod(item->valuestring, &end);

    return (*end == '\0' && errno == 0 && isfinite(*v)) ? 0 : -1;
}


/* 1 or 0; -2 if absent or null; -1 if not a boolean */
static int
llm_json_bool(cJSON *item)
{
    if (item == NULL || cJSON_IsNull(item)) {
        return -2;
    }

    if (cJSON_IsBool(item)) {
        return cJSON_IsTrue(item) ? 1 : 0;
    }

    if (cJSON_IsString(item)) {
        return llm_yaml_bool(item->valuestring);
    }

    return -1;
}


/* a region goes into a host name: letters, digits and '-' only */
static int
llm_dns_label(const char *s)
{
    if (*s == '\0' || strlen(s) > 63) {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (!isalnum((unsigned char) *s) && *s != '-') {
            return 0;
        }
    }

    return 1;
}


llm_provider_e
llm_provider_from_prefix(const char *prefix, size_t len)
{
    const llm_prefix_t  *p;

    if (prefix == NULL) {
        return LLM_PROVIDER_UNKNOWN;
    }

    for (p = llm_prefixes; p->prefix; p++) {
        if (strlen(p->prefix) == len && memcmp(p->prefix, prefix, len) == 0) {
            return p->provider;
        }
    }

    return LLM_PROVIDER_UNKNOWN;
}


const char *
llm_deployment_str(const llm_deployment_t *dep, const char *key)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(dep->params, key);

    return (cJSON_IsString(v) && v->valuestring[0]) ? v->valuestring : NULL;
}


const char *
llm_provider_name(llm_provider_e p)
{
    if ((unsigned) p >= LLM_PROVIDER_MAX) {
        p = LLM_PROVIDER_UNKNOWN;
    }

    return llm_providers[p].name;
}


int
llm_url_parse(const char *url, llm_url_t *u, char *err, size_t errlen)
{
    size_t       n, hlen;
    const char  *p, *auth, *end, *host, *msg;

    memset(u, 0, sizeof(llm_url_t));

    if (url == NULL || *url == '\0') {
        return llm_url_error(u, err, errlen, "empty URL");
    }

    for (p = url; *p; p++) {
        if ((unsigned char) *p <= 0x20 || *p == 0x7f) {
            return llm_url_error(u, err, errlen,
                                 "a space or control character in the URL");
        }

        /* the path is a prefix that endpoint paths are appended to */
        if (*p == '?' || *p == '#') {
            return llm_url_error(u, err, errlen,
                                 "a base URL cannot have a query or fragment");
        }
    }

    if (strncasecmp(url, "https://", 8) == 0) {
        u->tls = 1;
        u->port = 443;
        auth = url + 8;

    } else if (strncasecmp(url, "http://", 7) == 0) {
        u->port = 80;
        auth = url + 7;

    } else {
        return llm_url_error(u, err, errlen,
                             "the scheme must be http:// or https://");
    }

    end = auth + strcspn(auth, "/");
    msg = llm_url_host(auth, end, u, &host, &hlen);

    if (msg != NULL) {
        return llm_url_error(u, err, errlen, msg);
    }

    for (n = strlen(end); n && end[n - 1] == '/'; n--) {
        /* void */
    }

    u->host = strndup(host, hlen);
    u->path = strndup(end, n);

    if (u->host == NULL || u->path == NULL) {
        return llm_url_error(u, err, errlen, "out of memory");
    }

    return 0;
}


void
llm_url_free(llm_url_t *u)
{
    if (u == NULL) {
        return;
    }

    free(u->host);
    free(u->path);
    memset(u, 0, sizeof(llm_url_t));
}


static int
llm_url_error(llm_url_t *u, char *err, size_t errlen, const char *msg)
{
    llm_url_free(u);

    if (err != NULL && errlen) {
        snprintf(err, errlen, "%s", msg);
    }

    return -1;
}


/* host and port of "host:port" or "[v6]:port"; an error text or NULL */
static const char *
llm_url_host(const char *auth, const char *end, llm_url_t *u,
    const char **host, size_t *len)
{
    const char  *hend, *port;

    if (memchr(auth, '@', end - auth) != NULL) {
        return "user info in the URL is not supported";
    }

    if (*auth == '[') {
        *host = auth + 1;
        hend = memchr(*host, ']', end - *host);

        if (hend == NULL || memchr(*host, ':', hend - *host) == NULL
            || !llm_url_chars(*host, hend - *host, 1))
        {
            return "invalid IPv6 address";
        }

        port = hend + 1;

    } else {
        *host = auth;
        hend = memchr(auth, ':', end - auth);
        hend = hend ? hend : end;
        port = hend;

        if (!llm_url_chars(auth, hend - auth, 0)) {
            return "invalid host name";
        }
    }

    *len = hend - *host;

    if (*len == 0) {
        return "the URL has no host";
    }

    if (port < end
        && (*port != ':'
            || (u->port = llm_url_port(port + 1, end - port - 1)) == -1))
    {
        return "invalid port";
    }

    return NULL;
}


static int
llm_url_chars(const char *p, size_t n, int ipv6)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < n; i++) {
        c = (unsigned char) p[i];

        if (ipv6 ? !(isxdigit(c) || c == ':' || c == '.')
                 : !(isalnum(c) || c == '-' || c == '.' || c == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static int
llm_url_port(const char *p, size_t n)
{
    int     port;
    size_t  i;

    if (n == 0 || n > 5) {
        return -1;
    }

    port = 0;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char) p[i])) {
            return -1;
        }

        port = port * 10 + (p[i] - '0');
    }

    return (port >= 1 && port <= 65535) ? port : -1;
}
