/* html_text.c — HTML mail bodies to plain text (see html_text.h). A single forward scan with no
 * tree: mail HTML is too often broken for a strict parser, and a reader only needs the words,
 * the line breaks and the links. */
#include "adapters/mail/html_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "gateway/base/text.h"

#define HREF_MAX    2048 /* longer link targets are left out: no reader follows them anyway */
#define NAME_MAX_   16   /* tag and attribute names kept for comparison */
#define QUOTE_SHOWN 8    /* "> " levels written at most */

/* The HTML 4 entities and &apos;, sorted by name (strcmp order) for bsearch. */
static const struct entity {
    const char *name;
    uint32_t cp;
} entities[] = {
    {"AElig", 0xC6},     {"Aacute", 0xC1},   {"Acirc", 0xC2},     {"Agrave", 0xC0},
    {"Alpha", 0x391},    {"Aring", 0xC5},    {"Atilde", 0xC3},    {"Auml", 0xC4},
    {"Beta", 0x392},     {"Ccedil", 0xC7},   {"Chi", 0x3A7},      {"Dagger", 0x2021},
    {"Delta", 0x394},    {"ETH", 0xD0},      {"Eacute", 0xC9},    {"Ecirc", 0xCA},
    {"Egrave", 0xC8},    {"Epsilon", 0x395}, {"Eta", 0x397},      {"Euml", 0xCB},
    {"Gamma", 0x393},    {"Iacute", 0xCD},   {"Icirc", 0xCE},     {"Igrave", 0xCC},
    {"Iota", 0x399},     {"Iuml", 0xCF},     {"Kappa", 0x39A},    {"Lambda", 0x39B},
    {"Mu", 0x39C},       {"Ntilde", 0xD1},   {"Nu", 0x39D},       {"OElig", 0x152},
    {"Oacute", 0xD3},    {"Ocirc", 0xD4},    {"Ograve", 0xD2},    {"Omega", 0x3A9},
    {"Omicron", 0x39F},  {"Oslash", 0xD8},   {"Otilde", 0xD5},    {"Ouml", 0xD6},
    {"Phi", 0x3A6},      {"Pi", 0x3A0},      {"Prime", 0x2033},   {"Psi", 0x3A8},
    {"Rho", 0x3A1},      {"Scaron", 0x160},  {"Sigma", 0x3A3},    {"THORN", 0xDE},
    {"Tau", 0x3A4},      {"Theta", 0x398},   {"Uacute", 0xDA},    {"Ucirc", 0xDB},
    {"Ugrave", 0xD9},    {"Upsilon", 0x3A5}, {"Uuml", 0xDC},      {"Xi", 0x39E},
    {"Yacute", 0xDD},    {"Yuml", 0x178},    {"Zeta", 0x396},     {"aacute", 0xE1},
    {"acirc", 0xE2},     {"acute", 0xB4},    {"aelig", 0xE6},     {"agrave", 0xE0},
    {"alefsym", 0x2135}, {"alpha", 0x3B1},   {"amp", 0x26},       {"and", 0x2227},
    {"ang", 0x2220},     {"apos", 0x27},     {"aring", 0xE5},     {"asymp", 0x2248},
    {"atilde", 0xE3},    {"auml", 0xE4},     {"bdquo", 0x201E},   {"beta", 0x3B2},
    {"brvbar", 0xA6},    {"bull", 0x2022},   {"cap", 0x2229},     {"ccedil", 0xE7},
    {"cedil", 0xB8},     {"cent", 0xA2},     {"chi", 0x3C7},      {"circ", 0x2C6},
    {"clubs", 0x2663},   {"cong", 0x2245},   {"copy", 0xA9},      {"crarr", 0x21B5},
    {"cup", 0x222A},     {"curren", 0xA4},   {"dArr", 0x21D3},    {"dagger", 0x2020},
    {"darr", 0x2193},    {"deg", 0xB0},      {"delta", 0x3B4},    {"diams", 0x2666},
    {"divide", 0xF7},    {"eacute", 0xE9},   {"ecirc", 0xEA},     {"egrave", 0xE8},
    {"empty", 0x2205},   {"emsp", 0x2003},   {"ensp", 0x2002},    {"epsilon", 0x3B5},
    {"equiv", 0x2261},   {"eta", 0x3B7},     {"eth", 0xF0},       {"euml", 0xEB},
    {"euro", 0x20AC},    {"exist", 0x2203},  {"fnof", 0x192},     {"forall", 0x2200},
    {"frac12", 0xBD},    {"frac14", 0xBC},   {"frac34", 0xBE},    {"frasl", 0x2044},
    {"gamma", 0x3B3},    {"ge", 0x2265},     {"gt", 0x3E},        {"hArr", 0x21D4},
    {"harr", 0x2194},    {"hearts", 0x2665}, {"hellip", 0x2026},  {"iacute", 0xED},
    {"icirc", 0xEE},     {"iexcl", 0xA1},    {"igrave", 0xEC},    {"image", 0x2111},
    {"infin", 0x221E},   {"int", 0x222B},    {"iota", 0x3B9},     {"iquest", 0xBF},
    {"isin", 0x2208},    {"iuml", 0xEF},     {"kappa", 0x3BA},    {"lArr", 0x21D0},
    {"lambda", 0x3BB},   {"lang", 0x2329},   {"laquo", 0xAB},     {"larr", 0x2190},
    {"lceil", 0x2308},   {"ldquo", 0x201C},  {"le", 0x2264},      {"lfloor", 0x230A},
    {"lowast", 0x2217},  {"loz", 0x25CA},    {"lrm", 0x200E},     {"lsaquo", 0x2039},
    {"lsquo", 0x2018},   {"lt", 0x3C},       {"macr", 0xAF},      {"mdash", 0x2014},
    {"micro", 0xB5},     {"middot", 0xB7},   {"minus", 0x2212},   {"mu", 0x3BC},
    {"nabla", 0x2207},   {"nbsp", 0xA0},     {"ndash", 0x2013},   {"ne", 0x2260},
    {"ni", 0x220B},      {"not", 0xAC},      {"notin", 0x2209},   {"nsub", 0x2284},
    {"ntilde", 0xF1},    {"nu", 0x3BD},      {"oacute", 0xF3},    {"ocirc", 0xF4},
    {"oelig", 0x153},    {"ograve", 0xF2},   {"oline", 0x203E},   {"omega", 0x3C9},
    {"omicron", 0x3BF},  {"oplus", 0x2295},  {"or", 0x2228},      {"ordf", 0xAA},
    {"ordm", 0xBA},      {"oslash", 0xF8},   {"otilde", 0xF5},    {"otimes", 0x2297},
    {"ouml", 0xF6},      {"para", 0xB6},     {"part", 0x2202},    {"permil", 0x2030},
    {"perp", 0x22A5},    {"phi", 0x3C6},     {"pi", 0x3C0},       {"piv", 0x3D6},
    {"plusmn", 0xB1},    {"pound", 0xA3},    {"prime", 0x2032},   {"prod", 0x220F},
    {"prop", 0x221D},    {"psi", 0x3C8},     {"quot", 0x22},      {"rArr", 0x21D2},
    {"radic", 0x221A},   {"rang", 0x232A},   {"raquo", 0xBB},     {"rarr", 0x2192},
    {"rceil", 0x2309},   {"rdquo", 0x201D},  {"real", 0x211C},    {"reg", 0xAE},
    {"rfloor", 0x230B},  {"rho", 0x3C1},     {"rlm", 0x200F},     {"rsaquo", 0x203A},
    {"rsquo", 0x2019},   {"sbquo", 0x201A},  {"scaron", 0x161},   {"sdot", 0x22C5},
    {"sect", 0xA7},      {"shy", 0xAD},      {"sigma", 0x3C3},    {"sigmaf", 0x3C2},
    {"sim", 0x223C},     {"spades", 0x2660}, {"sub", 0x2282},     {"sube", 0x2286},
    {"sum", 0x2211},     {"sup", 0x2283},    {"sup1", 0xB9},      {"sup2", 0xB2},
    {"sup3", 0xB3},      {"supe", 0x2287},   {"szlig", 0xDF},     {"tau", 0x3C4},
    {"there4", 0x2234},  {"theta", 0x3B8},   {"thetasym", 0x3D1}, {"thinsp", 0x2009},
    {"thorn", 0xFE},     {"tilde", 0x2DC},   {"times", 0xD7},     {"trade", 0x2122},
    {"uArr", 0x21D1},    {"uacute", 0xFA},   {"uarr", 0x2191},    {"ucirc", 0xFB},
    {"ugrave", 0xF9},    {"uml", 0xA8},      {"upsih", 0x3D2},    {"upsilon", 0x3C5},
    {"uuml", 0xFC},      {"weierp", 0x2118}, {"xi", 0x3BE},       {"yacute", 0xFD},
    {"yen", 0xA5},       {"yuml", 0xFF},     {"zeta", 0x3B6},     {"zwj", 0x200D},
    {"zwnj", 0x200C},
};

struct html {
    const char *s;
    size_t n;
    size_t i;
    struct gw_mail_buf *b;
    int nl;     /* line breaks at the end of the output; 2 at the start: no leading breaks */
    bool space; /* a space is due before the next visible character */
    int quote;  /* <blockquote> depth */
    int pre;    /* <pre> depth */
    bool head;  /* inside <head> */
    bool in_link;
    size_t link_at; /* where the link's text starts in the output */
    char href[HREF_MAX + 1];
};

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int by_name(const void *key, const void *elem)
{
    return strcmp(key, ((const struct entity *)elem)->name);
}

/* s[i] is '&': the code point of the entity there and the bytes it spans; 0 when it is none. */
static size_t entity_at(const char *s, size_t n, size_t i, uint32_t *cp)
{
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
        j++;
        bool hex = j < n && (s[j] == 'x' || s[j] == 'X');
        if (hex)
            j++;
        uint32_t v = 0;
        size_t digits = 0;
        for (; j < n; j++) {
            int d = hex ? hex_value(s[j]) : (is_digit(s[j]) ? s[j] - '0' : -1);
            if (d < 0)
                break;
            if (++digits <= 8)
                v = v * (hex ? 16u : 10u) + (uint32_t)d;
            else
                v = 0x110000; /* absurdly long: not a character */
        }
        if (digits == 0)
            return 0;
        if (j < n && s[j] == ';')
            j++;
        if (v >= 0x80 && v <= 0x9F) /* what HTML does with these: Windows-1252 */
            v = gw_mail_cp1252((unsigned char)v);
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        *cp = v;
        return j - i;
    }
    char name[12];
    size_t k = 0;
    while (j < n && k < sizeof(name) - 1 && (is_alpha(s[j]) || is_digit(s[j])))
        name[k++] = s[j++];
    name[k] = '\0';
    if (k == 0 || k > 8)
        return 0;
    const struct entity *e = bsearch(name, entities, sizeof(entities) / sizeof(entities[0]),
                                     sizeof(entities[0]), by_name);
    if (e == NULL)
        return 0;
    if (j < n && s[j] == ';') {
        j++;
    } else {
        /* Without ';' only the few that old mail writes that way. */
        static const char *const legacy[] = {"amp", "lt", "gt", "quot", "nbsp", "copy", "reg"};
        bool ok = false;
        for (size_t l = 0; l < sizeof(legacy) / sizeof(legacy[0]); l++)
            ok = ok || strcmp(name, legacy[l]) == 0;
        if (!ok)
            return 0;
    }
    *cp = e->cp;
    return j - i;
}

/* ---- output */

static void add(struct html *h, const char *s, size_t n)
{
    gw_mail_buf_add(h->b, s, n);
}

/* Writes one visible character (a UTF-8 sequence), with the quote prefix at a line start or
 * the pending space. */
static void put(struct html *h, const char *u, size_t k)
{
    if (h->nl > 0) {
        if (h->quote > 0) {
            for (int q = 0; q < h->quote && q < QUOTE_SHOWN; q++)
                add(h, ">", 1);
            add(h, " ", 1);
        }
    } else if (h->space) {
        add(h, " ", 1);
    }
    add(h, u, k);
    h->nl = 0;
    h->space = false;
}

static void put_str(struct html *h, const char *s)
{
    for (size_t i = 0; s[i] != '\0'; i++)
        put(h, s + i, 1);
}

static void put_cp(struct html *h, uint32_t cp)
{
    struct gw_mail_buf one;
    gw_mail_buf_init(&one, 4);
    gw_mail_buf_add_cp(&one, cp);
    if (one.p != NULL)
        put(h, one.p, one.len);
    else
        h->b->failed = true;
    gw_mail_buf_free(&one);
}

static void space(struct html *h)
{
    if (h->nl == 0)
        h->space = true;
}

/* One line break; never more than one blank line in a row. */
static void newline(struct html *h)
{
    if (h->nl >= 2)
        return;
    if (h->nl > 0 && h->quote > 0) /* an empty quoted line keeps the quote in one piece */
        for (int q = 0; q < h->quote && q < QUOTE_SHOWN; q++)
            add(h, ">", 1);
    add(h, "\n", 1);
    h->nl++;
    h->space = false;
}

/* At least `lines` line breaks at the end of the output: 1 ends the line, 2 a paragraph. */
static void brk(struct html *h, int lines)
{
    for (int k = 0; k < 2 && h->nl < lines; k++)
        newline(h);
}

static bool starts_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool absolute_url(const char *u)
{
    return starts_ci(u, "http://") || starts_ci(u, "https://") || starts_ci(u, "mailto:") ||
           starts_ci(u, "ftp://");
}

static void end_link(struct html *h)
{
    if (!h->in_link)
        return;
    h->in_link = false;
    if (h->b->p == NULL || h->link_at > h->b->len || h->b->cut)
        return;
    const char *t = h->b->p + h->link_at;
    size_t tl = h->b->len - h->link_at;
    while (tl > 0 && (is_ws(*t) || *t == '>')) {
        t++;
        tl--;
    }
    while (tl > 0 && is_ws(t[tl - 1]))
        tl--;
    const char *url = h->href;
    const char *shown = starts_ci(url, "mailto:") ? url + 7 : url;
    size_t ul = strlen(url), sl = strlen(shown);
    if (tl == 0) {
        put_str(h, url);
        return;
    }
    /* A link whose text already is its target says nothing more in brackets. */
    if ((tl == ul && strncasecmp(t, url, ul) == 0) || (tl == sl && strncasecmp(t, shown, sl) == 0))
        return;
    if (ul > 1 && url[ul - 1] == '/' && tl == ul - 1 && strncasecmp(t, url, tl) == 0)
        return;
    space(h);
    put_str(h, "(");
    put_str(h, url);
    put_str(h, ")");
}

/* ---- tags */

/* The index of the first case-insensitive `needle` in s[from..n), or n. */
static size_t find_ci(const char *s, size_t n, size_t from, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = from; i + nl <= n; i++)
        if (strncasecmp(s + i, needle, nl) == 0)
            return i;
    return n;
}

static bool one_of(const char *name, const char *const *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

#define ONE_OF(name, list) one_of((name), (list), sizeof(list) / sizeof((list)[0]))

static const char *const paragraph_tags[] = {
    "p",  "h1",    "h2",  "h3",      "h4",     "h5",       "h6",   "ul",     "ol",
    "dl", "table", "pre", "address", "center", "fieldset", "form", "figure", "blockquote",
};
static const char *const line_tags[] = {
    "div", "tr",    "li",   "dt",      "dd",      "section", "article",    "header", "footer",
    "nav", "aside", "main", "caption", "details", "summary", "figcaption", "option", "legend",
};
/* Elements whose content is never shown: skipped up to their end tag. */
static const char *const raw_tags[] = {"script", "style", "title", "template", "xml"};

static void on_tag(struct html *h, const char *name, bool end, bool self_closing)
{
    if (strcmp(name, "head") == 0) {
        h->head = !end;
        return;
    }
    if (strcmp(name, "body") == 0) {
        h->head = false;
        return;
    }
    if (h->head)
        return;
    if (strcmp(name, "br") == 0) {
        newline(h);
        return;
    }
    if (strcmp(name, "hr") == 0) {
        brk(h, 1);
        put_str(h, "---");
        brk(h, 1);
        return;
    }
    if (strcmp(name, "a") == 0) {
        if (end)
            end_link(h);
        return;
    }
    if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0) {
        space(h);
        return;
    }
    if (strcmp(name, "blockquote") == 0) {
        if (!end) {
            brk(h, 2);
            if (h->quote < 1000)
                h->quote++;
        } else {
            brk(h, 1);
            if (h->quote > 0)
                h->quote--;
            brk(h, 2);
        }
        return;
    }
    if (strcmp(name, "pre") == 0) {
        brk(h, 2);
        if (!end && !self_closing && h->pre < 1000)
            h->pre++;
        else if (end && h->pre > 0)
            h->pre--;
        return;
    }
    if (ONE_OF(name, paragraph_tags)) {
        brk(h, 2);
        return;
    }
    if (ONE_OF(name, line_tags)) {
        brk(h, 1);
        if (!end && strcmp(name, "li") == 0) {
            put_str(h, "-");
            space(h);
        }
    }
}

/* Copies an attribute value, entities decoded and white space dropped, into href (when it
 * fits); s[from..to) is the value without its quotes. */
static void keep_href(struct html *h, size_t from, size_t to)
{
    struct gw_mail_buf v;
    gw_mail_buf_init(&v, HREF_MAX);
    for (size_t i = from; i < to && !v.cut && !v.failed;) {
        uint32_t cp;
        size_t k;
        if (h->s[i] == '&' && (k = entity_at(h->s, to, i, &cp)) > 0) {
            gw_mail_buf_add_cp(&v, cp);
            i += k;
        } else if (is_ws(h->s[i]) || (unsigned char)h->s[i] < 0x20) {
            i++;
        } else {
            gw_mail_buf_add(&v, h->s + i, 1);
            i++;
        }
    }
    h->href[0] = '\0';
    if (!v.cut && !v.failed && v.p != NULL)
        memcpy(h->href, v.p, v.len + 1);
    gw_mail_buf_free(&v);
}

/* h->s[h->i] is '<'. Reads the tag (or comment, or declaration) and acts on it. */
static void tag(struct html *h)
{
    const char *s = h->s;
    size_t n = h->n;
    size_t i = h->i + 1;
    if (i < n && s[i] == '!') {
        if (i + 2 < n && s[i + 1] == '-' && s[i + 2] == '-') {
            size_t e = find_ci(s, n, i + 3, "-->");
            h->i = e < n ? e + 3 : n;
        } else {
            const char *gt = memchr(s + i, '>', n - i);
            h->i = gt != NULL ? (size_t)(gt - s) + 1 : n;
        }
        return;
    }
    bool end = i < n && s[i] == '/';
    if (end)
        i++;
    if (i >= n || !is_alpha(s[i])) {
        if (end || (i < n && s[i] == '?')) { /* "</ 3>", "<?xml ...>": bogus comments */
            const char *gt = memchr(s + i, '>', n - i);
            h->i = gt != NULL ? (size_t)(gt - s) + 1 : n;
            return;
        }
        if (!h->head)
            put(h, "<", 1); /* "a < b": a literal '<' */
        h->i++;
        return;
    }
    char name[NAME_MAX_];
    size_t k = 0;
    for (; i < n && !is_ws(s[i]) && s[i] != '>' && s[i] != '/'; i++)
        if (k < sizeof(name) - 1)
            name[k++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    name[k] = '\0';
    bool is_a = !end && strcmp(name, "a") == 0;
    bool self_closing = false;
    bool have_href = false;
    /* Attributes: each turn consumes at least one byte. */
    while (i < n) {
        if (s[i] == '>') {
            i++;
            break;
        }
        if (is_ws(s[i]) || s[i] == '/') {
            self_closing = s[i] == '/';
            i++;
            continue;
        }
        self_closing = false;
        size_t an = i;
        while (i < n && !is_ws(s[i]) && s[i] != '>' && s[i] != '=' && s[i] != '/')
            i++;
        size_t an_len = i - an;
        while (i < n && is_ws(s[i]))
            i++;
        if (i >= n || s[i] != '=')
            continue;
        i++;
        while (i < n && is_ws(s[i]))
            i++;
        size_t vs, ve;
        if (i < n && (s[i] == '"' || s[i] == '\'')) {
            const char *q = memchr(s + i + 1, s[i], n - i - 1);
            vs = i + 1;
            ve = q != NULL ? (size_t)(q - s) : n;
            i = q != NULL ? ve + 1 : n;
        } else {
            vs = i;
            while (i < n && !is_ws(s[i]) && s[i] != '>')
                i++;
            ve = i;
        }
        if (is_a && an_len == 4 && strncasecmp(s + an, "href", 4) == 0) {
            keep_href(h, vs, ve);
            have_href = true;
        }
    }
    h->i = i;

    if (!end && !self_closing && ONE_OF(name, raw_tags)) {
        char close[NAME_MAX_ + 2];
        snprintf(close, sizeof(close), "</%s", name);
        h->i = find_ci(s, n, h->i, close);
    }
    if (is_a) {
        end_link(h);
        if (have_href && absolute_url(h->href) && !h->head) {
            h->in_link = true;
            h->link_at = h->b->len;
        }
        return;
    }
    on_tag(h, name, end, self_closing);
}

bool gw_mail_html_to_text(struct gw_mail_buf *b, const char *html, size_t n)
{
    struct html *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        b->failed = true;
        return false;
    }
    h->s = html;
    h->n = n;
    h->b = b;
    h->nl = 2;
    /* Each turn moves i forward. */
    while (h->i < n && !b->cut && !b->failed) {
        char c = html[h->i];
        if (c == '<') {
            tag(h);
            continue;
        }
        if (h->head) {
            h->i++;
            continue;
        }
        if (c == '&') {
            uint32_t cp;
            size_t k = entity_at(html, n, h->i, &cp);
            if (k > 0) {
                if (cp == 0xA0 || cp == ' ')
                    space(h);
                else if (cp == '\n' && h->pre > 0)
                    newline(h);
                else
                    put_cp(h, cp);
                h->i += k;
                continue;
            }
        }
        if (is_ws(c)) {
            if (h->pre == 0)
                space(h);
            else if (c == '\n')
                newline(h);
            else if (c != '\r')
                put(h, " ", 1);
            h->i++;
            continue;
        }
        uint32_t cp;
        size_t k = gw_text_utf8_next((const unsigned char *)html + h->i, n - h->i, &cp);
        if (k == 0) { /* not valid UTF-8 after all: one replacement character */
            put_cp(h, 0xFFFD);
            h->i++;
            continue;
        }
        if (cp == 0xA0)
            space(h);
        else
            put(h, html + h->i, k);
        h->i += k;
    }
    end_link(h);
    bool ok = !b->cut && !b->failed;
    free(h);
    return ok;
}

bool gw_mail_html_charset(const unsigned char *html, size_t n, char *out, size_t outlen)
{
    const char *s = (const char *)html;
    size_t lim = n < 4096 ? n : 4096;
    size_t at = find_ci(s, lim, 0, "charset");
    /* Each turn moves past a "charset" that was not followed by a value. */
    for (int turn = 0; turn < 64 && at < lim; turn++) {
        size_t i = at + 7;
        while (i < lim && is_ws(s[i]))
            i++;
        if (i < lim && s[i] == '=') {
            i++;
            while (i < lim && (is_ws(s[i]) || s[i] == '"' || s[i] == '\''))
                i++;
            size_t k = 0;
            while (i < lim && k + 1 < outlen &&
                   (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.' ||
                    s[i] == ':'))
                out[k++] = s[i++];
            if (k > 0) {
                out[k] = '\0';
                return true;
            }
        }
        at = find_ci(s, lim, at + 7, "charset");
    }
    return false;
}
