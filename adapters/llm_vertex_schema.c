/*
 * Copyright (C) ngx_llm authors
 *
 * JSON Schema -> the Schema object of Vertex AI (an OpenAPI 3.0
 * subset), for responseSchema and functionDeclarations[].parameters.
 * Vertex refuses keywords it does not know ($schema,
 * additionalProperties, ...), so the schema is rebuilt from the
 * keywords it takes; "$ref"s into $defs/definitions are inlined, type
 * arrays and null branches become "nullable".
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_vertex.h"


/* deeper schemas (or $ref cycles) are cut off here */
#define LLM_VERTEX_SCHEMA_DEPTH  32

/* and so are schemas whose $refs expand past this many subschemas */
#define LLM_VERTEX_SCHEMA_NODES  4096


typedef struct {
    const cJSON  *root;
    int           budget;
} llm_vertex_sctx_t;


static cJSON *llm_vertex_schema_r(const cJSON *s, llm_vertex_sctx_t *cx,
    int depth);
static const cJSON *llm_vertex_ref(const cJSON *s, const cJSON *root);
static int llm_vertex_schema_type(cJSON *o, const cJSON *s);
static int llm_vertex_schema_scalars(cJSON *o, const cJSON *s);
static int llm_vertex_schema_props(cJSON *o, const cJSON *s,
    llm_vertex_sctx_t *cx, int depth);
static int llm_vertex_schema_anyof(cJSON *o, const cJSON *s,
    llm_vertex_sctx_t *cx, int depth);
static int llm_vertex_schema_enum(cJSON *o, const cJSON *s);
static int llm_vertex_is_null_type(const cJSON *s);


cJSON *
llm_vertex_schema(const cJSON *s, const cJSON *root)
{
    llm_vertex_sctx_t  cx;

    cx.root = root;
    cx.budget = LLM_VERTEX_SCHEMA_NODES;

    return llm_vertex_schema_r(s, &cx, 0);
}


/*
 * Vertex refuses an OBJECT parameters schema without properties: a
 * function without arguments is declared without "parameters".
 */
cJSON *
llm_vertex_parameters(const cJSON *params)
{
    cJSON  *p, *props;

    if (!cJSON_IsObject(params)) {
        return NULL;
    }

    p = llm_vertex_schema(params, params);
    if (p == NULL) {
        return NULL;
    }

    props = cJSON_GetObjectItemCaseSensitive(p, "properties");

    if (!cJSON_IsObject(props) || props->child == NULL) {
        cJSON_Delete(p);
        return NULL;
    }

    return p;
}


static cJSON *
llm_vertex_schema_r(const cJSON *s, llm_vertex_sctx_t *cx, int depth)
{
    int           rc;
    cJSON        *o;
    const cJSON  *items, *all;

    if (!cJSON_IsObject(s)) {
        return NULL;
    }

    o = cJSON_CreateObject();

    if (o == NULL || depth > LLM_VERTEX_SCHEMA_DEPTH || cx->budget <= 0) {
        return o;
    }

    cx->budget--;

    /* a $ref replaces its schema; siblings (description) are kept */
    if (cJSON_GetObjectItemCaseSensitive(s, "$ref")) {
        cJSON_Delete(o);

        o = llm_vertex_schema_r(llm_vertex_ref(s, cx->root), cx, depth + 1);
        if (o == NULL) {
            return cJSON_CreateObject();
        }

        if (llm_vertex_schema_scalars(o, s) != LLM_OK) {
            cJSON_Delete(o);
            return NULL;
        }

        return o;
    }

    /* allOf of one schema is that schema */
    all = cJSON_GetObjectItemCaseSensitive(s, "allOf");

    if (cJSON_GetArraySize(all) == 1
        && cJSON_GetObjectItemCaseSensitive(s, "type") == NULL)
    {
        cJSON_Delete(o);
        return llm_vertex_schema_r(all->child, cx, depth + 1);
    }

    rc = llm_vertex_schema_type(o, s)
         || llm_vertex_schema_scalars(o, s)
         || llm_vertex_schema_enum(o, s)
         || llm_vertex_schema_props(o, s, cx, depth)
         || llm_vertex_schema_anyof(o, s, cx, depth);

    if (rc == 0) {
        items = cJSON_GetObjectItemCaseSensitive(s, "items");

        /* tuple form: the first schema stands for all */
        if (cJSON_IsArray(items)) {
            items = items->child;
        }

        if (cJSON_IsObject(items)
            && llm_vertex_put(o, "items",
                              llm_vertex_schema_r(items, cx, depth + 1))
               != LLM_OK)
        {
            rc = -1;
        }
    }

    if (rc != 0) {
        cJSON_Delete(o);
        return NULL;
    }

    return o;
}


/* "#/$defs/Name" or "#/definitions/Name" in the root schema */
static const cJSON *
llm_vertex_ref(const cJSON *s, const cJSON *root)
{
    const char   *ref, *name;
    const cJSON  *defs;

    ref = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "$ref"));

    if (ref == NULL) {
        return NULL;
    }

    if (strncmp(ref, "#/$defs/", 8) == 0) {
        defs = cJSON_GetObjectItemCaseSensitive(root, "$defs");
        name = ref + 8;

    } else if (strncmp(ref, "#/definitions/", 14) == 0) {
        defs = cJSON_GetObjectItemCaseSensitive(root, "definitions");
        name = ref + 14;

    } else if (strcmp(ref, "#") == 0) {
        return root;

    } else {
        return NULL;
    }

    return cJSON_GetObjectItemCaseSensitive(defs, name);
}


/* "type": a name, or an array of names with "null" -> nullable */
static int
llm_vertex_schema_type(cJSON *o, const cJSON *s)
{
    int           nullable;
    const char   *first;
    const cJSON  *t, *v;

    t = cJSON_GetObjectItemCaseSensitive(s, "type");

    if (cJSON_IsString(t)) {
        if (strcmp(t->valuestring, "null") == 0) {
            return cJSON_AddTrueToObject(o, "nullable") ? 0 : -1;
        }

        return cJSON_AddStringToObject(o, "type", t->valuestring) ? 0 : -1;
    }

    if (!cJSON_IsArray(t)) {
        return 0;
    }

    nullable = 0;
    first = NULL;

    cJSON_ArrayForEach(v, t) {
        if (!cJSON_IsString(v)) {
            continue;
        }

        if (strcmp(v->valuestring, "null") == 0) {
            nullable = 1;

        } else if (first == NULL) {
            first = v->valuestring;
        }
    }

    if (first && cJSON_AddStringToObject(o, "type", first) == NULL) {
        return -1;
    }

    if (nullable && cJSON_AddTrueToObject(o, "nullable") == NULL) {
        return -1;
    }

    return 0;
}


/* keywords taken as they are */
static int
llm_vertex_schema_scalars(cJSON *o, const cJSON *s)
{
    static const char *const  keep[] = {
        "title", "description", "nullable", "default", "example",
        "minItems", "maxItems", "minLength", "maxLength", "pattern",
        "minimum", "maximum", "minProperties", "maxProperties",
        "propertyOrdering", NULL
    };

    static const char *const  formats[] = {
        "float", "double", "int32", "int64", "enum", "date-time", NULL
    };

    const cJSON        *v;
    const char *const  *k;

    for (k = keep; *k; k++) {
        v = cJSON_GetObjectItemCaseSensitive(s, *k);

        if (v == NULL || cJSON_GetObjectItemCaseSensitive(o, *k)) {
            continue;
        }

        if (llm_vertex_put(o, *k, cJSON_Duplicate(v, 1)) != LLM_OK) {
            return -1;
        }
    }

    /* other formats ("email", "uri") are refused by Vertex */
    v = cJSON_GetObjectItemCaseSensitive(s, "format");

    if (!cJSON_IsString(v) || cJSON_GetObjectItemCaseSensitive(o, "format")) {
        return 0;
    }

    for (k = formats; *k; k++) {
        if (strcmp(*k, v->valuestring) == 0) {
            return cJSON_AddStringToObject(o, "format", v->valuestring)
                   ? 0 : -1;
        }
    }

    return 0;
}


/* Vertex enums are strings; "const" is an enum of one */
static int
llm_vertex_schema_enum(cJSON *o, const cJSON *s)
{
    cJSON        *e;
    const cJSON  *v, *x;

    v = cJSON_GetObjectItemCaseSensitive(s, "enum");
    x = cJSON_GetObjectItemCaseSensitive(s, "const");

    if (!cJSON_IsArray(v) && !cJSON_IsString(x)) {
        return 0;
    }

    e = cJSON_CreateArray();
    if (e == NULL) {
        return -1;
    }

    if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(x, v) {
            if (cJSON_IsString(x)
                && !cJSON_AddItemToArray(e,
                                         cJSON_CreateString(x->valuestring)))
            {
                cJSON_Delete(e);
                return -1;
            }
        }

    } else if (!cJSON_AddItemToArray(e, cJSON_CreateString(x->valuestring))) {
        cJSON_Delete(e);
        return -1;
    }

    if (e->child == NULL) {
        cJSON_Delete(e);
        return 0;
    }

    if (cJSON_GetObjectItemCaseSensitive(o, "type") == NULL
        && cJSON_AddStringToObject(o, "type", "string") == NULL)
    {
        cJSON_Delete(e);
        return -1;
    }

    return llm_vertex_put(o, "enum", e) == LLM_OK ? 0 : -1;
}


static int
llm_vertex_schema_props(cJSON *o, const cJSON *s, llm_vertex_sctx_t *cx,
    int depth)
{
    cJSON        *props, *req;
    const cJSON  *p, *v;

    v = cJSON_GetObjectItemCaseSensitive(s, "properties");

    if (cJSON_IsObject(v)) {
        props = cJSON_AddObjectToObject(o, "properties");
        if (props == NULL) {
            return -1;
        }

        cJSON_ArrayForEach(p, v) {
            if (p->string && cJSON_IsObject(p)
                && llm_vertex_put(props, p->string,
                                  llm_vertex_schema_r(p, cx, depth + 1))
                   != LLM_OK)
            {
                return -1;
            }
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(s, "required");

    if (!cJSON_IsArray(v) || v->child == NULL) {
        return 0;
    }

    req = cJSON_AddArrayToObject(o, "required");
    if (req == NULL) {
        return -1;
    }

    cJSON_ArrayForEach(p, v) {
        if (cJSON_IsString(p)
            && !cJSON_AddItemToArray(req, cJSON_CreateString(p->valuestring)))
        {
            return -1;
        }
    }

    return 0;
}


/*
 * anyOf / oneOf -> anyOf; a {"type":"null"} branch becomes nullable,
 * and a single branch left is merged into the schema itself.
 */
static int
llm_vertex_schema_anyof(cJSON *o, const cJSON *s, llm_vertex_sctx_t *cx,
    int depth)
{
    cJSON        *any, *one, *item, *next;
    const cJSON  *v, *b;

    v = cJSON_GetObjectItemCaseSensitive(s, "anyOf");

    if (!cJSON_IsArray(v)) {
        v = cJSON_GetObjectItemCaseSensitive(s, "oneOf");
    }

    if (!cJSON_IsArray(v)) {
        return 0;
    }

    any = cJSON_CreateArray();
    if (any == NULL) {
        return -1;
    }

    cJSON_ArrayForEach(b, v) {
        if (llm_vertex_is_null_type(b)) {
            if (cJSON_GetObjectItemCaseSensitive(o, "nullable") == NULL
                && cJSON_AddTrueToObject(o, "nullable") == NULL)
            {
                cJSON_Delete(any);
                return -1;
            }

            continue;
        }

        one = llm_vertex_schema_r(b, cx, depth + 1);

        if (one == NULL || !cJSON_AddItemToArray(any, one)) {
            cJSON_Delete(one);
            cJSON_Delete(any);
            return -1;
        }
    }

    if (cJSON_GetArraySize(any) != 1) {
        if (any->child == NULL) {
            cJSON_Delete(any);
            return 0;
        }

        return llm_vertex_put(o, "anyOf", any) == LLM_OK ? 0 : -1;
    }

    /* the one branch's keywords join the schema, its own ones first */
    for (item = any->child->child; item; item = next) {
        next = item->next;

        if (cJSON_GetObjectItemCaseSensitive(o, item->string)) {
            continue;
        }

        cJSON_DetachItemViaPointer(any->child, item);
        cJSON_AddItemToObject(o, item->string, item);
    }

    cJSON_Delete(any);

    return 0;
}


static int
llm_vertex_is_null_type(const cJSON *s)
{
    const cJSON  *t;

    t = cJSON_GetObjectItemCaseSensitive(s, "type");

    return cJSON_IsString(t) && strcmp(t->valuestring, "null") == 0;
}
