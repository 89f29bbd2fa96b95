/*
 * Copyright (C) ngx_llm authors
 *
 * Microsoft Entra ID client credentials for Azure OpenAI, see
 * llm_azure_auth.h.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_azure_auth.h"


static int llm_azure_tenant_ok(const char *t);
static char *llm_azure_token_uri(const char *authority, const char *tenant);


int
llm_azure_entra_load(const llm_deployment_t *dep, const char *authority_env,
    llm_google_sa_t *sa, char *err, size_t errlen)
{
    int          n;
    const char  *tenant, *id, *secret, *authority, *scope;

    memset(sa, 0, sizeof(llm_google_sa_t));

    tenant = llm_deployment_str(dep, "tenant_id");
    id = llm_deployment_str(dep, "client_id");
    secret = llm_deployment_str(dep, "client_secret");

    n = (tenant != NULL) + (id != NULL) + (secret != NULL);

    /*
     * LiteLLM's order: a key, then a fixed token, then Entra ID; an unset
     * os.environ/ leaves its parameter out and sets missing_env, which
     * the adapter turns into a 401 naming the variable
     */
    if (n == 0 || (dep->api_key && dep->api_key[0])
        || llm_deployment_str(dep, "azure_ad_token") || dep->missing_env)
    {
        return 0;
    }

    if (n != 3) {
        snprintf(err, errlen, "tenant_id, client_id and client_secret go "
                 "together (Entra ID client credentials); %s is missing",
                 tenant == NULL ? "tenant_id"
                 : id == NULL ? "client_id" : "client_secret");
        return -1;
    }

    if (!llm_azure_tenant_ok(tenant)) {
        snprintf(err, errlen, "tenant_id \"%.64s\" is not a tenant GUID "
                 "or domain name", tenant);
        return -1;
    }

    authority = llm_deployment_str(dep, "azure_authority_host");

    if (authority == NULL) {
        authority = (authority_env && authority_env[0]) ? authority_env
                                                        : LLM_ENTRA_AUTHORITY;
    }

    if (strncmp(authority, "https://", 8) != 0
        && strncmp(authority, "http://", 7) != 0)
    {
        snprintf(err, errlen, "the Entra ID authority \"%.128s\" is not an "
                 "http(s) URL", authority);
        return -1;
    }

    scope = llm_deployment_str(dep, "azure_scope");

    sa->type = LLM_ENTRA_CLIENT_SECRET;
    sa->provider = "azure";
    sa->token_uri = llm_azure_token_uri(authority, tenant);
    sa->client_id = strdup(id);
    sa->client_secret = strdup(secret);
    sa->scope = strdup(scope ? scope : LLM_ENTRA_SCOPE);

    if (sa->token_uri == NULL || sa->client_id == NULL
        || sa->client_secret == NULL || sa->scope == NULL)
    {
        llm_google_sa_free(sa);
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return 1;
}


int
llm_azure_entra_request(const llm_google_sa_t *sa, llm_buf_t *body)
{
    if (llm_buf_appends(body, "grant_type=client_credentials&client_id=")
        != 0
        || llm_oauth_form_value(body, sa->client_id) != 0
        || llm_buf_appends(body, "&client_secret=") != 0
        || llm_oauth_form_value(body, sa->client_secret) != 0
        || llm_buf_appends(body, "&scope=") != 0
        || llm_oauth_form_value(body, sa->scope) != 0)
    {
        return -1;
    }

    return 0;
}


/*
 * A GUID, or a domain such as contoso.onmicrosoft.com ("common" and
 * "organizations" too, which Entra refuses for this grant itself): it
 * goes into the token URL's path as it is
 */
static int
llm_azure_tenant_ok(const char *t)
{
    size_t  n;

    for (n = 0; t[n]; n++) {
        if (!((t[n] >= 'a' && t[n] <= 'z') || (t[n] >= 'A' && t[n] <= 'Z')
              || (t[n] >= '0' && t[n] <= '9') || t[n] == '-'
              || t[n] == '.' || t[n] == '_'))
        {
            return 0;
        }
    }

    return n > 0 && n <= 253 && t[0] != '.';
}


/* {authority}/{tenant}/oauth2/v2.0/token, one '/' between the parts */
static char *
llm_azure_token_uri(const char *authority, const char *tenant)
{
    char    *uri;
    size_t   alen, size;

    alen = strlen(authority);

    while (alen > 0 && authority[alen - 1] == '/') {
        alen--;
    }

    size = alen + strlen(tenant) + sizeof("//oauth2/v2.0/token");

    uri = malloc(size);
    if (uri == NULL) {
        return NULL;
    }

    snprintf(uri, size, "%.*s/%s/oauth2/v2.0/token", (int) alen, authority,
             tenant);

    return uri;
}
