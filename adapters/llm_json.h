/*
 * Copyright (C) ngx_llm authors
 *
 * A JSON scanner for the hot path: it finds the byte spans of the
 * members of an object without building a tree, and a splicer that
 * copies a document with some of those spans replaced, removed or
 * added to.  A body that passes through the gateway almost unchanged
 * (an OpenAI request, response or stream chunk) is then forwarded
 * without a cJSON parse and print.
 *
 * The scanner is strict (RFC 8259) and narrower still: it refuses
 * whatever cJSON would read differently from the text (\u0000, numbers
 * too long or too large for cJSON, a BOM, control bytes as whitespace),
 * so that a document it accepts is one that cJSON accepts too, with
 * the same values.  A caller that is refused falls back to cJSON.
 */

#ifndef _LLM_JSON_H_INCLUDED_
#define _LLM_JSON_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "llm_buf.h"


/* a fast path that does not apply: the caller takes the cJSON path */
#ifndef LLM_DECLINED
#define LLM_DECLINED          1
#endif

#define LLM_JSON_MAX_DEPTH    512
#define LLM_JSON_MAX_MEMBERS  48
#define LLM_JSON_MAX_EDITS    48
#define LLM_JSON_TAPE         32
#define LLM_JSON_TAPE_DEPTH   6
#define LLM_JSON_TAPE_MEMBERS 128
#define LLM_JSON_TAPE_NONE    0xff
#define LLM_JSON_CKPT_PREFIX  512
#define LLM_JSON_CKPT_MEMBERS 32


/* offsets into the scanned text */
typedef struct {
    uint32_t   key;         /* the key's opening quote */
    uint32_t   key_len;     /* bytes between the quotes, as written */
    uint32_t   val;         /* the value's first byte */
    uint32_t   val_end;     /* just past the value */
} llm_json_member_t;


typedef struct {
    uint32_t            start;      /* '{' */
    uint32_t            end;        /* just past '}' */
    uint32_t            n;
    unsigned            escaped:1;  /* a key has an escape */
    unsigned            space:1;    /* the document has whitespace */
    llm_json_member_t   m[LLM_JSON_MAX_MEMBERS];
} llm_json_obj_t;


/*
 * Where the containers of a scanned document end, so that skipping one
 * later is a lookup rather than another pass over its bytes: the first
 * LLM_JSON_TAPE containers no deeper than LLM_JSON_TAPE_DEPTH, in
 * document order.
 *
 * And the members of those that are objects, the first
 * LLM_JSON_TAPE_MEMBERS of them in document order, so that
 * llm_json_object() on one is a copy rather than a walk: m[k] is a
 * member of the object owner[k] & 0x7f on the tape (0x80: its key has
 * an escape).  An object's members are among m[first[t]] .. m[nm - 1];
 * first[t] is LLM_JSON_TAPE_NONE for an array and for the root when the
 * scan lists it in o.  Objects that end after the key of the first
 * member not stored (lost) are walked.  The scan writes only what it
 * records: nothing is zeroed.
 */
typedef struct {
    uint32_t            n;
    uint32_t            start[LLM_JSON_TAPE];    /* '{' or '[' */
    uint32_t            end[LLM_JSON_TAPE];      /* just past its closer */
    uint8_t             first[LLM_JSON_TAPE];    /* index into m */
    uint32_t            nm;                      /* members stored */
    uint32_t            lost;                    /* or UINT32_MAX */
    uint8_t             owner[LLM_JSON_TAPE_MEMBERS];
    llm_json_member_t   m[LLM_JSON_TAPE_MEMBERS];
} llm_json_tape_t;


/*
 * Checks the JSON value at p: leading whitespace is skipped and bytes
 * after the value are ignored, as cJSON_ParseWithLength() does.  When
 * the value is an object and o is not NULL, its members are listed in
 * o, and when tape is not NULL, its containers there (and the members
 * of the objects among them).  Returns 0, or -1 for a text that is not
 * JSON, not JSON this scanner vouches for, not an object while o is
 * given, or an object with more members than o holds.
 */
int llm_json_scan(const char *p, size_t len, llm_json_obj_t *o,
    llm_json_tape_t *tape);

/*
 * The scanner's state at a member of the root object, where it meets the
 * key's opening quote, and the bytes before it: a later document that
 * begins with the same bytes is scanned from there, as the chunks of one
 * stream share everything before "choices".  Bounded: a member further
 * than LLM_JSON_CKPT_PREFIX bytes in, or after more than
 * LLM_JSON_CKPT_MEMBERS members of the root or on the tape, gets none.
 */
typedef struct {
    uint32_t            off;        /* the key's quote; 0: none met */
    uint32_t            start;      /* o->start */
    uint32_t            n;          /* o->n */
    uint32_t            tn;         /* tape->n */
    uint32_t            nm;         /* the members stored on the tape */
    uint32_t            lost;
    unsigned            valid:1;
    unsigned            escaped:1;  /* o->escaped */
    unsigned            space:1;
    llm_json_member_t   m[LLM_JSON_CKPT_MEMBERS];       /* o->m */

    /* the tape but its first container, the root, which is still open */
    uint32_t            tstart[LLM_JSON_TAPE];
    uint32_t            tend[LLM_JSON_TAPE];
    uint8_t             first[LLM_JSON_TAPE];
    uint8_t             owner[LLM_JSON_CKPT_MEMBERS];
    llm_json_member_t   tm[LLM_JSON_CKPT_MEMBERS];
    char                prefix[LLM_JSON_CKPT_PREFIX];  /* p[0] .. p[off-1] */
} llm_json_ckpt_t;

/*
 * llm_json_scan() with o and tape, resumed from ck when ck is valid, p is
 * longer than ck->off and begins with ck->prefix.  Otherwise a full scan
 * that leaves in ck the state at the first member of the root whose key
 * is written exactly as key (ck->valid is 0 when there is none, when the
 * scan fails or the state is out of bounds).  Either way the result, o
 * and tape are what llm_json_scan() gives.
 */
int llm_json_scan_ckpt(const char *p, size_t len, llm_json_obj_t *o,
    llm_json_tape_t *tape, const char *key, size_t key_len,
    llm_json_ckpt_t *ck);

/* llm_json_scan(), resumed from ck if it can be; ck is left as it is */
int llm_json_scan_resume(const char *p, size_t len, llm_json_obj_t *o,
    llm_json_tape_t *tape, const llm_json_ckpt_t *ck);

/*
 * Lists the members of the object at p[start] .. p[end - 1] of a
 * document llm_json_scan() accepted, with its tape or NULL: an object
 * whose members the tape holds is not read again.  Safe on any bytes:
 * -1 when they are not an object, or one with too many members.
 */
int llm_json_object(const char *p, const llm_json_tape_t *tape,
    size_t start, size_t end, llm_json_obj_t *o);

/*
 * Steps through the array at p[start] .. p[end - 1] of an accepted
 * document: *pos starts at 0; returns 1 with the next element's span,
 * 0 at the end, -1 on bytes that are not an array.
 */
int llm_json_array_next(const char *p, const llm_json_tape_t *tape,
    size_t start, size_t end, size_t *pos, size_t *val, size_t *val_end);

/* the first member whose key is, byte for byte, key; or NULL */
const llm_json_member_t *llm_json_get(const llm_json_obj_t *o,
    const char *p, const char *key, size_t len);

/* whether two members have the same key */
int llm_json_has_dups(const llm_json_obj_t *o, const char *p);

/*
 * Whether member m's key is, byte for byte, key: with a constant len the
 * compiler turns the memcmp() into one or two loads, so a caller looking
 * for several keys classifies each member once by its length.
 */
#define llm_json_key_is(m, p, s, n)                                          \
    ((m)->key_len == (n) && memcmp((p) + (m)->key + 1, s, n) == 0)

/*
 * Sets *slot to m, the member named by the key a caller looks for; -1
 * if *slot was set before: the key appears twice, and which of the two
 * counts would depend on the reader.
 */
#define llm_json_take(slot, m)                                               \
    (*(slot) != NULL ? -1 : ((*(slot) = (m)), 0))

/*
 * whether a key equals key ignoring ASCII case but not exactly, which
 * cJSON_GetObjectItem() and cJSON_HasObjectItem() would match
 */
int llm_json_case_variant(const llm_json_obj_t *o, const char *p,
    const char *key, size_t len);

/*
 * appends p[0] .. p[n - 1] of an accepted document without whitespace
 * between tokens; p[0] must not be inside a string
 */
int llm_json_append_min(llm_buf_t *b, const char *p, size_t n);


/*
 * The splicer.  Edits refer to the source by offset; they may not
 * overlap, and those at one offset are applied in the order made.
 * Text is referenced, not copied: it must live until llm_json_splice().
 */

typedef struct {
    uint32_t      off;          /* where the edit applies */
    uint32_t      end;          /* end of the span replaced; off: insert */
    uint32_t      seq;
    unsigned      comma:1;      /* starts with ',' */
    unsigned      str:1;        /* the value is a string to quote */
    const char   *key;          /* a member name to quote, or NULL */
    size_t        key_len;
    const char   *val;          /* JSON text, or a string when str */
    size_t        val_len;
} llm_json_edit_t;


typedef struct {
    const char        *src;
    uint32_t           start;       /* the span of src emitted */
    uint32_t           end;
    unsigned           space:1;     /* whitespace to drop */
    unsigned           full:1;      /* an edit did not fit */
    uint32_t           n;
    llm_json_edit_t    e[LLM_JSON_MAX_EDITS];
} llm_json_splice_t;


void llm_json_splice_init(llm_json_splice_t *sp, const char *src,
    const llm_json_obj_t *root);

/* replaces the span p[off] .. p[end - 1] by JSON text, or a quoted string */
void llm_json_replace(llm_json_splice_t *sp, size_t off, size_t end,
    const char *val, size_t len, int str);

/*
 * adds "key":val at the end of object o; *count is how many members o
 * will have before this one (for the comma) and is incremented
 */
void llm_json_add(llm_json_splice_t *sp, const llm_json_obj_t *o,
    size_t *count, const char *key, size_t key_len, const char *val,
    size_t len, int str);

/*
 * removes the members of o whose bit is set in mask (members 0 .. 63);
 * returns how many members o keeps
 */
size_t llm_json_remove(llm_json_splice_t *sp, const llm_json_obj_t *o,
    uint64_t mask);

/*
 * replaces the value of member m, or (m NULL) adds "key":val at the end,
 * as an llm_put() on a cJSON object does with the member it finds
 */
void llm_json_put(llm_json_splice_t *sp, const llm_json_obj_t *o,
    const llm_json_member_t *m, size_t *count, const char *key,
    size_t key_len, const char *val, size_t len, int str);

/* appends the edited span to out: 0, -1 out of memory or bad edits */
int llm_json_splice(llm_json_splice_t *sp, llm_buf_t *out);


/* a JSON number's text as cJSON reads it (strtod); 0 if not a number */
double llm_json_number(const char *p, size_t len);

/* n in decimal into buf[24], as cJSON prints an integral number */
const char *llm_json_int(char *buf, long long n);


#endif /* _LLM_JSON_H_INCLUDED_ */
