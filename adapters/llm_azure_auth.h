/*
 * Copyright (C) ngx_llm authors
 *
 * Microsoft Entra ID client credentials for Azure OpenAI: LiteLLM's
 * tenant_id, client_id and client_secret in litellm_params.  The gateway
 * trades them for an access token at
 *
 *   POST {authority}/{tenant_id}/oauth2/v2.0/token
 *        grant_type=client_credentials&client_id=..&client_secret=..
 *        &scope=https%3A%2F%2Fcognitiveservices.azure.com%2F.default
 *
 * and sends "Authorization: Bearer <token>" to Azure
 * (../shared/providers/azure.md, "Auth headers").  The token is fetched
 * and cached by the same nginx glue as Vertex AI's (ngx_http_llm_auth.c);
 * this file only reads the credentials and builds the request body.
 */

#ifndef _LLM_AZURE_AUTH_H_INCLUDED_
#define _LLM_AZURE_AUTH_H_INCLUDED_


#include "llm_config.h"
#include "llm_google_auth.h"


#define LLM_ENTRA_AUTHORITY  "https://login.microsoftonline.com"
#define LLM_ENTRA_SCOPE      "https://cognitiveservices.azure.com/.default"


/*
 * The Entra ID credentials of an azure/ deployment, into sa (type
 * LLM_ENTRA_CLIENT_SECRET, token_uri, client_id, client_secret, scope).
 * authority: litellm_params.azure_authority_host, else the caller's
 * AZURE_AUTHORITY_HOST (may be NULL), else LLM_ENTRA_AUTHORITY; scope:
 * litellm_params.azure_scope, else LLM_ENTRA_SCOPE.
 *
 * Returns 1 with sa filled (free it with llm_google_sa_free()), 0 when the
 * deployment does not use them (an api_key or azure_ad_token wins, as in
 * LiteLLM; none of the three is set; or one comes from an unset variable,
 * which the adapter reports), or -1 with a message in err for credentials
 * that cannot work: only some of the three, a tenant that is not a GUID or
 * domain name, an authority that is not an http(s) URL.  Never quotes the
 * secret.
 */
int llm_azure_entra_load(const llm_deployment_t *dep,
    const char *authority_env, llm_google_sa_t *sa, char *err,
    size_t errlen);

/* the form body of the token request, appended to body: 0 or -1 */
int llm_azure_entra_request(const llm_google_sa_t *sa, llm_buf_t *body);


#endif /* _LLM_AZURE_AUTH_H_INCLUDED_ */
