/*
 * Copyright (C) ngx_llm authors
 *
 * Unit tests of the LiteLLM model file loader (adapters/llm_config.c).
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llm_config.h"


#define TEST_LOG_MAX  16


typedef struct {
    int     n;
    int     level[TEST_LOG_MAX];
    char    msg[TEST_LOG_MAX][512];
} test_log_t;


/* name, value pairs seen by test_getenv(); NULL-terminated */
static const char  **test_env;


static void
test_log(void *data, int level, const char *msg)
{
    test_log_t  *log;

    log = data;

    if (log->n < TEST_LOG_MAX) {
        log->level[log->n] = level;
        snprintf(log->msg[log->n], sizeof(log->msg[0]), "%s", msg);
        log->n++;
    }
}


static const char *
test_getenv(const char *name)
{
    const char  **p;

    for (p = test_env; p && p[0]; p += 2) {
        if (strcmp(p[0], name) == 0) {
            return p[1];
        }
    }

    return NULL;
}


static llm_config_t *
load(const char *yaml, test_log_t *log, char *err, size_t errlen)
{
    if (log) {
        memset(log, 0, sizeof(test_log_t));
    }

    return llm_config_load_buf(yaml, strlen(yaml), "models.yaml",
                               test_getenv, log ? test_log : NULL, log,
                               err, errlen);
}


/* loads a file that must fail; err holds the message */
static void
load_fails(const char *yaml, char *err, size_t errlen)
{
    llm_config_t  *cf;

    cf = load(yaml, NULL, err, errlen);
    assert_null(cf);
}


static llm_deployment_t *
dep(llm_config_t *cf, const char *name)
{
    size_t  i;

    for (i = 0; i < cf->ndeps; i++) {
        if (strcmp(cf->deps[i].model_name, name) == 0) {
            return &cf->deps[i];
        }
    }

    fail_msg("no deployment %s", name);
    return NULL;
}


static const char *
str(cJSON *obj, const char *key)
{
    cJSON  *item;

    item = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}


static int
setup(void **state)
{
    (void) state;

    test_env = NULL;
    return 0;
}


static const char  example_yaml[] =
    "# models.yaml\n"
    "- model_name: claude-sonnet\n"
    "  litellm_params:\n"
    "    model: anthropic/claude-3-7-sonnet-latest\n"
    "    api_key: os.environ/ANTHROPIC_API_KEY\n"
    "- model_name: gpt-4o\n"
    "  litellm_params:\n"
    "    model: openai/gpt-4o\n"
    "- model_name: llama3\n"
    "  litellm_params:\n"
    "    model: ollama/llama3\n"
    "    api_base: http://localhost:11434\n";


static void
test_bare_list(void **state)
{
    char               err[256];
    test_log_t         log;
    llm_config_t      *cf;
    llm_deployment_t  *d;
    static const char  *env[] = { "ANTHROPIC_API_KEY", "sk-ant-1",
                                  "OPENAI_API_KEY", "sk-oai-1", NULL };

    (void) state;

    test_env = env;
    cf = load(example_yaml, &log, err, sizeof(err));
    assert_non_null(cf);
    assert_int_equal(cf->ndeps, 3);
    assert_int_equal(log.n, 0);
    assert_string_equal(cf->path, "models.yaml");
    assert_null(cf->router_settings);
    assert_null(cf->litellm_settings);
    assert_null(cf->general_settings);
    assert_int_equal(cf->drop_params, 0);

    d = &cf->deps[0];
    assert_string_equal(d->model_name, "claude-sonnet");
    assert_string_equal(d->model, "anthropic/claude-3-7-sonnet-latest");
    assert_string_equal(d->prefix, "anthropic");
    assert_string_equal(d->model_id, "claude-3-7-sonnet-latest");
    assert_int_equal(d->provider, LLM_PROVIDER_ANTHROPIC);
    assert_string_equal(d->api_key, "sk-ant-1");
    assert_string_equal(str(d->params, "api_key"), "sk-ant-1");
    assert_null(d->api_base);
    assert_null(d->missing_env);
    assert_int_equal(d->base.tls, 1);
    assert_string_equal(d->base.host, "api.anthropic.com");
    assert_int_equal(d->base.port, 443);
    assert_string_equal(d->base.path, "");
    assert_int_equal(d->line, 2);
    assert_int_equal(d->drop_params, -1);
    assert_int_equal(d->num_retries, -1);
    assert_int_equal(d->weight, 0);
    assert_true(d->timeout == 0);
    assert_null(d->model_info);
    assert_non_null(d->defaults);
    assert_null(d->defaults->child);

    /* no api_key at all: LiteLLM's OPENAI_API_KEY fallback */
    d = &cf->deps[1];
    assert_int_equal(d->provider, LLM_PROVIDER_OPENAI);
    assert_string_equal(d->prefix, "openai");
    assert_string_equal(d->model_id, "gpt-4o");
    assert_string_equal(d->api_key, "sk-oai-1");
    assert_string_equal(d->bearer, "Bearer sk-oai-1");
    assert_null(d->organization);
    assert_string_equal(d->base.host, "api.openai.com");
    assert_string_equal(d->base.path, "/v1");
    assert_int_equal(d->line, 6);

    d = &cf->deps[2];
    assert_int_equal(d->provider, LLM_PROVIDER_OLLAMA);
    assert_null(d->api_key);
    assert_null(d->bearer);
    assert_string_equal(d->api_base, "http://localhost:11434");
    assert_int_equal(d->base.tls, 0);
    assert_string_equal(d->base.host, "localhost");
    assert_int_equal(d->base.port, 11434);
    assert_string_equal(d->base.path, "");

    llm_config_free(cf);
}


static void
test_load_file(void **state)
{
    char           err[256], path[512];
    const char    *slash;
    llm_config_t  *cf;
    static const char  *env[] = { "ANTHROPIC_API_KEY", "k1",
                                  "OPENAI_API_KEY", "k2", NULL };

    (void) state;

    test_env = env;

    slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof(path), "%.*s/fixtures/config/models.example.yaml",
             slash ? (int) (slash - __FILE__) : 1, slash ? __FILE__ : ".");

    cf = llm_config_load_file(path, test_getenv, NULL, NULL, err,
                              sizeof(err));
    assert_non_null(cf);
    assert_int_equal(cf->ndeps, 3);
    assert_string_equal(cf->path, path);
    assert_string_equal(cf->deps[1].api_key, "k2");
    assert_int_equal(cf->deps[2].line, 12);
    llm_config_free(cf);

    cf = llm_config_load_file("/nonexistent/models.yaml", test_getenv, NULL,
                              NULL, err, sizeof(err));
    assert_null(cf);
    assert_non_null(strstr(err, "/nonexistent/models.yaml: cannot open"));
}


static void
test_too_large(void **state)
{
    int            fd;
    char           err[256], path[] = "/tmp/test_config_XXXXXX";
    char          *buf;
    size_t         len;
    llm_config_t  *cf;

    (void) state;

    len = 16 * 1024 * 1024 + 1;
    buf = malloc(len);
    assert_non_null(buf);
    memset(buf, '#', len);

    cf = llm_config_load_buf(buf, len, "big.yaml", NULL, NULL, NULL, err,
                             sizeof(err));
    assert_null(cf);
    assert_string_equal(err, "big.yaml: the file is larger than 16 MiB");

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t) len);
    close(fd);
    free(buf);

    cf = llm_config_load_file(path, NULL, NULL, NULL, err, sizeof(err));
    unlink(path);
    assert_null(cf);
    assert_non_null(strstr(err, "the file is larger than 16 MiB"));
}


static void
test_full_config(void **state)
{
    char               err[256];
    test_log_t         log;
    llm_config_t      *cf;
    llm_deployment_t  *d;
    static const char  yaml[] =
        "model_list:\n"
        "  - model_name: gpt-4o-eu\n"
        "    litellm_params:\n"
        "      model: azure/my-gpt4o-deployment\n"
        "      api_base: https://my-resource.openai.azure.com/\n"
        "      api_version: \"2024-10-21\"\n"
        "      api_key: os.environ/AZURE_API_KEY\n"
        "router_settings:\n"
        "  routing_strategy: simple-shuffle\n"
        "  num_retries: 2\n"
        "litellm_settings:\n"
        "  drop_params: true\n"
        "  set_verbose: false\n"
        "general_settings:\n"
        "  master_key: os.environ/LITELLM_MASTER_KEY\n"
        "  database_url: os.environ/NO_SUCH_VAR\n"
        "environment_variables:\n"
        "  AZURE_API_KEY: az-key\n"
        "  LITELLM_MASTER_KEY: sk-master\n"
        "foo: 1\n"
        "bar: [1, 2]\n";

    (void) state;

    cf = load(yaml, &log, err, sizeof(err));
    assert_non_null(cf);
    assert_int_equal(cf->ndeps, 1);
    assert_int_equal(cf->drop_params, 1);

    assert_non_null(cf->router_settings);
    assert_string_equal(str(cf->router_settings, "routing_strategy"),
                        "simple-shuffle");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(cf->router_settings,
                                                      "num_retries")
                     ->valueint, 2);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
                                  cf->litellm_settings, "set_verbose")));

    /* os.environ/ is resolved in the settings too */
    assert_string_equal(str(cf->general_settings, "master_key"), "sk-master");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(
                                 cf->general_settings, "database_url")));

    d = dep(cf, "gpt-4o-eu");
    assert_int_equal(d->provider, LLM_PROVIDER_AZURE);
    assert_string_equal(d->model_id, "my-gpt4o-deployment");
    assert_string_equal(d->api_key, "az-key");
    assert_string_equal(d->base.host, "my-resource.openai.azure.com");
    assert_string_equal(d->base.path, "");
    assert_string_equal(str(d->params, "api_version"), "2024-10-21");
    assert_int_equal(d->line, 2);

    assert_int_equal(log.n, 2);
    assert_int_equal(log.level[0], LLM_LOG_NOTICE);
    assert_string_equal(log.msg[0],
                        "models.yaml: ignoring unknown top-level keys: "
                        "foo, bar");
    assert_int_equal(log.level[1], LLM_LOG_WARN);
    assert_string_equal(log.msg[1],
                        "models.yaml:16: environment variable NO_SUCH_VAR "
                        "for general_settings is not set");

    llm_config_free(cf);
}


static void
test_no_model_list(void **state)
{
    char           err[256];
    test_log_t     log;
    llm_config_t  *cf;

    (void) state;

    load_fails("router_settings:\n  num_retries: 2\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:1: the file has no model_list");

    load_fails("model_list: {a: 1}\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:1: model_list must be a list");

    load_fails("model_list: []\nrouter_settings: [1]\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:2: router_settings must be a "
                        "mapping");

    load_fails("", err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml: the file is empty"));

    load_fails("just a string\n", err, sizeof(err));
    assert_non_null(strstr(err, "expected a list of models"));

    cf = load("model_list: []\n", &log, err, sizeof(err));
    assert_non_null(cf);
    assert_int_equal(cf->ndeps, 0);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.level[0], LLM_LOG_NOTICE);
    assert_string_equal(log.msg[0], "models.yaml:1: the model list is empty");
    llm_config_free(cf);

    cf = load("model_list:\nlitellm_settings:\n", &log, err, sizeof(err));
    assert_non_null(cf);
    assert_int_equal(cf->ndeps, 0);
    assert_int_equal(log.n, 1);
    llm_config_free(cf);

    cf = load("[]\n", &log, err, sizeof(err));
    assert_non_null(cf);
    assert_int_equal(cf->ndeps, 0);
    assert_int_equal(log.n, 1);
    llm_config_free(cf);
}


static void
test_env_getenv(void **state)
{
    char               err[256];
    llm_config_t      *cf;
    llm_deployment_t  *d;
    cJSON             *extra, *arr;
    static const char  *env[] = { "KEY", "secret", "BASE",
                                  "https://proxy.example.com/v1/",
                                  "ORG", "org-1", NULL };
    static const char  yaml[] =
        "- model_name: m\n"
        "  litellm_params:\n"
        "    model: openai/gpt-4o\n"
        "    api_key: os.environ/KEY\n"
        "    api_base: os.environ/BASE\n"
        "    organization: os.environ/ORG\n"
        "    extra_body:\n"
        "      org: os.environ/ORG\n"
        "      list: [os.environ/ORG, x]\n";

    (void) state;

    test_env = env;
    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);

    d = dep(cf, "m");
    assert_string_equal(d->api_key, "secret");
    assert_string_equal(d->api_base, "https://proxy.example.com/v1/");
    assert_string_equal(d->base.host, "proxy.example.com");
    assert_string_equal(d->base.path, "/v1");
    assert_string_equal(str(d->params, "organization"), "org-1");
    assert_string_equal(d->organization, "org-1");

    extra = cJSON_GetObjectItemCaseSensitive(d->params, "extra_body");
    assert_string_equal(str(extra, "org"), "org-1");
    arr = cJSON_GetObjectItemCaseSensitive(extra, "list");
    assert_string_equal(cJSON_GetArrayItem(arr, 0)->valuestring, "org-1");
    assert_string_equal(cJSON_GetArrayItem(arr, 1)->valuestring, "x");

    /* resolved nested values reach the defaults too */
    extra = cJSON_GetObjectItemCaseSensitive(d->defaults, "extra_body");
    assert_string_equal(str(extra, "org"), "org-1");

    llm_config_free(cf);
}


static void
test_env_precedence(void **state)
{
    char               err[256];
    llm_config_t      *cf;
    static const char  *env[] = { "ANTHROPIC_API_KEY", "from-process",
                                  "OTHER", "process-other", NULL };
    static const char  yaml[] =
        "environment_variables:\n"
        "  ANTHROPIC_API_KEY: from-file\n"
        "  PORT: 8080\n"
        "  EMPTY:\n"
        "model_list:\n"
        "  - model_name: claude\n"
        "    litellm_params:\n"
        "      model: anthropic/claude-3-5-haiku-latest\n"
        "      api_key: os.environ/ANTHROPIC_API_KEY\n"
        "      port: os.environ/PORT\n"
        "      other: os.environ/OTHER\n";

    (void) state;

    test_env = env;
    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);
    assert_string_equal(cf->deps[0].api_key, "from-file");

    /* environment_variables values are strings, even plain numbers */
    assert_string_equal(str(cf->deps[0].params, "port"), "8080");
    assert_string_equal(str(cf->deps[0].params, "other"), "process-other");
    llm_config_free(cf);
}


static void
test_env_missing(void **state)
{
    char               err[256];
    test_log_t         log;
    llm_config_t      *cf;
    llm_deployment_t  *d;
    static const char  yaml[] =
        "- model_name: claude-sonnet\n"
        "  litellm_params:\n"
        "    model: anthropic/claude-3-7-sonnet-latest\n"
        "    temperature: os.environ/TEMP\n"
        "    api_key: os.environ/ANTHROPIC_API_KEY\n"
        "- model_name: local\n"
        "  litellm_params:\n"
        "    model: openai/qwen\n"
        "    api_base: os.environ/LOCAL_BASE\n";

    (void) state;

    cf = load(yaml, &log, err, sizeof(err));
    assert_non_null(cf);

    d = dep(cf, "claude-sonnet");
    assert_string_equal(d->missing_env, "TEMP");
    assert_null(d->api_key);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d->params,
                                                              "api_key")));
    assert_null(cJSON_GetObjectItemCaseSensitive(d->defaults,
                                                 "temperature"));
    assert_string_equal(d->base.host, "api.anthropic.com");

    /* an unset api_base leaves no base rather than OpenAI's default */
    d = dep(cf, "local");
    assert_string_equal(d->missing_env, "LOCAL_BASE");
    assert_null(d->api_base);
    assert_null(d->base.host);

    assert_int_equal(log.n, 3);
    assert_int_equal(log.level[0], LLM_LOG_WARN);
    assert_string_equal(log.msg[0],
                        "models.yaml:4: environment variable TEMP for model "
                        "\"claude-sonnet\" is not set; calls to it will "
                        "fail");
    assert_string_equal(log.msg[1],
                        "models.yaml:5: environment variable "
                        "ANTHROPIC_API_KEY for model \"claude-sonnet\" is "
                        "not set; calls to it will fail");
    assert_non_null(strstr(log.msg[2], "models.yaml:9: environment variable "
                                       "LOCAL_BASE for model \"local\""));

    llm_config_free(cf);

    /* an azure api_base from an unset variable is not fatal either */
    cf = load("- model_name: az\n"
              "  litellm_params:\n"
              "    model: azure/dep\n"
              "    api_base: os.environ/AZURE_BASE_X\n", &log, err,
              sizeof(err));
    assert_non_null(cf);
    assert_string_equal(cf->deps[0].missing_env, "AZURE_BASE_X");
    assert_null(cf->deps[0].base.host);
    llm_config_free(cf);
}


static void
test_yaml_syntax_error(void **state)
{
    char  err[256];

    (void) state;

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: openai/gpt-4o\n"
               "   bad: indent\n", err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:4: "));

    load_fails("model_list: [\n", err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:2: "));

    load_fails("a: \"unterminated\n", err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:"));
    assert_non_null(strstr(err, "quoted scalar"));

    /* invalid UTF-8 is a reader error: a byte offset turned into a line */
    load_fails("- a\n- b\n- \xff\n", err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:3: "));

    load_fails("- a\n---\n- b\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:2: more than one YAML document "
                        "in the file");

    load_fails("- *nope\n", err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:1: "));
}


static void
test_entry_errors(void **state)
{
    char  err[256];

    (void) state;

    load_fails("- model_name: ok\n"
               "  litellm_params: {model: gpt-4o}\n"
               "- litellm_params:\n"
               "    model: gpt-4o\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:3: model entry has no model_name");

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    api_key: x\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:2: model \"a\" has no "
                        "litellm_params.model");

    load_fails("- model_name: a\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:1: model \"a\" has no "
                        "litellm_params");

    load_fails("- model_name: a\n"
               "  litellm_params: [1]\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:2: litellm_params of model \"a\" "
                        "must be a mapping");

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: 5\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:3: litellm_params.model of model "
                        "\"a\" must be a non-empty string");

    load_fails("- model_name: 5\n"
               "  litellm_params: {model: gpt-4o}\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:1: model_name must be a non-empty "
                        "string");

    load_fails("- model_name: a\n"
               "  litellm_params: {model: gpt-4o}\n"
               "- just a string\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:3: a model entry must be a "
                        "mapping");

    load_fails("- model_name: a\n"
               "  litellm_params: {model: gpt-4o}\n"
               "  model_info: [1]\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:3: model_info of model \"a\" must "
                        "be a mapping");

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: gpt-4o\n"
               "    timeout: soon\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:4: litellm_params.timeout of "
                        "model \"a\" must be a number");

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: gpt-4o\n"
               "    weight: 0.5\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:4: litellm_params.weight of "
                        "model \"a\" must be a whole number");

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: gpt-4o\n"
               "    drop_params: maybe\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:4: litellm_params.drop_params of "
                        "model \"a\" must be true or false");

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: gpt-4o\n"
               "    api_key: [1]\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:4: litellm_params.api_key of "
                        "model \"a\" must be a string");

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: openai/\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:3: model \"openai/\" has nothing "
                        "after the prefix");
}


static void
test_unknown_prefix(void **state)
{
    char  err[256];

    (void) state;

    load_fails("- model_name: ok\n"
               "  litellm_params:\n"
               "    model: groq/llama-3.1-8b-instant\n"
               "- model_name: bad\n"
               "  litellm_params:\n"
               "    api_base: http://localhost:8000\n"
               "    model: foo/bar\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:7: unknown provider prefix \"foo\" "
                        "in model \"foo/bar\"");

    load_fails("- model_name: bad\n"
               "  litellm_params: {model: /gpt-4o}\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:2: unknown provider prefix \"\" "
                        "in model \"/gpt-4o\"");
}


static void
test_bare_and_prefixes(void **state)
{
    char           err[256];
    llm_config_t  *cf;
    static const char  yaml[] =
        "- {model_name: a, litellm_params: {model: gpt-4o}}\n"
        "- {model_name: b, litellm_params: {model: ollama_chat/llama3.2}}\n"
        "- {model_name: c, litellm_params: {model: cohere_chat/command-r}}\n"
        "- {model_name: d, litellm_params: {model: mistral/mistral-large}}\n"
        "- {model_name: e, litellm_params: {model: groq/llama3-70b}}\n"
        "- {model_name: f, litellm_params: {model: cohere/command-a}}\n"
        "- {model_name: g, litellm_params: {model: bedrock/converse/x.y:0}}\n";

    (void) state;

    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);

    assert_int_equal(cf->deps[0].provider, LLM_PROVIDER_OPENAI);
    assert_string_equal(cf->deps[0].prefix, "");
    assert_string_equal(cf->deps[0].model_id, "gpt-4o");
    assert_string_equal(cf->deps[0].base.host, "api.openai.com");

    assert_int_equal(cf->deps[1].provider, LLM_PROVIDER_OLLAMA);
    assert_string_equal(cf->deps[1].prefix, "ollama_chat");
    assert_string_equal(cf->deps[1].model_id, "llama3.2");
    assert_string_equal(cf->deps[1].base.host, "localhost");
    assert_int_equal(cf->deps[1].base.port, 11434);

    assert_int_equal(cf->deps[2].provider, LLM_PROVIDER_COHERE);
    assert_string_equal(cf->deps[2].base.host, "api.cohere.com");

    assert_string_equal(cf->deps[3].base.host, "api.mistral.ai");
    assert_string_equal(cf->deps[3].base.path, "/v1");

    assert_string_equal(cf->deps[4].base.host, "api.groq.com");
    assert_string_equal(cf->deps[4].base.path, "/openai/v1");

    assert_int_equal(cf->deps[5].provider, LLM_PROVIDER_COHERE);

    assert_int_equal(cf->deps[6].provider, LLM_PROVIDER_BEDROCK);
    assert_string_equal(cf->deps[6].model_id, "converse/x.y:0");

    llm_config_free(cf);
}


static void
test_vertex(void **state)
{
    char               err[256];
    test_log_t         log;
    llm_config_t      *cf;
    llm_deployment_t  *d;
    static const char  *env[] = { "VERTEXAI_PROJECT", "env-project", NULL };
    static const char  yaml[] =
        "model_list:\n"
        "  - model_name: gemini\n"
        "    litellm_params:\n"
        "      model: vertexai/gemini-2.5-flash\n"
        "  - model_name: gemini-2\n"
        "    litellm_params:\n"
        "      model: vertexai/gemini-2.5-pro\n"
        "      vertex_location: global\n"
        "  - model_name: claude-vertex\n"
        "    litellm_params:\n"
        "      model: vertex_ai/claude-3-7-sonnet@20250219\n"
        "      vertex_location: us-east5\n"
        "      vertex_project: p1\n"
        "litellm_settings:\n"
        "  vertex_location: europe-west1\n";

    (void) state;

    test_env = env;
    cf = load(yaml, &log, err, sizeof(err));
    assert_non_null(cf);

    d = dep(cf, "gemini");
    assert_int_equal(d->provider, LLM_PROVIDER_VERTEX);
    assert_string_equal(d->prefix, "vertexai");
    assert_string_equal(d->model_id, "gemini-2.5-flash");
    assert_string_equal(d->base.host, "europe-west1-aiplatform.googleapis.com");
    assert_string_equal(str(d->params, "vertex_location"), "europe-west1");
    assert_string_equal(str(d->params, "vertex_project"), "env-project");
    assert_null(cJSON_GetObjectItemCaseSensitive(d->defaults,
                                                 "vertex_location"));

    d = dep(cf, "gemini-2");
    assert_string_equal(d->base.host, "aiplatform.googleapis.com");

    d = dep(cf, "claude-vertex");
    assert_string_equal(d->prefix, "vertex_ai");
    assert_string_equal(d->base.host, "us-east5-aiplatform.googleapis.com");
    assert_string_equal(str(d->params, "vertex_project"), "p1");

    /* the alias notice comes once per load */
    assert_int_equal(log.n, 1);
    assert_int_equal(log.level[0], LLM_LOG_NOTICE);
    assert_non_null(strstr(log.msg[0], "models.yaml:4: \"vertexai/\""));

    llm_config_free(cf);

    /* without any setting: us-central1 */
    test_env = NULL;
    cf = load("- {model_name: g, litellm_params: {model: vertex_ai/gemini}}\n",
              NULL, err, sizeof(err));
    assert_non_null(cf);
    assert_string_equal(cf->deps[0].base.host,
                        "us-central1-aiplatform.googleapis.com");
    assert_null(cJSON_GetObjectItemCaseSensitive(cf->deps[0].params,
                                                 "vertex_project"));
    llm_config_free(cf);

    load_fails("- model_name: g\n"
               "  litellm_params:\n"
               "    model: vertex_ai/gemini\n"
               "    vertex_location: evil.com/x\n", err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:4: invalid vertex_location"));
}


static void
test_bedrock(void **state)
{
    char               err[256];
    llm_config_t      *cf;
    static const char  *env[] = { "AWS_REGION", "eu-west-3", NULL };
    static const char  yaml[] =
        "- model_name: a\n"
        "  litellm_params:\n"
        "    model: bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0\n"
        "    aws_region_name: us-west-2\n"
        "    aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID\n"
        "- model_name: b\n"
        "  litellm_params:\n"
        "    model: bedrock/anthropic.claude-3-haiku-20240307-v1:0\n"
        "- model_name: c\n"
        "  litellm_params:\n"
        "    model: bedrock/amazon.titan-embed-text-v2:0\n"
        "    aws_bedrock_runtime_endpoint: https://vpce-1.example.com\n"
        "  model_info:\n"
        "    mode: embedding\n";

    (void) state;

    test_env = env;
    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);

    assert_string_equal(cf->deps[0].model_id,
                        "us.anthropic.claude-3-7-sonnet-20250219-v1:0");
    assert_string_equal(cf->deps[0].base.host,
                        "bedrock-runtime.us-west-2.amazonaws.com");
    assert_string_equal(cf->deps[0].missing_env, "AWS_ACCESS_KEY_ID");
    assert_int_equal(cf->deps[0].mode_embedding, 0);

    assert_string_equal(cf->deps[1].base.host,
                        "bedrock-runtime.eu-west-3.amazonaws.com");
    assert_string_equal(str(cf->deps[1].params, "aws_region_name"),
                        "eu-west-3");

    assert_string_equal(cf->deps[2].base.host, "vpce-1.example.com");
    assert_null(cf->deps[2].api_base);
    assert_int_equal(cf->deps[2].mode_embedding, 1);
    llm_config_free(cf);

    test_env = NULL;
    cf = load("- {model_name: a, litellm_params: {model: bedrock/m}}\n", NULL,
              err, sizeof(err));
    assert_non_null(cf);
    assert_string_equal(cf->deps[0].base.host,
                        "bedrock-runtime.us-east-1.amazonaws.com");
    llm_config_free(cf);
}


static void
test_azure_needs_api_base(void **state)
{
    char               err[256];
    llm_config_t      *cf;
    static const char  *env[] = { "AZURE_API_BASE",
                                  "https://r.openai.azure.com", NULL };
    static const char  yaml[] =
        "- model_name: az\n"
        "  litellm_params:\n"
        "    model: azure/dep\n"
        "    api_version: \"2024-10-21\"\n";

    (void) state;

    load_fails(yaml, err, sizeof(err));
    assert_string_equal(err, "models.yaml:3: azure model \"az\" needs "
                        "api_base");

    test_env = env;
    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);
    assert_string_equal(cf->deps[0].base.host, "r.openai.azure.com");
    llm_config_free(cf);
}


static void
test_url_parse(void **state)
{
    char       err[128];
    llm_url_t  u;

    (void) state;

    assert_int_equal(llm_url_parse("https://api.example.com", &u, err,
                                   sizeof(err)), 0);
    assert_int_equal(u.tls, 1);
    assert_string_equal(u.host, "api.example.com");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "");
    llm_url_free(&u);

    assert_int_equal(llm_url_parse("http://10.0.0.5:8000/v1/", &u, err,
                                   sizeof(err)), 0);
    assert_int_equal(u.tls, 0);
    assert_string_equal(u.host, "10.0.0.5");
    assert_int_equal(u.port, 8000);
    assert_string_equal(u.path, "/v1");
    llm_url_free(&u);

    assert_int_equal(llm_url_parse("http://h", &u, err, sizeof(err)), 0);
    assert_int_equal(u.port, 80);
    llm_url_free(&u);

    assert_int_equal(llm_url_parse("HTTPS://h.example.com:8443/a/b//", &u,
                                   err, sizeof(err)), 0);
    assert_int_equal(u.tls, 1);
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.path, "/a/b");
    llm_url_free(&u);

    assert_int_equal(llm_url_parse("http://[::1]:8080/openai", &u, err,
                                   sizeof(err)), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 8080);
    assert_string_equal(u.path, "/openai");
    llm_url_free(&u);

    assert_int_equal(llm_url_parse("https://[2001:db8::1]", &u, err,
                                   sizeof(err)), 0);
    assert_string_equal(u.host, "2001:db8::1");
    assert_int_equal(u.port, 443);
    llm_url_free(&u);
}


static void
test_url_parse_errors(void **state)
{
    char        err[128];
    size_t      i;
    llm_url_t   u;
    static const char  *bad[] = {
        "ftp://example.com", "example.com", "", "https://", "https:///v1",
        "http://h:", "http://h:0", "http://h:65536", "http://h:80x",
        "http://h:1:2", "http://[::1", "http://[::g]", "http://[127.0.0.1]",
        "http://[::1]x", "http://user:pw@h", "http://h/v1?x=1",
        "http://h/v1#f", "http://h /v1", "http://h\n", "http://ex%41.com",
        NULL
    };

    (void) state;

    for (i = 0; bad[i]; i++) {
        err[0] = '\0';
        u.host = (char *) "garbage";

        if (llm_url_parse(bad[i], &u, err, sizeof(err)) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }

        assert_null(u.host);
        assert_null(u.path);
        assert_true(err[0] != '\0');
    }

    assert_int_equal(llm_url_parse(NULL, &u, err, sizeof(err)), -1);
    assert_int_equal(llm_url_parse("ftp://x", &u, NULL, 0), -1);

    llm_url_free(NULL);
}


static void
test_invalid_api_base(void **state)
{
    char  err[256];

    (void) state;

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: openai/gpt-4o\n"
               "    api_base: ftp://example.com\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:4: invalid api_base "
                        "\"ftp://example.com\" for model \"a\": the scheme "
                        "must be http:// or https://");

    load_fails("- model_name: a\n"
               "  litellm_params:\n"
               "    model: openai/gpt-4o\n"
               "    api_base: http://localhost:99999\n", err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:4: invalid api_base"));
    assert_non_null(strstr(err, "invalid port"));
}


static void
test_defaults(void **state)
{
    char           err[256];
    cJSON         *defs;
    llm_config_t  *cf;
    static const char  yaml[] =
        "- model_name: a\n"
        "  litellm_params:\n"
        "    model: openai/gpt-4o\n"
        "    api_key: sk-1\n"
        "    api_base: https://api.openai.com/v1\n"
        "    api_version: v\n"
        "    organization: org\n"
        "    timeout: 30\n"
        "    stream_timeout: 10\n"
        "    max_retries: 1\n"
        "    num_retries: 2\n"
        "    rpm: 100\n"
        "    tpm: 1_000_000\n"
        "    weight: 3\n"
        "    order: 1\n"
        "    drop_params: true\n"
        "    input_cost_per_token: 0.000002\n"
        "    output_cost_per_token: 0.000008\n"
        "    aws_region_name: x\n"
        "    vertex_project: y\n"
        "    azure_ad_token: z\n"
        "    region_name: r\n"
        "    custom_llm_provider: openai\n"
        "    tags: [a]\n"
        "    mock_response: hi\n"
        "    client_secret: s\n"
        "    extra_headers: {X-A: b}\n"
        "    temperature: 0.2\n"
        "    max_tokens: 512\n"
        "    top_p: 1\n"
        "    stop: [\"\\n\\n\"]\n"
        "    seed: 7\n"
        "    extra_body: {a: 1}\n"
        "    user: ~\n";

    (void) state;

    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);

    defs = cf->deps[0].defaults;
    assert_int_equal(cJSON_GetArraySize(defs), 6);
    assert_true(cJSON_GetObjectItemCaseSensitive(defs, "temperature")
                ->valuedouble == 0.2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(defs, "max_tokens")
                     ->valueint, 512);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(defs, "top_p"));
    assert_string_equal(cJSON_GetArrayItem(
                            cJSON_GetObjectItemCaseSensitive(defs, "stop"), 0)
                        ->valuestring, "\n\n");
    assert_non_null(cJSON_GetObjectItemCaseSensitive(defs, "seed"));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(defs, "extra_body"));

    /* the numeric fields */
    assert_true(cf->deps[0].timeout == 30);
    assert_true(cf->deps[0].stream_timeout == 10);
    assert_int_equal(cf->deps[0].num_retries, 2);
    assert_true(cf->deps[0].rpm == 100);
    assert_true(cf->deps[0].tpm == 1000000);
    assert_int_equal(cf->deps[0].weight, 3);
    assert_int_equal(cf->deps[0].order, 1);
    assert_int_equal(cf->deps[0].drop_params, 1);

    llm_config_free(cf);
}


static void
test_numbers_as_strings(void **state)
{
    char           err[256];
    llm_config_t  *cf;
    static const char  yaml[] =
        "- model_name: a\n"
        "  litellm_params:\n"
        "    model: gpt-4o\n"
        "    timeout: \"60\"\n"
        "    rpm: '2.5'\n"
        "    weight: \"2\"\n"
        "    max_retries: \"4\"\n"
        "    drop_params: \"false\"\n";

    (void) state;

    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);
    assert_true(cf->deps[0].timeout == 60);
    assert_true(cf->deps[0].rpm == 2.5);
    assert_int_equal(cf->deps[0].weight, 2);
    assert_int_equal(cf->deps[0].num_retries, 4);
    assert_int_equal(cf->deps[0].drop_params, 0);
    llm_config_free(cf);
}


static void
test_scalars(void **state)
{
    char           err[256];
    cJSON         *p;
    llm_config_t  *cf;
    static const char  yaml[] =
        "- model_name: a\n"
        "  litellm_params:\n"
        "    model: azure/d\n"
        "    api_base: https://x.openai.azure.com\n"
        "    api_version: \"2024-10-21\"\n"
        "    plain_date: 2024-10-21\n"
        "    q_int: \"42\"\n"
        "    sq_float: '0.5'\n"
        "    int: 42\n"
        "    neg: -3\n"
        "    float: 0.25\n"
        "    exp: 1e-6\n"
        "    under: 1_000\n"
        "    octal_like: 0123\n"
        "    hex: 0x1F\n"
        "    inf: .inf\n"
        "    version: 1.2.3\n"
        "    yes_: yes\n"
        "    off_: Off\n"
        "    q_bool: \"true\"\n"
        "    nul: null\n"
        "    tilde: ~\n"
        "    empty:\n"
        "    q_null: \"null\"\n"
        "    block: |\n"
        "      12\n";

    (void) state;

    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);
    p = cf->deps[0].params;

    assert_string_equal(str(p, "api_version"), "2024-10-21");
    assert_string_equal(str(p, "plain_date"), "2024-10-21");
    assert_string_equal(str(p, "q_int"), "42");
    assert_string_equal(str(p, "sq_float"), "0.5");
    assert_true(cJSON_GetObjectItemCaseSensitive(p, "int")->valuedouble
                == 42);
    assert_true(cJSON_GetObjectItemCaseSensitive(p, "neg")->valuedouble
                == -3);
    assert_true(cJSON_GetObjectItemCaseSensitive(p, "float")->valuedouble
                == 0.25);
    assert_true(cJSON_GetObjectItemCaseSensitive(p, "exp")->valuedouble
                == 1e-6);
    assert_true(cJSON_GetObjectItemCaseSensitive(p, "under")->valuedouble
                == 1000);
    assert_string_equal(str(p, "octal_like"), "0123");
    assert_string_equal(str(p, "hex"), "0x1F");
    assert_string_equal(str(p, "inf"), ".inf");
    assert_string_equal(str(p, "version"), "1.2.3");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "yes_")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(p, "off_")));
    assert_string_equal(str(p, "q_bool"), "true");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "nul")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "tilde")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "empty")));
    assert_string_equal(str(p, "q_null"), "null");
    assert_string_equal(str(p, "block"), "12\n");

    llm_config_free(cf);
}


static void
test_anchors_and_merge(void **state)
{
    char           err[256];
    cJSON         *p;
    llm_config_t  *cf;
    static const char  *env[] = { "OPENAI_API_KEY_2", "k2", NULL };
    static const char  yaml[] =
        "x-common: &common\n"
        "  api_key: os.environ/OPENAI_API_KEY_2\n"
        "  temperature: 0.1\n"
        "  stop: &stops [a, b]\n"
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params:\n"
        "      <<: *common\n"
        "      model: openai/gpt-4o\n"
        "      temperature: 0.9\n"
        "  - model_name: b\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        "      stop: *stops\n"
        "      <<: [*common, {seed: 3, temperature: 0.5}]\n";

    (void) state;

    test_env = env;
    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);

    p = cf->deps[0].params;
    assert_string_equal(cf->deps[0].api_key, "k2");
    assert_true(cJSON_GetObjectItemCaseSensitive(p, "temperature")
                ->valuedouble == 0.9);
    assert_int_equal(cJSON_GetArraySize(
                         cJSON_GetObjectItemCaseSensitive(p, "stop")), 2);

    p = cf->deps[1].params;
    assert_string_equal(cf->deps[1].api_key, "k2");
    assert_true(cJSON_GetObjectItemCaseSensitive(p, "temperature")
                ->valuedouble == 0.1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(p, "seed")->valueint,
                     3);
    assert_string_equal(cJSON_GetArrayItem(
                            cJSON_GetObjectItemCaseSensitive(p, "stop"), 1)
                        ->valuestring, "b");

    llm_config_free(cf);
}


static void
test_alias_limits(void **state)
{
    char  err[256];

    (void) state;

    /* a mapping that contains itself */
    load_fails("model_list: &a\n  - model_name: x\n    litellm_params: *a\n",
               err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:"));

    load_fails("a: &a [*a]\nmodel_list: []\nrouter_settings:\n  x: *a\n",
               err, sizeof(err));
    assert_non_null(strstr(err, "models.yaml:"));

    /* "billion laughs" */
    load_fails("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
               "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
               "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
               "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
               "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
               "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
               "model_list: []\n"
               "general_settings: {x: *g}\n", err, sizeof(err));
    assert_non_null(strstr(err, "aliases expand to too many nodes"));
}


static void
test_ids(void **state)
{
    char           err[256], id1[64], id2[64], id3[64];
    llm_config_t  *cf;
    static const char  yaml[] =
        "- model_name: gpt\n"
        "  litellm_params: {model: openai/gpt-4o, api_key: k1}\n"
        "- model_name: gpt\n"
        "  litellm_params: {model: openai/gpt-4o, api_key: k2}\n"
        "- model_name: gpt\n"
        "  litellm_params: {model: openai/gpt-4o, api_base: "
        "\"http://h:1\"}\n"
        "- model_name: named\n"
        "  litellm_params: {model: openai/gpt-4o}\n"
        "  model_info: {id: my-id, mode: chat}\n"
        "- model_name: numbered\n"
        "  litellm_params: {model: openai/gpt-4o}\n"
        "  model_info: {id: 42}\n";

    (void) state;

    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);
    assert_int_equal(strlen(cf->deps[0].id), 16);
    assert_int_equal(strspn(cf->deps[0].id, "0123456789abcdef"), 16);

    /* identical name + model + base: still distinct ids */
    assert_string_not_equal(cf->deps[0].id, cf->deps[1].id);
    assert_string_not_equal(cf->deps[0].id, cf->deps[2].id);
    assert_string_equal(cf->deps[3].id, "my-id");
    assert_string_equal(cf->deps[4].id, "42");
    assert_string_equal(str(cf->deps[3].model_info, "mode"), "chat");
    assert_int_equal(cf->deps[3].mode_embedding, 0);

    snprintf(id1, sizeof(id1), "%s", cf->deps[0].id);
    snprintf(id2, sizeof(id2), "%s", cf->deps[1].id);
    snprintf(id3, sizeof(id3), "%s", cf->deps[2].id);
    llm_config_free(cf);

    /* stable across reloads */
    cf = load(yaml, NULL, err, sizeof(err));
    assert_non_null(cf);
    assert_string_equal(cf->deps[0].id, id1);
    assert_string_equal(cf->deps[1].id, id2);
    assert_string_equal(cf->deps[2].id, id3);
    llm_config_free(cf);

    load_fails("- model_name: a\n"
               "  litellm_params: {model: gpt-4o}\n"
               "  model_info: {id: x}\n"
               "- model_name: b\n"
               "  litellm_params: {model: gpt-4o}\n"
               "  model_info: {id: x}\n", err, sizeof(err));
    assert_string_equal(err, "models.yaml:4: model_info.id \"x\" of model "
                        "\"b\" is already used at line 1");
}


static void
test_settings_drop_params(void **state)
{
    char           err[256];
    llm_config_t  *cf;

    (void) state;

    cf = load("model_list: []\nlitellm_settings: {drop_params: True}\n",
              NULL, err, sizeof(err));
    assert_non_null(cf);
    assert_int_equal(cf->drop_params, 1);
    llm_config_free(cf);

    load_fails("model_list: []\nlitellm_settings:\n  drop_params: 3\n", err,
               sizeof(err));
    assert_string_equal(err, "models.yaml:3: litellm_settings.drop_params "
                        "must be true or false");
}


static void
test_err_truncation(void **state)
{
    char           err[12];
    llm_config_t  *cf;

    (void) state;

    memset(err, 'x', sizeof(err));
    cf = load("- model_name: a\n", NULL, err, sizeof(err));
    assert_null(cf);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_memory_equal(err, "models.yaml", 11);

    /* no err buffer at all */
    cf = load("- model_name: a\n", NULL, NULL, 0);
    assert_null(cf);
}


static void
test_providers(void **state)
{
    (void) state;

    assert_int_equal(llm_provider_from_prefix("openai", 6),
                     LLM_PROVIDER_OPENAI);
    assert_int_equal(llm_provider_from_prefix("ollama_chat/x", 11),
                     LLM_PROVIDER_OLLAMA);
    assert_int_equal(llm_provider_from_prefix("vertexai", 8),
                     LLM_PROVIDER_VERTEX);
    assert_int_equal(llm_provider_from_prefix("vertex_ai", 9),
                     LLM_PROVIDER_VERTEX);
    assert_int_equal(llm_provider_from_prefix("cohere_chat", 11),
                     LLM_PROVIDER_COHERE);
    assert_int_equal(llm_provider_from_prefix("open", 4),
                     LLM_PROVIDER_UNKNOWN);
    assert_int_equal(llm_provider_from_prefix("", 0), LLM_PROVIDER_UNKNOWN);
    assert_int_equal(llm_provider_from_prefix(NULL, 6),
                     LLM_PROVIDER_UNKNOWN);

    assert_string_equal(llm_provider_name(LLM_PROVIDER_OPENAI), "openai");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_AZURE), "azure");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_ANTHROPIC),
                        "anthropic");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_OLLAMA), "ollama");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_MISTRAL), "mistral");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_GROQ), "groq");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_COHERE), "cohere");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_BEDROCK), "bedrock");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_VERTEX), "vertex_ai");
    assert_string_equal(llm_provider_name(LLM_PROVIDER_MAX), "unknown");
}


static void
test_free_null(void **state)
{
    (void) state;

    llm_config_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup(test_bare_list, setup),
        cmocka_unit_test_setup(test_load_file, setup),
        cmocka_unit_test_setup(test_too_large, setup),
        cmocka_unit_test_setup(test_full_config, setup),
        cmocka_unit_test_setup(test_no_model_list, setup),
        cmocka_unit_test_setup(test_env_getenv, setup),
        cmocka_unit_test_setup(test_env_precedence, setup),
        cmocka_unit_test_setup(test_env_missing, setup),
        cmocka_unit_test_setup(test_yaml_syntax_error, setup),
        cmocka_unit_test_setup(test_entry_errors, setup),
        cmocka_unit_test_setup(test_unknown_prefix, setup),
        cmocka_unit_test_setup(test_bare_and_prefixes, setup),
        cmocka_unit_test_setup(test_vertex, setup),
        cmocka_unit_test_setup(test_bedrock, setup),
        cmocka_unit_test_setup(test_azure_needs_api_base, setup),
        cmocka_unit_test_setup(test_url_parse, setup),
        cmocka_unit_test_setup(test_url_parse_errors, setup),
        cmocka_unit_test_setup(test_invalid_api_base, setup),
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_numbers_as_strings, setup),
        cmocka_unit_test_setup(test_scalars, setup),
        cmocka_unit_test_setup(test_anchors_and_merge, setup),
        cmocka_unit_test_setup(test_alias_limits, setup),
        cmocka_unit_test_setup(test_ids, setup),
        cmocka_unit_test_setup(test_settings_drop_params, setup),
        cmocka_unit_test_setup(test_err_truncation, setup),
        cmocka_unit_test_setup(test_providers, setup),
        cmocka_unit_test_setup(test_free_null, setup),
    };

    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
