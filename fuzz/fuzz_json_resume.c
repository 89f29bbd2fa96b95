/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the scan resumed from a checkpoint.  The input is
 * a key choice, a length and two texts: a document A, checkpointed at the
 * root member with the chosen key, and a suffix; B is A's bytes up to the
 * checkpoint followed by the suffix.  The scans of A and B, full and
 * resumed, must give what llm_json_scan() gives, field by field.
 *
 *   data[0]         the key: "choices", "id", "a", "", "usage", "x\\y"
 *   data[1 .. 2]    the length of A, little-endian, modulo what is left
 *   then            A, then the suffix
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_json.h"


static void fuzz_same(int rc, const llm_json_obj_t *a,
    const llm_json_tape_t *x, int rc2, const llm_json_obj_t *b,
    const llm_json_tape_t *y);
static void fuzz_check(const char *p, size_t len, const llm_json_ckpt_t *ck,
    const char *key, size_t key_len);


/* what a caller of a successful scan reads */
static void
fuzz_same(int rc, const llm_json_obj_t *a, const llm_json_tape_t *x, int rc2,
    const llm_json_obj_t *b, const llm_json_tape_t *y)
{
    uint32_t  k;

    if (rc != rc2) {
        abort();
    }

    if (rc != 0) {
        return;
    }

    if (a->start != b->start || a->end != b->end || a->n != b->n
        || a->escaped != b->escaped || a->space != b->space
        || memcmp(a->m, b->m, a->n * sizeof(llm_json_member_t)) != 0)
    {
        abort();
    }

    if (x->n != y->n || x->nm != y->nm || x->lost != y->lost
        || memcmp(x->owner, y->owner, x->nm) != 0
        || memcmp(x->m, y->m, x->nm * sizeof(llm_json_member_t)) != 0)
    {
        abort();
    }

    for (k = 0; k < x->n; k++) {
        if (x->start[k] != y->start[k] || x->end[k] != y->end[k]
            || x->first[k] != y->first[k])
        {
            abort();
        }
    }
}


/* p scanned in full, and with ck by both entry points */
static void
fuzz_check(const char *p, size_t len, const llm_json_ckpt_t *ck,
    const char *key, size_t key_len)
{
    int                     rc, rc2, resumed;
    static llm_json_obj_t   a, b;
    static llm_json_tape_t  x, y;
    static llm_json_ckpt_t  c;

    resumed = ck->valid && len > ck->off
              && memcmp(p, ck->prefix, ck->off) == 0;

    /* different garbage, so that a field left unwritten shows */
    memset(&a, 0x5a, sizeof(a));
    memset(&x, 0x5a, sizeof(x));
    rc = llm_json_scan(p, len, &a, &x);

    memset(&b, 0xa5, sizeof(b));
    memset(&y, 0xa5, sizeof(y));
    rc2 = llm_json_scan_resume(p, len, &b, &y, ck);
    fuzz_same(rc, &a, &x, rc2, &b, &y);

    c = *ck;
    memset(&b, 0x3c, sizeof(b));
    memset(&y, 0x3c, sizeof(y));
    rc2 = llm_json_scan_ckpt(p, len, &b, &y, key, key_len, &c);
    fuzz_same(rc, &a, &x, rc2, &b, &y);

    if (resumed && memcmp(&c, ck, sizeof(llm_json_ckpt_t)) != 0) {
        /* a resume leaves the checkpoint as it is */
        abort();
    }

    if (!resumed && c.valid
        && (rc != 0 || c.off > LLM_JSON_CKPT_PREFIX || p[c.off] != '"'
            || c.off + key_len + 2 > len
            || memcmp(p + c.off + 1, key, key_len) != 0
            || p[c.off + key_len + 1] != '"'
            || memcmp(c.prefix, p, c.off) != 0))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                    *a, *b;
    size_t                   alen, slen, klen;
    const char              *key;
    static llm_json_obj_t    o;
    static llm_json_ckpt_t   ck;
    static llm_json_tape_t   t;

    static const char  *keys[] = {
        "choices", "id", "a", "", "usage", "x\\\\y",
    };

    if (size < 3) {
        return 0;
    }

    key = keys[data[0] % (sizeof(keys) / sizeof(keys[0]))];
    klen = strlen(key);
    alen = (data[1] | ((size_t) data[2] << 8)) % (size - 3 + 1);
    slen = size - 3 - alen;

    /* exact sizes, so that ASan sees a read past either */
    a = malloc(alen ? alen : 1);
    if (a == NULL) {
        return 0;
    }

    memcpy(a, data + 3, alen);

    /* A without a checkpoint, then the one it leaves */
    memset(&ck, 0xee, sizeof(ck));
    ck.valid = 0;
    fuzz_check(a, alen, &ck, key, klen);

    memset(&ck, 0xee, sizeof(ck));
    ck.valid = 0;
    (void) llm_json_scan_ckpt(a, alen, &o, &t, key, klen, &ck);

    if (ck.valid) {
        fuzz_check(a, alen, &ck, key, klen);

        b = malloc(ck.off + slen);
        if (b != NULL) {
            memcpy(b, a, ck.off);
            memcpy(b + ck.off, data + 3 + alen, slen);
            fuzz_check(b, ck.off + slen, &ck, key, klen);
            free(b);
        }
    }

    free(a);

    return 0;
}
