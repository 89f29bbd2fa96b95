/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the hot-path JSON scanner and splicer.  What
 * the scanner accepts, cJSON must read with the same value; the light
 * lister must agree with the strict scanner; and a splice that removes
 * members (chosen by the input), replaces one and adds one must give
 * what the same edits on a cJSON tree give.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <float.h>

#include <cjson/cJSON.h>

#include "llm_json.h"


static int fuzz_same(const cJSON *x, const cJSON *y);
static void fuzz_members(const char *p, size_t size, const llm_json_obj_t *o,
    const cJSON *tree);
static void fuzz_tape(const char *p, size_t size);
static void fuzz_splice(const char *p, const llm_json_obj_t *o,
    const cJSON *tree, uint64_t mask);


/* the same value, member order and duplicates included */
static int
fuzz_same(const cJSON *x, const cJSON *y)
{
    double        m;
    const cJSON  *a, *b;

    if ((x->type & 0xff) != (y->type & 0xff)
        || (x->string == NULL) != (y->string == NULL)
        || (x->string && strcmp(x->string, y->string) != 0))
    {
        return 0;
    }

    switch (x->type & 0xff) {

    case cJSON_Number:
        m = fabs(x->valuedouble) > fabs(y->valuedouble)
            ? fabs(x->valuedouble) : fabs(y->valuedouble);
        return fabs(x->valuedouble - y->valuedouble) <= m * DBL_EPSILON;

    case cJSON_String:
        return strcmp(x->valuestring, y->valuestring) == 0;

    case cJSON_Array:
    case cJSON_Object:
        for (a = x->child, b = y->child; a && b; a = a->next, b = b->next) {
            if (!fuzz_same(a, b)) {
                return 0;
            }
        }

        return a == NULL && b == NULL;

    default:
        return 1;
    }
}


static void
fuzz_members(const char *p, size_t size, const llm_json_obj_t *o,
    const cJSON *tree)
{
    int              rc;
    size_t           pos, v, ve, ev, eve;
    uint32_t         i;
    const cJSON     *c, *e;
    llm_json_obj_t   l;

    if (llm_json_object(p, NULL, o->start, o->end, &l) != 0 || l.n != o->n
        || memcmp(l.m, o->m, o->n * sizeof(llm_json_member_t)) != 0)
    {
        abort();
    }

    for (i = 0, c = tree->child; i < o->n; i++, c = c->next) {
        if (c == NULL) {
            abort();
        }

        v = o->m[i].val;
        ve = o->m[i].val_end;

        /* the value's first byte tells its type */
        if ((p[v] == '{') != cJSON_IsObject(c)
            || (p[v] == '[') != cJSON_IsArray(c)
            || (p[v] == '"') != cJSON_IsString(c))
        {
            abort();
        }

        if (p[v] == '{') {
            if (llm_json_object(p, NULL, v, ve, &l) != 0) {
                /* only more members than fit is a reason */
                if (cJSON_GetArraySize(c) <= LLM_JSON_MAX_MEMBERS) {
                    abort();
                }
            }

        } else if (p[v] == '[') {
            pos = 0;
            e = c->child;

            while ((rc = llm_json_array_next(p, NULL, v, ve, &pos, &ev, &eve))
                   == 1)
            {
                if (e == NULL || (p[ev] == '{') != cJSON_IsObject(e)) {
                    abort();
                }

                e = e->next;
            }

            if (rc != 0 || e != NULL) {
                abort();
            }

        } else if (p[v] == '-' || (p[v] >= '0' && p[v] <= '9')) {
            /* strtod on the same characters: the same double */
            if (llm_json_number(p + v, ve - v) != c->valuedouble) {
                abort();
            }
        }
    }

    if (c != NULL) {
        abort();
    }

    (void) size;
}


/* every span on the tape is one container; skipping with it agrees */
static void
fuzz_tape(const char *p, size_t size)
{
    int              rc, rc2;
    size_t           pos, pos2, v, ve, v2, ve2;
    uint32_t         k;
    llm_json_obj_t   a, b;
    llm_json_tape_t  tape;

    if (llm_json_scan(p, size, NULL, &tape) != 0) {
        abort();
    }

    for (k = 0; k < tape.n; k++) {
        if (tape.end[k] <= tape.start[k] || tape.end[k] > size
            || (k && tape.start[k] <= tape.start[k - 1]))
        {
            abort();
        }

        if (p[tape.start[k]] == '{') {
            rc = llm_json_object(p, NULL, tape.start[k], tape.end[k], &a);
            rc2 = llm_json_object(p, &tape, tape.start[k], tape.end[k], &b);

            if (rc != rc2
                || (rc == -1 && a.n < LLM_JSON_MAX_MEMBERS)
                || (rc == 0
                    && (a.n != b.n
                        || memcmp(a.m, b.m, a.n * sizeof(llm_json_member_t))
                           != 0)))
            {
                abort();
            }

            continue;
        }

        if (p[tape.start[k]] != '[') {
            abort();
        }

        pos = 0;
        pos2 = 0;

        while ((rc = llm_json_array_next(p, NULL, tape.start[k], tape.end[k],
                                         &pos, &v, &ve))
               == 1)
        {
            if (llm_json_array_next(p, &tape, tape.start[k], tape.end[k],
                                    &pos2, &v2, &ve2) != 1
                || v != v2 || ve != ve2)
            {
                abort();
            }
        }

        if (rc != 0
            || llm_json_array_next(p, &tape, tape.start[k], tape.end[k],
                                   &pos2, &v2, &ve2) != 0)
        {
            abort();
        }
    }
}


static void
fuzz_splice(const char *p, const llm_json_obj_t *o, const cJSON *tree,
    uint64_t mask)
{
    int                 rc;
    char                num[24];
    cJSON              *want, *got, *c, *v, *next;
    const char         *n;
    size_t              count, edits;
    uint32_t            i, first;
    llm_buf_t           out;
    llm_json_splice_t   sp;

    want = cJSON_Duplicate(tree, 1);
    if (want == NULL) {
        return;
    }

    llm_json_splice_init(&sp, p, o);

    /* the first member kept gets a new value */
    first = o->n;

    for (i = 0; i < o->n && i < 64; i++) {
        if (!(mask & ((uint64_t) 1 << i))) {
            first = i;
            break;
        }
    }

    count = llm_json_remove(&sp, o, mask);

    if (first < o->n) {
        llm_json_replace(&sp, o->m[first].val, o->m[first].val_end,
                         "x\"\n", 3, 1);
    }

    n = llm_json_int(num, -(long long) (mask & 0xffffffff));
    llm_json_add(&sp, o, &count, "added", 5, n, strlen(n), 0);
    llm_json_add(&sp, o, &count, "k\"", 2, "s\\", 2, 1);

    /* the same on the tree */
    for (i = 0, c = want->child; c; i++, c = next) {
        next = c->next;

        if (i < 64 && (mask & ((uint64_t) 1 << i))) {
            cJSON_Delete(cJSON_DetachItemViaPointer(want, c));

        } else if (i == first) {
            /* a replacement via pointer does not take the name over */
            v = cJSON_CreateString("x\"\n");
            v->string = strdup(c->string);
            cJSON_ReplaceItemViaPointer(want, c, v);
        }
    }

    cJSON_AddItemToObject(want, "added",
                          cJSON_CreateNumber(-(double) (mask & 0xffffffff)));
    cJSON_AddItemToObject(want, "k\"", cJSON_CreateString("s\\"));

    memset(&out, 0, sizeof(llm_buf_t));
    rc = llm_json_splice(&sp, &out);

    /* one edit per member removed, the replacement, the two added */
    for (i = 0, edits = 2 + (first < o->n); i < o->n && i < 64; i++) {
        edits += (mask >> i) & 1;
    }

    if (rc != (edits > LLM_JSON_MAX_EDITS ? -1 : 0)) {
        abort();
    }

    if (rc != 0) {
        cJSON_Delete(want);
        llm_buf_free(&out);
        return;
    }

    got = cJSON_Parse(out.data);

    if (got == NULL || !fuzz_same(got, want)
        || llm_json_scan(out.data, out.len, NULL, NULL) != 0)
    {
        abort();
    }

    cJSON_Delete(got);
    cJSON_Delete(want);
    llm_buf_free(&out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc;
    cJSON           *a, *b;
    size_t           i;
    uint64_t         mask;
    llm_buf_t        min;
    const char      *p, *end;
    llm_json_obj_t   o;

    p = (const char *) data;

    rc = llm_json_scan(p, size, NULL, NULL);

    if (rc == 0) {
        a = cJSON_ParseWithLengthOpts(p, size, &end, 0);

        /* accepted here: cJSON accepts it too */
        if (a == NULL) {
            abort();
        }

        for (i = 0; p[i] == ' ' || p[i] == '\t' || p[i] == '\n'
                    || p[i] == '\r'; i++)
        {
            /* void */
        }

        memset(&min, 0, sizeof(llm_buf_t));

        if (llm_json_append_min(&min, p + i, end - (p + i)) != 0) {
            abort();
        }

        /* and reads it, minified, as the same value */
        b = cJSON_ParseWithLength(min.data, min.len);

        if (b == NULL || !fuzz_same(a, b)) {
            abort();
        }

        cJSON_Delete(b);
        llm_buf_free(&min);

        fuzz_tape(p, size);

        if (llm_json_scan(p, size, &o, NULL) == 0) {
            fuzz_members(p, size, &o, a);

            mask = 0;

            for (i = 0; i < 8 && i < size; i++) {
                mask = (mask << 8) | data[size - 1 - i];
            }

            fuzz_splice(p, &o, a, mask);
        }

        cJSON_Delete(a);

    } else if (llm_json_scan(p, size, &o, NULL) == 0) {
        /* an object is accepted only if the text is */
        abort();
    }

    return 0;
}
