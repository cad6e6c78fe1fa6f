/* charset.c — body text to UTF-8 through iconv (GMime's charset names and iconv cache), with
 * the repairs a mail reader needs for undeclared and mislabelled text (see charset.h). */
#include "adapters/mail/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "adapters/mail/parse.h"
#include "gateway/base/text.h"

enum kind { KIND_UTF8, KIND_LATIN, KIND_ICONV };

/* Labels read as their superset, the way browsers do, or that glibc does not know. */
static const struct {
    const char *label;
    const char *iconv;
} aliases[] = {
    {"us-ascii", NULL},
    {"ascii", NULL},
    {"ansi_x3.4-1968", NULL},
    {"iso-8859-1", NULL},
    {"iso8859-1", NULL},
    {"iso_8859-1", NULL},
    {"latin1", NULL},
    {"l1", NULL},
    {"windows-1252", NULL},
    {"cp1252", NULL},
    {"x-cp1252", NULL},
    {"gb2312", "GB18030"},
    {"gbk", "GB18030"},
    {"x-gbk", "GB18030"},
    {"gb_2312-80", "GB18030"},
    {"x-gb2312", "GB18030"},
    {"euc-cn", "GB18030"},
    {"cp936", "GB18030"},
    {"shift_jis", "CP932"},
    {"shift-jis", "CP932"},
    {"x-sjis", "CP932"},
    {"sjis", "CP932"},
    {"ms_kanji", "CP932"},
    {"windows-31j", "CP932"},
    {"cp932", "CP932"},
    {"euc-kr", "CP949"},
    {"ks_c_5601-1987", "CP949"},
    {"ks_c_5601", "CP949"},
    {"windows-949", "CP949"},
    {"unicode-1-1-utf-7", "UTF-7"},
    {"utf-7", "UTF-7"},
    {"x-utf-7", "UTF-7"},
    {"iso-8859-9", "CP1254"},
    {"latin5", "CP1254"},
    {"iso-8859-11", "CP874"},
    {"tis-620", "CP874"},
    {"big5", "BIG5-HKSCS"},
    {"iso-8859-8-i", "ISO-8859-8"},
};

static enum kind classify(const char *charset, const char **iconv_name)
{
    *iconv_name = NULL;
    if (charset == NULL || charset[0] == '\0' || strlen(charset) > 64)
        return KIND_UTF8;
    if (strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0 ||
        strcasecmp(charset, "x-unknown") == 0 || strcasecmp(charset, "unknown-8bit") == 0)
        return KIND_UTF8;
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcasecmp(charset, aliases[i].label) == 0) {
            *iconv_name = aliases[i].iconv;
            return aliases[i].iconv == NULL ? KIND_LATIN : KIND_ICONV;
        }
    }
    *iconv_name = g_mime_charset_iconv_name(charset);
    return *iconv_name != NULL ? KIND_ICONV : KIND_UTF8;
}

static void add_cp1252(struct gw_mail_buf *b, const unsigned char *in, size_t n)
{
    for (size_t i = 0; i < n && !b->cut && !b->failed; i++) {
        if (in[i] < 0x80)
            gw_mail_buf_add(b, (const char *)in + i, 1);
        else
            gw_mail_buf_add_cp(b, gw_mail_cp1252(in[i]));
    }
}

/* UTF-8 with every ill-formed byte as U+FFFD; counts those bytes. */
static size_t add_utf8_lossy(struct gw_mail_buf *b, const unsigned char *in, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n && !b->cut && !b->failed;) {
        uint32_t cp;
        size_t k = gw_text_utf8_next(in + i, n - i, &cp);
        if (k == 0) {
            gw_mail_buf_add_cp(b, 0xFFFD);
            bad++;
            i++;
        } else {
            gw_mail_buf_add(b, (const char *)in + i, k);
            i += k;
        }
    }
    return bad;
}

/* Ill-formed bytes in in[0..n) and well-formed multi-byte sequences. */
static void utf8_census(const unsigned char *in, size_t n, size_t *bad, size_t *multi)
{
    *bad = *multi = 0;
    for (size_t i = 0; i < n;) {
        if (in[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = gw_text_utf8_next(in + i, n - i, &cp);
        if (k == 0) {
            (*bad)++;
            i++;
        } else {
            (*multi)++;
            i += k;
        }
    }
}

/* Through iconv, every byte it refuses as U+FFFD; returns the bytes refused, or SIZE_MAX when
 * iconv cannot convert from that charset at all. */
static size_t add_iconv(struct gw_mail_buf *b, const char *from, const unsigned char *in, size_t n)
{
    iconv_t cd = g_mime_iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return SIZE_MAX;
    size_t bad = 0;
    char *ip = (char *)(uintptr_t)in;
    size_t il = n;
    char out[4096];
    /* Each turn consumes input or empties a full output buffer: 2n + 2 turns are plenty. */
    for (size_t turn = 0; turn < 2 * n + 2 && !b->cut && !b->failed; turn++) {
        char *op = out;
        size_t ol = sizeof(out);
        size_t r = il > 0 ? iconv(cd, &ip, &il, &op, &ol) : iconv(cd, NULL, NULL, &op, &ol);
        int e = errno;
        gw_mail_buf_add(b, out, (size_t)(op - out));
        if (r != (size_t)-1) {
            if (il == 0)
                break; /* the last turn flushed the shift state */
            continue;
        }
        if (e == E2BIG)
            continue;
        if ((e == EILSEQ || e == EINVAL) && il > 0) {
            gw_mail_buf_add_cp(b, 0xFFFD);
            bad++;
            ip++;
            il--;
            continue;
        }
        break;
    }
    g_mime_iconv_close(cd);
    return bad;
}

/* Moves the text of src to b (both valid UTF-8). */
static void take_from(struct gw_mail_buf *b, struct gw_mail_buf *src)
{
    if (src->failed)
        b->failed = true;
    else if (src->len > 0)
        gw_mail_buf_add(b, src->p, src->len);
    if (src->cut)
        b->cut = true;
    gw_mail_buf_free(src);
}

/* UTF-16 and UTF-32 text can look like UTF-8 (ASCII with NULs between): never second-guessed. */
static bool wide(const char *name)
{
    return strncasecmp(name, "utf-16", 6) == 0 || strncasecmp(name, "utf-32", 6) == 0 ||
           strncasecmp(name, "ucs-", 4) == 0 || strncasecmp(name, "unicode", 7) == 0 ||
           strncasecmp(name, "utf16", 5) == 0 || strncasecmp(name, "utf32", 5) == 0;
}

enum gw_mail_decoded gw_mail_charset_decode(struct gw_mail_buf *b, const char *charset,
                                            const unsigned char *in, size_t n)
{
    if (n == 0)
        return GW_MAIL_DECODED_DECLARED;
    gw_mail_init(); /* GMime's charset tables and iconv cache */
    const char *name;
    enum kind kind = classify(charset, &name);
    size_t bad, multi;
    utf8_census(in, n, &bad, &multi);

    /* UTF-8 labelled as something else is common; text really in a legacy charset is almost
     * never well-formed UTF-8 once it has a byte above 0x7F (its high bytes would all have to
     * pair up as lead and continuation bytes). */
    if (kind != KIND_UTF8 && bad == 0 && multi > 0 && (kind == KIND_LATIN || !wide(name))) {
        gw_mail_buf_add(b, (const char *)in, n);
        return GW_MAIL_DECODED_UTF8;
    }
    if (kind == KIND_LATIN) {
        add_cp1252(b, in, n);
        return GW_MAIL_DECODED_DECLARED;
    }
    if (kind == KIND_ICONV) {
        /* Into a side buffer first: a failed attempt must leave b untouched. */
        struct gw_mail_buf tmp;
        gw_mail_buf_init(&tmp, b->max - b->len);
        size_t refused = add_iconv(&tmp, name, in, n);
        if (refused == 0) {
            take_from(b, &tmp);
            return GW_MAIL_DECODED_DECLARED;
        }
        if (refused != SIZE_MAX && refused <= 2 + n / 100) {
            take_from(b, &tmp);
            return GW_MAIL_DECODED_LOSSY;
        }
        gw_mail_buf_free(&tmp);
        if (refused != SIZE_MAX) {
            if (bad == 0 && !wide(name)) {
                gw_mail_buf_add(b, (const char *)in, n);
                return GW_MAIL_DECODED_UTF8;
            }
            add_cp1252(b, in, n);
            return GW_MAIL_DECODED_CP1252;
        }
        /* A label iconv does not know: as if none had been declared. */
    }
    /* UTF-8, declared or assumed. */
    if (bad == 0) {
        gw_mail_buf_add(b, (const char *)in, n);
        return GW_MAIL_DECODED_DECLARED;
    }
    /* A few stray bytes in real UTF-8 (a cut character, a pasted Latin-1 word) stay UTF-8;
     * Latin-1 text has next to no well-formed sequences. */
    if (multi > 0 && bad <= multi) {
        add_utf8_lossy(b, in, n);
        return GW_MAIL_DECODED_LOSSY;
    }
    add_cp1252(b, in, n);
    return GW_MAIL_DECODED_CP1252;
}
