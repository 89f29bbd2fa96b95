/*
 * Copyright (C) ngx_llm authors
 *
 * The hot-path JSON scanner and splicer (llm_json.h).
 *
 * What the scanner refuses although RFC 8259 allows it, and why: cJSON
 * (1.7.15) turns "\u0000" into the end of the string, reads at most 63
 * characters of a number, prints an overflowing number as null, and
 * nests at most 1000 deep.  A document the scanner accepts therefore
 * means the same to cJSON, and a splice of it equals, as JSON, what a
 * cJSON parse, edit and print would give.  It also refuses what cJSON
 * tolerates beyond the RFC (control bytes in strings, any byte up to
 * 0x20 as whitespace, a UTF-8 BOM, "01", "1.", "+1"), whose verbatim
 * copy would not be valid JSON.
 */


#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "llm_json.h"

/* the cold path out of line, so that the hot one needs fewer registers */
#if defined(__GNUC__)
#define LLM_JSON_NOINLINE  __attribute__((noinline))
#define LLM_JSON_INLINE    inline __attribute__((always_inline))
#else
#define LLM_JSON_NOINLINE
#define LLM_JSON_INLINE    inline
#endif

/* owner[] keeps a tape index in 7 bits; first[] an index into m or NONE */
#if (LLM_JSON_TAPE > 0x7f || LLM_JSON_TAPE_MEMBERS >= LLM_JSON_TAPE_NONE)
#error "llm_json_tape_t cannot index that many containers or members"
#endif

#if defined(__SSE2__)
#include <emmintrin.h>
#define LLM_JSON_SSE2  1
#else
#define LLM_JSON_SSE2  0
#endif


#define llm_json_ws(c)     (llm_json_space[(unsigned char) (c)])
#define llm_json_digit(c)  ((c) >= '0' && (c) <= '9')

/*
 * Eight string bytes at a time: whether a word holds a '"', a '\\' or,
 * when ctl is set, a byte below 0x20 (exact as a yes/no; Hacker's
 * Delight 6-1, "haszero" and "hasless").
 */
#define LLM_JSON_ONES   0x0101010101010101ULL
#define LLM_JSON_HIGHS  0x8080808080808080ULL

#define llm_json_zero(w)   (((w) - LLM_JSON_ONES) & ~(w) & LLM_JSON_HIGHS)
#define llm_json_stop(w, ctl)                                                \
    (llm_json_zero((w) ^ (LLM_JSON_ONES * '"'))                               \
     | llm_json_zero((w) ^ (LLM_JSON_ONES * '\\'))                            \
     | ((ctl) ? (((w) - LLM_JSON_ONES * 0x20) & ~(w) & LLM_JSON_HIGHS) : 0))


/* string bytes: 1 '"', 2 '\\', 4 a control byte, 0 anything else */
static const unsigned char  llm_json_str[256] = {
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0
    /* the rest is 0 */
};

/* whitespace between tokens: space, tab, LF, CR */
static const unsigned char  llm_json_space[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1
    /* the rest is 0 */
};

/* bytes that matter when skipping a container: " { } [ ] */
static const unsigned char  llm_json_struct[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0
};


static LLM_JSON_INLINE int llm_json_scan_at(const char *p, size_t len,
    llm_json_obj_t *o, llm_json_tape_t *tape, const llm_json_ckpt_t *from,
    llm_json_ckpt_t *ck, const char *key, size_t key_len);
static LLM_JSON_NOINLINE void llm_json_ckpt_save(llm_json_ckpt_t *ck,
    const char *p, size_t i, const llm_json_obj_t *o,
    const llm_json_tape_t *tape, unsigned space, uint32_t nm, uint32_t lost);
static LLM_JSON_INLINE void llm_json_ckpt_load(const llm_json_ckpt_t *ck,
    llm_json_obj_t *o, llm_json_tape_t *tape);
static LLM_JSON_INLINE size_t llm_json_plain(const char *p, size_t i,
    size_t end, int ctl);
static size_t llm_json_string(const char *p, size_t len, size_t i);
static int llm_json_hex4(const char *p, size_t len, size_t i, unsigned *u);
static LLM_JSON_INLINE size_t llm_json_num(const char *p, size_t len,
    size_t i);
static inline size_t llm_json_tape_find(const llm_json_tape_t *tape,
    size_t start);
static inline int llm_json_object_tape(const llm_json_tape_t *tape,
    size_t start, size_t end, llm_json_obj_t *o);
static LLM_JSON_NOINLINE int llm_json_object_walk(const char *p,
    const llm_json_tape_t *tape, size_t start, size_t end, llm_json_obj_t *o);
static int llm_json_skip_string(const char *p, size_t end, size_t *pos,
    unsigned *esc);
static LLM_JSON_NOINLINE size_t llm_json_skip_container(const char *p,
    size_t end, size_t i);
static inline int llm_json_skip(const char *p, const llm_json_tape_t *tape,
    size_t end, size_t *pos);
static int llm_json_copy(llm_json_splice_t *sp, llm_buf_t *out, size_t from,
    size_t to);
static int llm_json_append_str(llm_buf_t *b, const char *s, size_t n);
static int llm_json_splice_direct(llm_json_splice_t *sp, llm_buf_t *out);
static int llm_json_splice_append(llm_json_splice_t *sp, llm_buf_t *out);
static void llm_json_edit(llm_json_splice_t *sp, size_t off, size_t end,
    const char *key, size_t key_len, const char *val, size_t len, int str,
    int comma);


/*
 * c = p[i], the next byte that is not whitespace; -1 at the end.  Most
 * documents have no whitespace, so the loop is entered rarely.
 */
#define llm_json_next_byte()                                                 \
    if (i >= len) {                                                          \
        return -1;                                                           \
    }                                                                        \
    c = (unsigned char) p[i];                                                \
    if (llm_json_ws(c)) {                                                    \
        space = 1;                                                           \
        do {                                                                 \
            if (++i >= len) {                                                \
                return -1;                                                   \
            }                                                                \
            c = (unsigned char) p[i];                                        \
        } while (llm_json_ws(c));                                            \
    }


/* a string at p[i]: i past its closing quote, and esc set for an escape */
#define llm_json_scan_string(esc)                                            \
    k = llm_json_plain(p, i + 1, len, 1);                                    \
    if (k < len && p[k] == '"') {                                            \
        i = k + 1;                                                           \
    } else {                                                                 \
        /* an escape, or the string is bad */                               \
        i = llm_json_string(p, len, k);                                      \
        if (i == 0) {                                                        \
            return -1;                                                       \
        }                                                                    \
        esc = 1;                                                             \
    }


int
llm_json_scan(const char *p, size_t len, llm_json_obj_t *o,
    llm_json_tape_t *tape)
{
    return llm_json_scan_at(p, len, o, tape, NULL, NULL, NULL, 0);
}


int
llm_json_scan_ckpt(const char *p, size_t len, llm_json_obj_t *o,
    llm_json_tape_t *tape, const char *key, size_t key_len,
    llm_json_ckpt_t *ck)
{
    int  rc;

    if (o == NULL || tape == NULL) {
        ck->valid = 0;
        return llm_json_scan_at(p, len, o, tape, NULL, NULL, NULL, 0);
    }

    if (ck->valid && len > ck->off && memcmp(p, ck->prefix, ck->off) == 0) {
        return llm_json_scan_at(p, len, o, tape, ck, NULL, NULL, 0);
    }

    ck->off = 0;
    ck->valid = 0;

    rc = llm_json_scan_at(p, len, o, tape, NULL, ck, key, key_len);

    if (rc != 0) {
        ck->valid = 0;
    }

    return rc;
}


int
llm_json_scan_resume(const char *p, size_t len, llm_json_obj_t *o,
    llm_json_tape_t *tape, const llm_json_ckpt_t *ck)
{
    if (ck->valid && o && tape && len > ck->off
        && memcmp(p, ck->prefix, ck->off) == 0)
    {
        return llm_json_scan_at(p, len, o, tape, ck, NULL, NULL, 0);
    }

    return llm_json_scan_at(p, len, o, tape, NULL, NULL, NULL, 0);
}


/*
 * The scanner.  With from, it goes on from a checkpoint: the bytes before
 * from->off are those the checkpoint was taken on, and what the scan
 * found there depended on them alone (each token before a root member's
 * key ends before it, and the text's length only decides at its end), so
 * it would come to the key's quote in the state kept.  With ck, it keeps
 * that state at the root member ckey.  The public functions pass
 * constants: each copy has only the code it needs, and the plain scan is
 * what it was.
 */
static LLM_JSON_INLINE int
llm_json_scan_at(const char *p, size_t len, llm_json_obj_t *o,
    llm_json_tape_t *tape, const llm_json_ckpt_t *from, llm_json_ckpt_t *ck,
    const char *ckey, size_t ckey_len)
{
    size_t              i, k, key, kend, depth, d;
    uint32_t            t, nm, lost;
    unsigned            space, esc;
    unsigned char       c;
    llm_json_member_t  *m;
    unsigned char       stack[LLM_JSON_MAX_DEPTH];

    /*
     * of the containers open at depths up to LLM_JSON_TAPE_DEPTH: the
     * index on the tape (or LLM_JSON_TAPE), and of an object whose
     * members are recorded, the member whose value is being scanned
     */
    uint32_t            open[LLM_JSON_TAPE_DEPTH];
    llm_json_member_t  *cur[LLM_JSON_TAPE_DEPTH];

    /* offsets are kept in 32 bits */
    if (len >= UINT32_MAX) {
        return -1;
    }

    if (from) {
        /*
         * at the key's quote of a root member listed in o: the state
         * after the '{' or ',' before it, with the whitespace between
         * skipped (and in space), which goes on skipping any here; the
         * first member's may be a '}' here instead.  cur[0] is set
         * before it is read again.
         */
        llm_json_ckpt_load(from, o, tape);

        i = from->off;
        depth = 1;
        space = from->space;
        nm = from->nm;
        lost = from->lost;
        stack[0] = '{';
        open[0] = 0;

        if (from->n == 0) {
            goto object;
        }

        goto member;
    }

    i = 0;
    depth = 0;
    space = 0;
    nm = 0;
    lost = UINT32_MAX;

    if (tape) {
        tape->n = 0;
    }

    while (i < len && llm_json_ws(p[i])) {
        i++;
    }

    if (o) {
        if (i >= len || p[i] != '{') {
            return -1;
        }

        o->start = (uint32_t) i;
        o->n = 0;
        o->escaped = 0;
    }

value:

    /* at a value, whitespace before it not yet skipped */
    llm_json_next_byte();

value_c:

    /* c = p[i], the value's first byte */
    switch (c) {

    case '{':
    case '[':
        if (depth == LLM_JSON_MAX_DEPTH) {
            return -1;
        }

        if (depth < LLM_JSON_TAPE_DEPTH) {
            t = LLM_JSON_TAPE;

            if (tape && tape->n < LLM_JSON_TAPE) {
                t = tape->n++;
                tape->start[t] = (uint32_t) i;

                /* the root's members go to o */
                tape->first[t] = (c == '[' || (depth == 0 && o))
                                 ? LLM_JSON_TAPE_NONE : (uint8_t) nm;
            }

            open[depth] = t;
            cur[depth] = NULL;
        }

        stack[depth++] = c;
        i++;

        if (c == '[') {
            llm_json_next_byte();

            if (c == ']') {
                i++;
                depth--;
                goto close;
            }

            goto value_c;
        }

object:

        /* after '{', whitespace not yet skipped: a key or '}' */
        llm_json_next_byte();

        if (c == '}') {
            i++;
            depth--;
            goto close;
        }

        goto member_c;

    case '"':
        llm_json_scan_string(esc);
        goto next;

    case 't':
        if (len - i < 4 || memcmp(p + i, "true", 4) != 0) {
            return -1;
        }

        i += 4;
        goto next;

    case 'f':
        if (len - i < 5 || memcmp(p + i, "false", 5) != 0) {
            return -1;
        }

        i += 5;
        goto next;

    case 'n':
        if (len - i < 4 || memcmp(p + i, "null", 4) != 0) {
            return -1;
        }

        i += 4;
        goto next;

    default:
        i = llm_json_num(p, len, i);

        if (i == 0) {
            return -1;
        }

        /*
         * cJSON's number reader takes any of "0-9+-eE." that follow:
         * "01" is 1 to it; in a container the next byte is checked anyway
         */
        if (depth == 0 && i < len
            && (llm_json_digit(p[i]) || p[i] == '+' || p[i] == '-'
                || p[i] == 'e' || p[i] == 'E' || p[i] == '.'))
        {
            return -1;
        }

        goto next;
    }

member:

    /* at a key: after ',', whitespace not yet skipped */
    llm_json_next_byte();

member_c:

    /* c = p[i], where the key's quote should be */
    if (c != '"') {
        return -1;
    }

    /* the first root member written as ckey: "choices" of a chunk */
    if (ck && depth == 1 && ck->off == 0 && len - i > ckey_len + 1
        && p[i + ckey_len + 1] == '"'
        && memcmp(p + i + 1, ckey, ckey_len) == 0)
    {
        llm_json_ckpt_save(ck, p, i, o, tape, space, nm, lost);
    }

    key = i;
    esc = 0;

    llm_json_scan_string(esc);

    kend = i;

    /* most often the colon follows at once */
    if (i < len && p[i] == ':') {
        i++;

    } else {
        llm_json_next_byte();

        if (c != ':') {
            return -1;
        }

        i++;
    }

    llm_json_next_byte();

    /* the member of the object at stack[d], if it is recorded */
    d = depth - 1;

    if (d < LLM_JSON_TAPE_DEPTH) {

        if (d == 0 && o) {
            if (o->n == LLM_JSON_MAX_MEMBERS) {
                return -1;
            }

            m = &o->m[o->n++];
            m->key = (uint32_t) key;
            m->key_len = (uint32_t) (kend - key - 2);
            m->val = (uint32_t) i;
            o->escaped |= esc;
            cur[0] = m;

        } else if ((t = open[d]) < LLM_JSON_TAPE) {
            if (nm < LLM_JSON_TAPE_MEMBERS) {
                m = &tape->m[nm];
                m->key = (uint32_t) key;
                m->key_len = (uint32_t) (kend - key - 2);
                m->val = (uint32_t) i;
                tape->owner[nm++] = (uint8_t) (t | (esc << 7));
                cur[d] = m;

            } else {
                /* the store is full: objects ending past here are walked */
                if (lost == UINT32_MAX) {
                    lost = (uint32_t) key;
                }

                cur[d] = NULL;
            }
        }
    }

    goto value_c;

next:

    /* a value ends at i */
    if (depth == 0) {
        if (o) {
            o->end = (uint32_t) i;
            o->space = space;
        }

        if (tape) {
            tape->nm = nm;
            tape->lost = lost;
        }

        return 0;
    }

    if (depth <= LLM_JSON_TAPE_DEPTH && cur[depth - 1]) {
        cur[depth - 1]->val_end = (uint32_t) i;
    }

    llm_json_next_byte();

    if (stack[depth - 1] == '{') {
        if (c == ',') {
            i++;
            goto member;
        }

        if (c == '}') {
            i++;
            depth--;
            goto close;
        }

        return -1;
    }

    if (c == ',') {
        i++;
        goto value;
    }

    if (c == ']') {
        i++;
        depth--;
        goto close;
    }

    return -1;

close:

    /* a container ends at i */
    if (depth < LLM_JSON_TAPE_DEPTH && (t = open[depth]) < LLM_JSON_TAPE) {
        tape->end[t] = (uint32_t) i;
    }

    goto next;
}


/*
 * The state at p[i], the quote of a root member's key: o and tape as they
 * are then (the root's end on the tape is not known yet), and p[0] ..
 * p[i - 1], against which a later document is checked.
 */
static LLM_JSON_NOINLINE void
llm_json_ckpt_save(llm_json_ckpt_t *ck, const char *p, size_t i,
    const llm_json_obj_t *o, const llm_json_tape_t *tape, unsigned space,
    uint32_t nm, uint32_t lost)
{
    uint32_t  tn;

    ck->off = (uint32_t) i;
    tn = tape->n;

    if (i > LLM_JSON_CKPT_PREFIX || o->n > LLM_JSON_CKPT_MEMBERS
        || nm > LLM_JSON_CKPT_MEMBERS)
    {
        return;
    }

    ck->start = o->start;
    ck->n = o->n;
    ck->escaped = o->escaped;
    ck->space = space;
    ck->tn = tn;
    ck->nm = nm;
    ck->lost = lost;

    /* the root is the first container, still open; the others are closed */
    memcpy(ck->m, o->m, o->n * sizeof(llm_json_member_t));
    memcpy(ck->tstart + 1, tape->start + 1, (tn - 1) * sizeof(uint32_t));
    memcpy(ck->tend + 1, tape->end + 1, (tn - 1) * sizeof(uint32_t));
    memcpy(ck->first + 1, tape->first + 1, tn - 1);
    memcpy(ck->owner, tape->owner, nm);
    memcpy(ck->tm, tape->m, nm * sizeof(llm_json_member_t));
    memcpy(ck->prefix, p, i);

    ck->valid = 1;
}


static LLM_JSON_INLINE void
llm_json_ckpt_load(const llm_json_ckpt_t *ck, llm_json_obj_t *o,
    llm_json_tape_t *tape)
{
    uint32_t  tn, nm;

    tn = ck->tn;
    nm = ck->nm;

    o->start = ck->start;
    o->n = ck->n;
    o->escaped = ck->escaped;
    memcpy(o->m, ck->m, ck->n * sizeof(llm_json_member_t));

    /* the root, listed in o; most chunks have nothing else before */
    tape->n = tn;
    tape->start[0] = ck->start;
    tape->first[0] = LLM_JSON_TAPE_NONE;

    if (tn > 1) {
        memcpy(tape->start + 1, ck->tstart + 1, (tn - 1) * sizeof(uint32_t));
        memcpy(tape->end + 1, ck->tend + 1, (tn - 1) * sizeof(uint32_t));
        memcpy(tape->first + 1, ck->first + 1, tn - 1);
    }

    if (nm) {
        memcpy(tape->owner, ck->owner, nm);
        memcpy(tape->m, ck->tm, nm * sizeof(llm_json_member_t));
    }
}


#if (LLM_JSON_SSE2)

/*
 * Of sixteen string bytes, a bit for each '"', '\\' or (ctl) byte below
 * 0x20: a byte is below 0x20 when its unsigned minimum with 0x1f is
 * itself (a signed compare would take bytes from 0x80 on for negative)
 */
static LLM_JSON_INLINE unsigned
llm_json_stop16(const char *p, int ctl)
{
    __m128i  v, s;

    v = _mm_loadu_si128((const __m128i *) (const void *) p);
    s = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));

    if (ctl) {
        s = _mm_or_si128(s, _mm_cmpeq_epi8(_mm_min_epu8(v,
                                                _mm_set1_epi8(0x1f)), v));
    }

    return (unsigned) _mm_movemask_epi8(s);
}

#endif


/*
 * The first byte from i on that is '"', '\\' or (ctl) a control byte,
 * or end.  p[0] .. p[end - 1] may be read (bytes before i too), nothing
 * beyond.
 */
static LLM_JSON_INLINE size_t
llm_json_plain(const char *p, size_t i, size_t end, int ctl)
{
    uint64_t  w, stop;

#if (LLM_JSON_SSE2)
    unsigned  mask;

    /* most strings end in their first sixteen bytes */
    if (i + 16 <= end) {
        mask = llm_json_stop16(p + i, ctl);

        if (mask) {
            return i + __builtin_ctz(mask);
        }

        for (i += 16; i + 16 <= end; i += 16) {
            mask = llm_json_stop16(p + i, ctl);

            if (mask) {
                return i + __builtin_ctz(mask);
            }
        }
    }

    /* the last bytes: the sixteen that end at end, those before i off */
    if (i < end && end >= 16) {
        mask = llm_json_stop16(p + end - 16, ctl) >> (i + 16 - end);

        return mask ? i + __builtin_ctz(mask) : end;
    }
#endif

    while (i + 8 <= end) {
        memcpy(&w, p + i, 8);
        stop = llm_json_stop(w, ctl);

        if (stop) {
#if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
            /* the lowest flag is exact: a false one only follows a true */
            return i + (__builtin_ctzll(stop) >> 3);
#else
            break;
#endif
        }

        i += 8;
    }

    if (ctl) {
        while (i < end && llm_json_str[(unsigned char) p[i]] == 0) {
            i++;
        }

    } else {
        while (i < end && (llm_json_str[(unsigned char) p[i]] & 3) == 0) {
            i++;
        }
    }

    return i;
}


/*
 * The rest of a string from p[i], where llm_json_plain() stopped: the
 * offset past its closing quote, or 0 when it is bad.
 */
static size_t
llm_json_string(const char *p, size_t len, size_t i)
{
    unsigned        u, u2;
    unsigned char   c;

    for ( ;; ) {
        if (i >= len) {
            return 0;
        }

        c = (unsigned char) p[i];

        if (c == '"') {
            return i + 1;
        }

        if (c != '\\' || i + 1 >= len) {
            /* a control byte, or the text ends */
            return 0;
        }

        switch (p[i + 1]) {

        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            i = llm_json_plain(p, i + 2, len, 1);
            continue;

        case 'u':
            break;

        default:
            return 0;
        }

        /* cJSON ends the string at a NUL and refuses lone surrogates */
        if (llm_json_hex4(p, len, i + 2, &u) != 0 || u == 0
            || (u >= 0xdc00 && u <= 0xdfff))
        {
            return 0;
        }

        if (u < 0xd800 || u > 0xdbff) {
            i = llm_json_plain(p, i + 6, len, 1);
            continue;
        }

        if (i + 7 >= len || p[i + 6] != '\\' || p[i + 7] != 'u'
            || llm_json_hex4(p, len, i + 8, &u2) != 0
            || u2 < 0xdc00 || u2 > 0xdfff)
        {
            return 0;
        }

        i = llm_json_plain(p, i + 12, len, 1);
    }
}


static int
llm_json_hex4(const char *p, size_t len, size_t i, unsigned *u)
{
    size_t          k;
    unsigned        v;
    unsigned char   c;

    if (i + 4 > len) {
        return -1;
    }

    v = 0;

    for (k = i; k < i + 4; k++) {
        c = (unsigned char) p[k];

        if (c >= '0' && c <= '9') {
            v = v * 16 + (c - '0');

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            v = v * 16 + ((c | 0x20) - 'a' + 10);

        } else {
            return -1;
        }
    }

    *u = v;

    return 0;
}


/* the first byte from i on that is not a digit, or len */
static LLM_JSON_INLINE size_t
llm_json_digits(const char *p, size_t i, size_t len)
{
#if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    uint64_t  w, x;

    /*
     * eight at a time: a digit xor '0' is 0 .. 9, which plus 6 keeps the
     * high nibble 0; the lowest byte flagged is exact, as a carry only
     * goes up from a byte that is flagged itself
     */
    while (i + 8 <= len) {
        memcpy(&w, p + i, 8);
        w ^= LLM_JSON_ONES * '0';
        x = (w | (w + LLM_JSON_ONES * 6)) & (LLM_JSON_ONES * 0xf0);

        if (x) {
            return i + (__builtin_ctzll(x) >> 3);
        }

        i += 8;
    }
#endif

    while (i < len && llm_json_digit(p[i])) {
        i++;
    }

    return i;
}


/* the number at p[i]: the offset past it, or 0 when it is bad */
static LLM_JSON_INLINE size_t
llm_json_num(const char *p, size_t len, size_t i)
{
    int     neg;
    size_t  start, ints, e;

    start = i;

    if (p[i] == '-') {
        i++;
    }

    if (i >= len) {
        return 0;
    }

    ints = i;

    if (p[i] == '0') {
        i++;

    } else if (p[i] >= '1' && p[i] <= '9') {
        i = llm_json_digits(p, i + 1, len);

    } else {
        return 0;
    }

    ints = i - ints;

    if (i < len && p[i] == '.') {
        i++;

        if (i >= len || !llm_json_digit(p[i])) {
            return 0;
        }

        i = llm_json_digits(p, i + 1, len);
    }

    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        neg = 0;

        if (i < len && (p[i] == '+' || p[i] == '-')) {
            neg = (p[i] == '-');
            i++;
        }

        if (i >= len || !llm_json_digit(p[i])) {
            return 0;
        }

        e = 0;

        while (i < len && llm_json_digit(p[i])) {
            if (e < 100000) {
                e = e * 10 + (p[i] - '0');
            }

            i++;
        }

        /*
         * far from an overflow, which cJSON would print as null; an
         * underflow reads the same everywhere
         */
        if (!neg && e + ints > 300) {
            return 0;
        }
    }

    /* cJSON reads at most 63 characters of a number */
    if (i - start > 60) {
        return 0;
    }

    return i;
}


int
llm_json_object(const char *p, const llm_json_tape_t *tape, size_t start,
    size_t end, llm_json_obj_t *o)
{
    o->start = (uint32_t) start;
    o->end = (uint32_t) end;
    o->n = 0;
    o->escaped = 0;
    o->space = 0;

    if (end >= UINT32_MAX || end < start + 2 || p[start] != '{'
        || p[end - 1] != '}')
    {
        return -1;
    }

    /* the scan listed its members: a copy */
    if (tape && end <= tape->lost
        && llm_json_object_tape(tape, start, end, o) == 0)
    {
        return 0;
    }

    return llm_json_object_walk(p, tape, start, end, o);
}


/* the members of the object at start .. end - 1 as the scan listed them */
static inline int
llm_json_object_tape(const llm_json_tape_t *tape, size_t start, size_t end,
    llm_json_obj_t *o)
{
    size_t     t;
    uint32_t   n, j, nm;
    unsigned   esc, own;

    t = llm_json_tape_find(tape, start);

    if (t >= tape->n || tape->start[t] != start || tape->end[t] != end
        || (j = tape->first[t]) == LLM_JSON_TAPE_NONE)
    {
        return -1;
    }

    n = 0;
    esc = 0;
    nm = tape->nm;

    /* members of objects in this one are passed over */
    for ( ; j < nm && tape->m[j].key < end; j++) {
        own = tape->owner[j];

        if ((own & 0x7f) != t) {
            continue;
        }

        if (n == LLM_JSON_MAX_MEMBERS) {
            return -1;
        }

        o->m[n++] = tape->m[j];
        esc |= own;
    }

    o->n = n;
    o->escaped = esc >> 7;

    return 0;
}


/* the members of the object at start .. end - 1, from its bytes */
static LLM_JSON_NOINLINE int
llm_json_object_walk(const char *p, const llm_json_tape_t *tape,
    size_t start, size_t end, llm_json_obj_t *o)
{
    size_t              i, k;
    unsigned            esc;
    llm_json_member_t  *m;

    i = start + 1;

    while (i < end && llm_json_ws(p[i])) {
        i++;
    }

    if (i == end - 1) {
        return 0;
    }

    for ( ;; ) {
        if (i >= end || p[i] != '"') {
            return -1;
        }

        k = i;
        esc = 0;

        if (llm_json_skip_string(p, end, &i, &esc) != 0) {
            return -1;
        }

        if (o->n == LLM_JSON_MAX_MEMBERS) {
            return -1;
        }

        m = &o->m[o->n++];
        m->key = (uint32_t) k;
        m->key_len = (uint32_t) (i - k - 2);
        o->escaped |= esc;

        while (i < end && llm_json_ws(p[i])) {
            i++;
        }

        if (i >= end || p[i] != ':') {
            return -1;
        }

        i++;

        while (i < end && llm_json_ws(p[i])) {
            i++;
        }

        m->val = (uint32_t) i;

        if (llm_json_skip(p, tape, end, &i) != 0) {
            return -1;
        }

        m->val_end = (uint32_t) i;

        while (i < end && llm_json_ws(p[i])) {
            i++;
        }

        if (i >= end) {
            return -1;
        }

        if (p[i] == ',') {
            i++;

            while (i < end && llm_json_ws(p[i])) {
                i++;
            }

            continue;
        }

        return (p[i] == '}' && i == end - 1) ? 0 : -1;
    }
}


int
llm_json_array_next(const char *p, const llm_json_tape_t *tape, size_t start,
    size_t end, size_t *pos, size_t *val, size_t *val_end)
{
    size_t  i;

    if (end < start + 2 || p[start] != '[' || p[end - 1] != ']') {
        return -1;
    }

    i = *pos;

    if (i >= end) {
        return 0;
    }

    if (i == 0) {
        i = start + 1;

        while (i < end && llm_json_ws(p[i])) {
            i++;
        }

        if (i == end - 1) {
            *pos = end;
            return 0;
        }

    } else {
        /* past the last element: ',' or the closing ']' */
        while (i < end && llm_json_ws(p[i])) {
            i++;
        }

        if (i == end - 1) {
            *pos = end;
            return 0;
        }

        if (i >= end || p[i] != ',') {
            return -1;
        }

        i++;

        while (i < end && llm_json_ws(p[i])) {
            i++;
        }
    }

    *val = i;

    /* the closing ']' is no element's */
    if (llm_json_skip(p, tape, end - 1, &i) != 0) {
        return -1;
    }

    *val_end = i;
    *pos = i;

    return 1;
}


/*
 * The first container on the tape that starts at start or later (the
 * tape is in document order), or tape->n
 */
static inline size_t
llm_json_tape_find(const llm_json_tape_t *tape, size_t start)
{
    size_t  lo, hi, mid;

    lo = 0;
    hi = tape->n;

    while (lo < hi) {
        mid = (lo + hi) / 2;

        if (tape->start[mid] < start) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return lo;
}


/* a string of an accepted document: no validation, only the bounds */
static int
llm_json_skip_string(const char *p, size_t end, size_t *pos, unsigned *esc)
{
    size_t  i;

    i = *pos + 1;

    for ( ;; ) {
        i = llm_json_plain(p, i, end, 0);

        if (i >= end) {
            return -1;
        }

        if (p[i] == '"') {
            *pos = i + 1;
            return 0;
        }

        /* a backslash: the next byte is escaped */
        if (esc) {
            *esc = 1;
        }

        i += 2;
    }
}


/* past the container at p[i] of an accepted document, from its bytes */
static LLM_JSON_NOINLINE size_t
llm_json_skip_container(const char *p, size_t end, size_t i)
{
    size_t          depth;
    unsigned char   c;

    depth = 0;

    while (i < end) {
        c = (unsigned char) p[i];

        if (c == '"') {
            if (llm_json_skip_string(p, end, &i, NULL) != 0) {
                return 0;
            }

            continue;
        }

        if (c == '{' || c == '[') {
            depth++;

        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                return i + 1;
            }
        }

        i++;

        while (i < end && !llm_json_struct[(unsigned char) p[i]]) {
            i++;
        }
    }

    return 0;
}


static inline int
llm_json_skip(const char *p, const llm_json_tape_t *tape, size_t end,
    size_t *pos)
{
    size_t          i, lo;
    unsigned char   c;

    i = *pos;

    if (i >= end) {
        return -1;
    }

    c = (unsigned char) p[i];

    if (c == '"') {
        return llm_json_skip_string(p, end, pos, NULL);
    }

    if (c == '{' || c == '[') {

        /* the scan saw where it ends */
        if (tape) {
            lo = llm_json_tape_find(tape, i);

            if (lo < tape->n && tape->start[lo] == i
                && tape->end[lo] > i && tape->end[lo] <= end)
            {
                *pos = tape->end[lo];
                return 0;
            }
        }

        i = llm_json_skip_container(p, end, i);

        if (i == 0) {
            return -1;
        }

        *pos = i;

        return 0;
    }

    /* a number or a literal */
    while (i < end && p[i] != ',' && p[i] != '}' && p[i] != ']'
           && !llm_json_ws(p[i]))
    {
        i++;
    }

    if (i == *pos) {
        return -1;
    }

    *pos = i;

    return 0;
}


/*
 * Keys are short: a call to memcmp() costs more than the compare, which
 * is done a word at a time, the last word overlapping the one before;
 * no byte outside a[0] .. a[len - 1] and b[0] .. b[len - 1] is read.
 */
static inline int
llm_json_key_eq(const char *a, const char *b, size_t len)
{
    size_t    i;
    uint64_t  x, y;
    uint32_t  u, v;
    uint16_t  s, t;

    if (len >= 8) {
        for (i = 0; i + 8 < len; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);

            if (x != y) {
                return 0;
            }
        }

        memcpy(&x, a + len - 8, 8);
        memcpy(&y, b + len - 8, 8);

        return x == y;
    }

    if (len >= 4) {
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);

        if (u != v) {
            return 0;
        }

        memcpy(&u, a + len - 4, 4);
        memcpy(&v, b + len - 4, 4);

        return u == v;
    }

    if (len >= 2) {
        memcpy(&s, a, 2);
        memcpy(&t, b, 2);

        if (s != t) {
            return 0;
        }

        memcpy(&s, a + len - 2, 2);
        memcpy(&t, b + len - 2, 2);

        return s == t;
    }

    return len == 0 || a[0] == b[0];
}


const llm_json_member_t *
llm_json_get(const llm_json_obj_t *o, const char *p, const char *key,
    size_t len)
{
    uint32_t                  i;
    const llm_json_member_t  *m;

    for (i = 0; i < o->n; i++) {
        m = &o->m[i];

        if (m->key_len == len && llm_json_key_eq(p + m->key + 1, key, len)) {
            return m;
        }
    }

    return NULL;
}


int
llm_json_has_dups(const llm_json_obj_t *o, const char *p)
{
    uint32_t                  i, j;
    uint64_t                  seen, bit;
    const llm_json_member_t  *a, *b;

    /* only keys of a length seen before are compared */
    seen = 0;

    for (i = 0; i < o->n; i++) {
        a = &o->m[i];
        bit = (uint64_t) 1 << (a->key_len & 63);

        if (!(seen & bit)) {
            seen |= bit;
            continue;
        }

        for (j = 0; j < i; j++) {
            b = &o->m[j];

            if (a->key_len == b->key_len
                && llm_json_key_eq(p + a->key + 1, p + b->key + 1,
                                   a->key_len))
            {
                return 1;
            }
        }
    }

    return 0;
}


int
llm_json_case_variant(const llm_json_obj_t *o, const char *p,
    const char *key, size_t len)
{
    size_t                    k;
    uint32_t                  i;
    unsigned char             a, b;
    const llm_json_member_t  *m;

    for (i = 0; i < o->n; i++) {
        m = &o->m[i];

        if (m->key_len != len || llm_json_key_eq(p + m->key + 1, key, len)) {
            continue;
        }

        for (k = 0; k < len; k++) {
            a = (unsigned char) p[m->key + 1 + k];
            b = (unsigned char) key[k];

            if (a >= 'A' && a <= 'Z') {
                a |= 0x20;
            }

            if (b >= 'A' && b <= 'Z') {
                b |= 0x20;
            }

            if (a != b) {
                break;
            }
        }

        if (k == len) {
            return 1;
        }
    }

    return 0;
}


int
llm_json_append_min(llm_buf_t *b, const char *p, size_t n)
{
    char           *out;
    size_t          i, s;
    unsigned char   c;

    if (llm_buf_reserve(b, n + 1) != 0) {
        return -1;
    }

    out = b->data + b->len;
    i = 0;

    while (i < n) {
        c = (unsigned char) p[i];

        if (llm_json_ws(c)) {
            i++;
            continue;
        }

        if (c != '"') {
            *out++ = (char) c;
            i++;
            continue;
        }

        /* a string, as it is */
        s = i++;

        for ( ;; ) {
            i = llm_json_plain(p, i, n, 0);

            if (i >= n) {
                break;
            }

            if (p[i] == '"') {
                i++;
                break;
            }

            i += 2;
        }

        if (i > n) {
            i = n;
        }

        memcpy(out, p + s, i - s);
        out += i - s;
    }

    b->len = out - b->data;
    b->data[b->len] = '\0';

    return 0;
}


void
llm_json_splice_init(llm_json_splice_t *sp, const char *src,
    const llm_json_obj_t *root)
{
    sp->src = src;
    sp->start = root->start;
    sp->end = root->end;
    sp->space = root->space;
    sp->full = 0;
    sp->n = 0;
}


static void
llm_json_edit(llm_json_splice_t *sp, size_t off, size_t end,
    const char *key, size_t key_len, const char *val, size_t len, int str,
    int comma)
{
    llm_json_edit_t  *e;

    if (sp->n == LLM_JSON_MAX_EDITS) {
        sp->full = 1;
        return;
    }

    e = &sp->e[sp->n];

    e->off = (uint32_t) off;
    e->end = (uint32_t) end;
    e->seq = sp->n;
    e->comma = comma ? 1 : 0;
    e->str = str ? 1 : 0;
    e->key = key;
    e->key_len = key_len;
    e->val = val;
    e->val_len = len;

    sp->n++;
}


void
llm_json_replace(llm_json_splice_t *sp, size_t off, size_t end,
    const char *val, size_t len, int str)
{
    llm_json_edit(sp, off, end, NULL, 0, val, len, str, 0);
}


void
llm_json_add(llm_json_splice_t *sp, const llm_json_obj_t *o, size_t *count,
    const char *key, size_t key_len, const char *val, size_t len, int str)
{
    /* before the closing '}' */
    llm_json_edit(sp, o->end - 1, o->end - 1, key, key_len, val, len, str,
                  *count > 0);
    (*count)++;
}


size_t
llm_json_remove(llm_json_splice_t *sp, const llm_json_obj_t *o,
    uint64_t mask)
{
    size_t                    kept;
    uint32_t                  i;
    const llm_json_member_t  *m;

    kept = 0;

    for (i = 0; i < o->n; i++) {
        m = &o->m[i];

        if (i >= 64 || !(mask & ((uint64_t) 1 << i))) {
            kept++;
            continue;
        }

        /*
         * with a member kept before it, the comma before goes too;
         * else the comma after, if any: the spans never overlap
         */
        if (kept) {
            llm_json_edit(sp, m[-1].val_end, m->val_end, NULL, 0, NULL, 0,
                          0, 0);

        } else if (i + 1 < o->n) {
            llm_json_edit(sp, m->key, m[1].key, NULL, 0, NULL, 0, 0, 0);

        } else {
            llm_json_edit(sp, m->key, m->val_end, NULL, 0, NULL, 0, 0, 0);
        }
    }

    return kept;
}


void
llm_json_put(llm_json_splice_t *sp, const llm_json_obj_t *o,
    const llm_json_member_t *m, size_t *count, const char *key,
    size_t key_len, const char *val, size_t len, int str)
{
    if (m) {
        llm_json_replace(sp, m->val, m->val_end, val, len, str);

    } else {
        llm_json_add(sp, o, count, key, key_len, val, len, str);
    }
}


int
llm_json_splice(llm_json_splice_t *sp, llm_buf_t *out)
{
    int               direct;
    size_t            pos, i, j, need;
    llm_json_edit_t  *e, t;

    if (sp->full) {
        return -1;
    }

    /* few edits, mostly in order already: an insertion sort, stable */
    for (i = 1; i < sp->n; i++) {
        t = sp->e[i];

        for (j = i; j > 0 && sp->e[j - 1].off > t.off; j--) {
            sp->e[j] = sp->e[j - 1];
        }

        sp->e[j] = t;
    }

    /*
     * What the result needs, exactly when nothing is to be escaped or
     * minified: then it is written in place after one reservation
     */
    direct = !sp->space;
    need = sp->end - sp->start + 1;
    pos = sp->start;

    for (i = 0; i < sp->n; i++) {
        e = &sp->e[i];

        if (e->off < pos || e->end < e->off || e->end > sp->end) {
            return -1;
        }

        pos = e->end;
        need += e->comma;

        if (e->key) {
            need += e->key_len + 3;
            direct &= llm_json_plain(e->key, 0, e->key_len, 1) == e->key_len;
        }

        if (e->val) {
            need += e->val_len + 2 * e->str;
            direct &= !e->str
                      || llm_json_plain(e->val, 0, e->val_len, 1)
                         == e->val_len;
        }
    }

    if (llm_buf_reserve(out, need) != 0) {
        return -1;
    }

    return direct ? llm_json_splice_direct(sp, out)
                  : llm_json_splice_append(sp, out);
}


/* the edits applied where nothing is to be escaped: plain copies */
static int
llm_json_splice_direct(llm_json_splice_t *sp, llm_buf_t *out)
{
    char             *q;
    size_t            pos, i;
    llm_json_edit_t  *e;

    q = out->data + out->len;
    pos = sp->start;

    for (i = 0; i < sp->n; i++) {
        e = &sp->e[i];

        memcpy(q, sp->src + pos, e->off - pos);
        q += e->off - pos;

        if (e->comma) {
            *q++ = ',';
        }

        if (e->key) {
            *q++ = '"';
            memcpy(q, e->key, e->key_len);
            q += e->key_len;
            *q++ = '"';
            *q++ = ':';
        }

        if (e->val) {
            if (e->str) {
                *q++ = '"';
            }

            memcpy(q, e->val, e->val_len);
            q += e->val_len;

            if (e->str) {
                *q++ = '"';
            }
        }

        pos = e->end;
    }

    memcpy(q, sp->src + pos, sp->end - pos);
    q += sp->end - pos;
    *q = '\0';

    out->len = q - out->data;

    return 0;
}


static int
llm_json_splice_append(llm_json_splice_t *sp, llm_buf_t *out)
{
    size_t            pos, i;
    llm_json_edit_t  *e;

    pos = sp->start;

    for (i = 0; i < sp->n; i++) {
        e = &sp->e[i];

        if (llm_json_copy(sp, out, pos, e->off) != 0
            || (e->comma && llm_buf_append(out, ",", 1) != 0)
            || (e->key
                && (llm_json_append_str(out, e->key, e->key_len) != 0
                    || llm_buf_append(out, ":", 1) != 0))
            || (e->val
                && (e->str
                    ? llm_json_append_str(out, e->val, e->val_len)
                    : llm_buf_append(out, e->val, e->val_len)) != 0))
        {
            return -1;
        }

        pos = e->end;
    }

    return llm_json_copy(sp, out, pos, sp->end);
}


/* a string literal: copied as it is when nothing in it needs escaping */
static int
llm_json_append_str(llm_buf_t *b, const char *s, size_t n)
{
    if (llm_json_plain(s, 0, n, 1) < n) {
        return llm_buf_append_json_str(b, s, n);
    }

    if (llm_buf_reserve(b, n + 3) != 0) {
        return -1;
    }

    b->data[b->len] = '"';
    memcpy(b->data + b->len + 1, s, n);
    b->data[b->len + 1 + n] = '"';
    b->len += n + 2;
    b->data[b->len] = '\0';

    return 0;
}


static int
llm_json_copy(llm_json_splice_t *sp, llm_buf_t *out, size_t from, size_t to)
{
    if (from >= to) {
        return 0;
    }

    if (sp->space) {
        return llm_json_append_min(out, sp->src + from, to - from);
    }

    return llm_buf_append(out, sp->src + from, to - from);
}


double
llm_json_number(const char *p, size_t len)
{
    char     buf[64], *end;
    size_t   i;
    double   v;
    char     point;

    /* the common case, exact: a small non-negative integer */
    if (len > 0 && len <= 15) {
        v = 0;

        for (i = 0; i < len && llm_json_digit(p[i]); i++) {
            v = v * 10 + (p[i] - '0');
        }

        if (i == len) {
            return v;
        }
    }

    if (len == 0 || len >= sizeof(buf)
        || !(p[0] == '-' || llm_json_digit(p[0])))
    {
        return 0;
    }

    /* as cJSON does: strtod with the locale's decimal point */
    point = localeconv()->decimal_point[0];

    for (i = 0; i < len; i++) {
        buf[i] = (p[i] == '.') ? point : p[i];
    }

    buf[len] = '\0';

    v = strtod(buf, &end);

    return end == buf ? 0 : v;
}


const char *
llm_json_int(char *buf, long long n)
{
    char                *q;
    unsigned             d;
    unsigned long long   u;

    static const char    pairs[201] =
        "00010203040506070809101112131415161718192021222324"
        "25262728293031323334353637383940414243444546474849"
        "50515253545556575859606162636465666768697071727374"
        "75767778798081828384858687888990919293949596979899";

    q = buf + 23;
    *q = '\0';
    u = n < 0 ? 0 - (unsigned long long) n : (unsigned long long) n;

    /* two digits a step: a timestamp takes five */
    while (u >= 100) {
        d = (unsigned) (u % 100) * 2;
        u /= 100;
        *--q = pairs[d + 1];
        *--q = pairs[d];
    }

    if (u >= 10) {
        d = (unsigned) u * 2;
        *--q = pairs[d + 1];
        *--q = pairs[d];

    } else {
        *--q = (char) ('0' + u);
    }

    if (n < 0) {
        *--q = '-';
    }

    return q;
}
