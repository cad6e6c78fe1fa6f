/* fuzz_mail_compose.c — a relay's fields through gw_mail_compose and the result back through
 * gw_mail_parse, with the default limits and tight ones. Input: NUL-separated pieces, in
 * order: the raw header block; four header names and values; from, to, cc, subject, date;
 * the text, its charset, the HTML; then files of four pieces each (name, content type,
 * content id, data). An empty piece is an absent field. What is checked: composing either
 * succeeds or says why; what it composes GMime reads back as a message; a header field that
 * neither the header block nor a pair name names never appears at the top of the result,
 * whatever the values, the given fields and the file names hold (no injection); the output
 * stays within a bounded multiple of the input. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/mail/compose.h"
#include "adapters/mail/parse.h"
#include "tests/fuzz/fuzz.h"

#define PIECES_MAX 64
#define PAIRS      4
#define FIELDS     (1 + 2 * PAIRS + 5 + 3) /* pieces before the files */

/* The field no input names: it may only appear when some piece spells it. */
#define CANARY "X-Injected-Canary"

/* Whether the header block of RAW[0..LEN) (up to its first blank line) has a line starting
 * with NAME ':'. */
static bool top_field(const unsigned char *raw, size_t len, const char *name)
{
    size_t n = strlen(name);
    for (size_t at = 0; at < len;) {
        const unsigned char *lf = memchr(raw + at, '\n', len - at);
        size_t end = lf != NULL ? (size_t)(lf - raw) : len;
        if (end == at || (end == at + 1 && raw[at] == '\r'))
            return false; /* the body starts */
        if (end - at > n && strncasecmp((const char *)raw + at, name, n) == 0 && raw[at + n] == ':')
            return true;
        at = end + 1;
    }
    return false;
}

static void run(const struct gw_mail_compose *in, size_t size, bool canary_given)
{
    unsigned char *raw = NULL;
    size_t len = 0;
    char err[160] = "";
    if (gw_mail_compose(in, &raw, &len, err, sizeof err) != 0) {
        FUZZ_CHECK(raw == NULL && len == 0 && err[0] != '\0');
        return;
    }
    FUZZ_CHECK(raw != NULL);
    /* Base64 and quoted-printable at most triple the bytes; MIME adds a little per part. */
    FUZZ_CHECK(len <= 3 * size + 4096 * (in->n_files + 4));
    FUZZ_CHECK(canary_given || !top_field(raw, len, CANARY));
    struct gw_mail *m = NULL;
    FUZZ_CHECK(gw_mail_parse(raw, len, NULL, &m, err, sizeof err) == 0 && m != NULL);
    gw_mail_free(m);
    free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Each piece as its own NUL-terminated copy. */
    char *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *piece[PIECES_MAX];
    size_t piece_len[PIECES_MAX];
    size_t n = 0;
    for (size_t at = 0; n < PIECES_MAX;) {
        piece[n] = copy + at;
        piece_len[n] = strlen(copy + at);
        at += piece_len[n] + 1;
        n++;
        if (at > size)
            break;
    }
    for (size_t i = n; i < PIECES_MAX; i++) {
        piece[i] = "";
        piece_len[i] = 0;
    }
#define OPT(i) (piece_len[i] > 0 ? piece[i] : NULL)
    const char *pairs[2 * PAIRS];
    for (size_t i = 0; i < 2 * PAIRS; i++)
        pairs[i] = piece[1 + i];
    size_t n_pairs = 0;
    while (n_pairs < PAIRS && piece_len[1 + 2 * n_pairs] > 0)
        n_pairs++;
    struct gw_mail_compose_file files[(PIECES_MAX - FIELDS) / 4];
    size_t n_files = 0;
    for (size_t at = FIELDS; at + 4 <= n; at += 4)
        files[n_files++] = (struct gw_mail_compose_file){
            .name = OPT(at),
            .content_type = OPT(at + 1),
            .content_id = OPT(at + 2),
            .data = (const unsigned char *)piece[at + 3],
            .len = piece_len[at + 3],
        };
    struct gw_mail_compose in = {
        .header_block = OPT(0),
        .header_block_len = piece_len[0],
        .header_pairs = pairs,
        .n_header_pairs = n_pairs,
        .from = OPT(9),
        .to = OPT(10),
        .cc = OPT(11),
        .subject = OPT(12),
        .date = OPT(13),
        .text = OPT(14),
        .text_len = piece_len[14],
        .text_charset = OPT(15),
        .html = OPT(16),
        .html_len = piece_len[16],
        .files = files,
        .n_files = n_files,
    };
#undef OPT
    /* Only the header block and the pair names may name a field; values never do. */
    bool canary_given = strcasestr(piece[0], CANARY) != NULL;
    for (size_t i = 0; i < n_pairs && !canary_given; i++)
        canary_given = strcasecmp(pairs[2 * i], CANARY) == 0;
    run(&in, size, canary_given);
    struct gw_mail_limits tight = {
        .max_message_bytes = 2048, .max_parts = 3, .max_header_bytes = 512};
    in.limits = &tight;
    run(&in, size, canary_given);
    free(copy);
    return 0;
}
