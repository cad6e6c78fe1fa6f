/* quote.c — separating a reply's new text from what it quotes (the rules are in quote.h).
 * Line by line, looking a few lines ahead at most: linear in the text. */
#include "adapters/mail/quote.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ATTRIBUTION_MAX 400 /* an attribution longer than this is a paragraph, not a header */
#define LOOKAHEAD       6   /* lines after "From:" that may hold the rest of the header block */

struct lines {
    const char *text;
    size_t *at; /* start of each line */
    size_t *len;
    size_t n;
};

enum rule { RULE_NONE, RULE_ATTRIBUTION, RULE_QUOTED, RULE_ORIGINAL, RULE_HEADERS };

static const char *const attribution_starts[] = {
    "On ",  "Am ", "Le ",  "El ",     "Il ", "Op ",   "Em ",
    "Den ", "På ", "Dne ", "W dniu ", "В ",  "Στις ", "Il giorno ",
};
static const char *const attribution_ends[] = {
    "wrote:",    "schrieb:",    "a écrit :",     "a écrit:",
    "escribió:", "ha scritto:", "schreef:",      "escreveu:",
    "skrev:",    "napisał:",    "napisała:",     "pisze:",
    "napsal:",   "napsala:",    "kirjoitti:",    "написал:",
    "написала:", "написал(а):", "yazdı:",        "έγραψε:",
    "a scris:",  "írta:",       "写道：",        "写道:",
    "寫道：",    "寫道:",       "のメッセージ:", "さんは書きました:",
    "wrote :",
};
static const char *const original_message[] = {
    "original message",     "ursprüngliche nachricht", "message d'origine",   "mensaje original",
    "messaggio originale",  "oorspronkelijk bericht",  "mensagem original",   "originalmeddelande",
    "opprinnelig melding",  "oprindelig meddelelse",   "alkuperäinen viesti", "původní zpráva",
    "wiadomość oryginalna", "original-nachricht",
};
static const char *const from_labels[] = {
    "From:", "Von:", "De :", "De:", "Van:", "Da:", "Från:", "Fra:", "Od:", "От:",
};
static const char *const header_labels[] = {
    "Sent:",      "Date:",    "To:",      "Cc:",         "Subject:", "Gesendet:",  "An:",
    "Betreff:",   "Datum:",   "Envoyé :", "Envoyé:",     "À :",      "À:",         "Objet :",
    "Objet:",     "Enviado:", "Para:",    "Asunto:",     "Fecha:",   "Verzonden:", "Aan:",
    "Onderwerp:", "Inviato:", "A:",       "Oggetto:",    "Data:",    "Skickat:",   "Till:",
    "Ämne:",      "Sendt:",   "Til:",     "Emne:",       "Wysłano:", "Do:",        "Temat:",
    "Assunto:",   "Kopie:",   "Cc :",     "Отправлено:", "Кому:",    "Тема:",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Line i without the white space around it. */
static const char *trimmed(const struct lines *l, size_t i, size_t *n)
{
    const char *s = l->text + l->at[i];
    size_t len = l->len[i];
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    *n = len;
    return s;
}

static bool blank(const struct lines *l, size_t i)
{
    size_t n;
    trimmed(l, i, &n);
    return n == 0;
}

static bool quoted(const struct lines *l, size_t i)
{
    size_t n;
    const char *s = trimmed(l, i, &n);
    return n > 0 && s[0] == '>';
}

static bool starts_with(const char *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    return n >= pl && memcmp(s, p, pl) == 0;
}

static bool starts_with_ci(const char *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    return n >= pl && strncasecmp(s, p, pl) == 0;
}

static bool ends_with_ci(const char *s, size_t n, const char *p)
{
    size_t pl = strlen(p);
    return n >= pl && strncasecmp(s + n - pl, p, pl) == 0;
}

static bool any_start(const char *s, size_t n, const char *const *list, size_t count)
{
    for (size_t k = 0; k < count; k++)
        if (starts_with(s, n, list[k]))
            return true;
    return false;
}

static bool any_end(const char *s, size_t n)
{
    for (size_t k = 0; k < COUNT(attribution_ends); k++)
        if (ends_with_ci(s, n, attribution_ends[k]))
            return true;
    return false;
}

/* A line of only '-', '_', '=' or '*' (at least five): what clients put above a quote. */
static bool separator(const struct lines *l, size_t i)
{
    size_t n;
    const char *s = trimmed(l, i, &n);
    if (n < 5)
        return false;
    for (size_t k = 0; k < n; k++)
        if (strchr("-_=*", s[k]) == NULL)
            return false;
    return true;
}

/* The next non-blank line after i within a few lines, or l->n. */
static size_t next_text(const struct lines *l, size_t i)
{
    for (size_t j = i + 1; j < l->n && j <= i + LOOKAHEAD; j++)
        if (!blank(l, j))
            return j;
    return l->n;
}

static bool attribution(const struct lines *l, size_t i, size_t *lines_used)
{
    size_t n;
    const char *s = trimmed(l, i, &n);
    if (n == 0 || n > ATTRIBUTION_MAX)
        return false;
    bool starts = any_start(s, n, attribution_starts, COUNT(attribution_starts));
    if (any_end(s, n)) {
        size_t j = next_text(l, i);
        if (starts || (j < l->n && quoted(l, j))) {
            *lines_used = 1;
            return true;
        }
    }
    /* Wrapped over two lines: "On Mon, 2 Apr 2012 at 10:00, Jane Doe <jane@example.com>" /
     * "wrote:". */
    if (starts && i + 1 < l->n) {
        size_t n2;
        const char *s2 = trimmed(l, i + 1, &n2);
        if (n2 > 0 && n + n2 <= ATTRIBUTION_MAX && any_end(s2, n2)) {
            *lines_used = 2;
            return true;
        }
    }
    return false;
}

/* "-----Original Message-----", "----- Original Message -----" and translations. */
static bool original(const struct lines *l, size_t i)
{
    size_t n;
    const char *s = trimmed(l, i, &n);
    size_t dashes = 0;
    while (n > 0 && strchr("-_=* ", s[0]) != NULL) {
        dashes += s[0] != ' ' && s[0] != '*';
        s++;
        n--;
    }
    while (n > 0 && strchr("-_=* ", s[n - 1]) != NULL) {
        dashes += s[n - 1] != ' ' && s[n - 1] != '*';
        n--;
    }
    if (dashes < 2)
        return false;
    for (size_t k = 0; k < COUNT(original_message); k++) {
        size_t ml = strlen(original_message[k]);
        if (n == ml && strncasecmp(s, original_message[k], ml) == 0)
            return true;
    }
    return false;
}

/* A label line, without the '*' that bold text turns into. */
static bool label(const struct lines *l, size_t i, const char *const *list, size_t count)
{
    size_t n;
    const char *s = trimmed(l, i, &n);
    while (n > 0 && *s == '*') {
        s++;
        n--;
    }
    for (size_t k = 0; k < count; k++)
        if (starts_with_ci(s, n, list[k]))
            return true;
    return false;
}

static bool header_block(const struct lines *l, size_t i)
{
    if (!label(l, i, from_labels, COUNT(from_labels)))
        return false;
    if (i > 0 && !blank(l, i - 1) && !separator(l, i - 1))
        return false;
    size_t found = 0;
    for (size_t j = i + 1, seen = 0; j < l->n && seen < LOOKAHEAD && j <= i + 3 * LOOKAHEAD; j++) {
        if (blank(l, j))
            continue;
        seen++;
        if (label(l, j, header_labels, COUNT(header_labels)))
            found++;
    }
    return found >= 2;
}

/* Where the quoted part starts (a line index) and by which rule; RULE_NONE when nowhere. */
static enum rule find_quote(const struct lines *l, size_t *cut, size_t *used)
{
    for (size_t i = 0; i < l->n; i++) {
        *used = 1;
        if (attribution(l, i, used)) {
            *cut = i;
            return RULE_ATTRIBUTION;
        }
        if (quoted(l, i)) {
            size_t q = 0, j = i;
            for (; j < l->n && (quoted(l, j) || blank(l, j)); j++)
                q += quoted(l, j);
            bool text_after = j < l->n;
            if (q >= 2 || !text_after) {
                /* "Jane wrote:" in a form no list knows, just above the quote. */
                size_t p = i;
                while (p > 0 && blank(l, p - 1) && i - p < 2)
                    p--;
                size_t n;
                const char *s = p > 0 ? trimmed(l, p - 1, &n) : NULL;
                *cut = (s != NULL && n > 0 && n <= 200 && s[n - 1] == ':') ? p - 1 : i;
                return RULE_QUOTED;
            }
        }
        if (original(l, i)) {
            *cut = i;
            return RULE_ORIGINAL;
        }
        if (header_block(l, i)) {
            *cut = i;
            return RULE_HEADERS;
        }
    }
    return RULE_NONE;
}

/* Lines [from, to) joined, blank and separator lines at the ends left out, and the quoted
 * ones too when skip_quoted. */
static char *join(const struct lines *l, size_t from, size_t to, bool skip_quoted)
{
    while (from < to && blank(l, from))
        from++;
    while (to > from && (blank(l, to - 1) || separator(l, to - 1)))
        to--;
    size_t total = 1;
    for (size_t i = from; i < to; i++)
        total += l->len[i] + 1;
    char *out = malloc(total);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = from; i < to; i++) {
        if (skip_quoted && quoted(l, i))
            continue;
        memcpy(out + o, l->text + l->at[i], l->len[i]);
        o += l->len[i];
        out[o++] = '\n';
    }
    while (o > 0 && (out[o - 1] == '\n' || out[o - 1] == ' ' || out[o - 1] == '\t'))
        o--;
    out[o] = '\0';
    return out;
}

char *gw_mail_quote_reply(const char *text, size_t len)
{
    struct lines l = {.text = text};
    size_t count = 1;
    for (size_t i = 0; i < len; i++)
        count += text[i] == '\n';
    l.at = malloc(count * sizeof(*l.at));
    l.len = malloc(count * sizeof(*l.len));
    if (l.at == NULL || l.len == NULL) {
        free(l.at);
        free(l.len);
        return NULL;
    }
    for (size_t i = 0, start = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            l.at[l.n] = start;
            l.len[l.n] = i - start;
            l.n++;
            start = i + 1;
        }
    }
    size_t cut = 0, used = 1;
    enum rule rule = find_quote(&l, &cut, &used);
    char *out;
    if (rule == RULE_NONE) {
        out = join(&l, 0, l.n, false);
    } else {
        out = join(&l, 0, cut, false);
        /* Nothing above the quote: a reply written below it. */
        if (out != NULL && out[0] == '\0' && (rule == RULE_ATTRIBUTION || rule == RULE_QUOTED)) {
            free(out);
            out = join(&l, cut + used, l.n, true);
        }
    }
    free(l.at);
    free(l.len);
    return out;
}
