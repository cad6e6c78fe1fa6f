/* mail_thread.c — building and checking the HMAC-bound thread ids of outgoing mail. */
#include "gateway/core/mail_thread.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config/key32.h"
#include "gateway/core/jobs.h"
#include "verifiers/ct_compare.h"
#include "verifiers/hmac.h"

_Static_assert(sizeof(((struct gw_mail_threading *)0)->key) == GW_CFG_KEY32_LEN,
               "the thread key is a KEY32");

#define MAC_CONTEXT   "ctgw-thread-v1:"
#define LOOP_CONTEXT  "ctgw-loop-v1"
#define LOOP_HEX_SIZE 8 /* bytes of the derived loop marker */

int gw_mail_threading_init(struct gw_mail_threading *t, const struct gw_mail_config *cfg, char *err,
                           size_t err_len)
{
    char why[256];
    memset(t, 0, sizeof(*t));
    if (cfg == NULL || !cfg->enabled || cfg->domain == NULL || cfg->thread_key.data == NULL) {
        snprintf(err, err_len, "the config has no mail section with thread_key and domain");
        return -1;
    }
    if (gw_cfg_key32_decode(cfg->thread_key.data, cfg->thread_key.len, t->key, why, sizeof(why)) !=
        0) {
        snprintf(err, err_len, "mail.thread_key: %s", why);
        return -1;
    }
    int n = snprintf(t->domain, sizeof(t->domain), "%s", cfg->domain);
    if (n <= 0 || (size_t)n >= sizeof(t->domain)) {
        gw_mail_threading_wipe(t);
        snprintf(err, err_len, "mail.domain is longer than 253 characters");
        return -1;
    }
    if (cfg->loop_marker != NULL) {
        n = snprintf(t->loop_marker, sizeof(t->loop_marker), "%s", cfg->loop_marker);
        if (n > 0 && (size_t)n < sizeof(t->loop_marker))
            return 0;
        gw_mail_threading_wipe(t);
        snprintf(err, err_len, "mail.loop_marker is longer than 200 characters");
        return -1;
    }
    /* Derived rather than a fixed word, so that two installations (staging and production,
     * two vendors) never take each other's mail for their own. */
    unsigned char mac[GW_HMAC_SHA256_SIZE];
    struct gw_hmac_piece piece = {LOOP_CONTEXT, sizeof(LOOP_CONTEXT) - 1};
    memcpy(t->loop_marker, "ctgw-", 5);
    if (!gw_hmac_sha256(t->key, sizeof(t->key), &piece, 1, mac) ||
        gw_hex_encode(mac, LOOP_HEX_SIZE, t->loop_marker + 5, sizeof(t->loop_marker) - 5) == 0) {
        gw_mail_threading_wipe(t);
        snprintf(err, err_len, "cannot compute HMAC-SHA256 (OpenSSL failed)");
        return -1;
    }
    return 0;
}

void gw_mail_threading_wipe(struct gw_mail_threading *t)
{
    if (t != NULL)
        explicit_bzero(t, sizeof(*t));
}

/* The MAC of (company, normalised ref). False when OpenSSL fails. */
static bool compute_mac(const struct gw_mail_threading *t, uint64_t company_id, const char *ref,
                        unsigned char out[GW_MAIL_THREAD_MAC_SIZE])
{
    char company[24];
    unsigned char full[GW_HMAC_SHA256_SIZE];
    int n = snprintf(company, sizeof(company), "%" PRIu64, company_id);
    struct gw_hmac_piece pieces[] = {
        {MAC_CONTEXT, sizeof(MAC_CONTEXT) - 1},
        {company, (size_t)n},
        {":", 1},
        {ref, strlen(ref)},
    };
    bool ok = gw_hmac_sha256(t->key, sizeof(t->key), pieces, 4, full);
    memcpy(out, full, GW_MAIL_THREAD_MAC_SIZE);
    explicit_bzero(full, sizeof(full));
    return ok;
}

static bool tag_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool valid_tag(const char *s, size_t n)
{
    if (n == 0 || n > GW_MAIL_THREAD_TAG_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!tag_char(s[i]))
            return false;
    return true;
}

/* Writes the reply address (REPLY) or the Message-ID, with TAG when not NULL, into OUT. */
static int build(const struct gw_mail_threading *t, uint64_t company_id, const char *ref,
                 const char *tag, bool reply, char *out, size_t out_cap)
{
    char norm[32];
    unsigned char mac[GW_MAIL_THREAD_MAC_SIZE];
    char hex[GW_MAIL_THREAD_MAC_HEX + 1];
    if (out == NULL || out_cap == 0)
        return -1;
    out[0] = '\0';
    if (t == NULL || gw_job_ref_normalise(ref, norm) != 0 ||
        (tag != NULL && !valid_tag(tag, strlen(tag))) || !compute_mac(t, company_id, norm, mac) ||
        gw_hex_encode(mac, sizeof(mac), hex, sizeof(hex)) != GW_MAIL_THREAD_MAC_HEX)
        return -1;
    int n = reply         ? snprintf(out, out_cap, "reply+%s.%s@%s", norm, hex, t->domain)
            : tag != NULL ? snprintf(out, out_cap, "<ct.%s.%s.%s@%s>", norm, tag, hex, t->domain)
                          : snprintf(out, out_cap, "<ct.%s.%s@%s>", norm, hex, t->domain);
    if (n < 0 || (size_t)n >= out_cap) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int gw_mail_thread_message_id(const struct gw_mail_threading *t, uint64_t company_id,
                              const char *ref, const char *tag, char *out, size_t out_cap)
{
    return build(t, company_id, ref, tag, false, out, out_cap);
}

int gw_mail_thread_reply_address(const struct gw_mail_threading *t, uint64_t company_id,
                                 const char *ref, char *out, size_t out_cap)
{
    return build(t, company_id, ref, NULL, true, out, out_cap);
}

/* ---- reading ids back ------------------------------------------------------------------ */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether S[0..N) starts with the lowercase word W, in any case. */
static bool starts_with(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n < wl)
        return false;
    for (size_t i = 0; i < wl; i++)
        if (lower(s[i]) != w[i])
            return false;
    return true;
}

/* A domain as it may follow '@': 1..253 characters, none of them space, control, '@', '<'
 * or '>' (the MAC is what is checked; this only refuses what is not an address). */
static bool plausible_domain(const char *s, size_t n)
{
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '@' || c == '<' || c == '>')
            return false;
    }
    return true;
}

/* "CT-" and 1..18 digits, into the normalised ref. */
static bool read_ref(const char *s, size_t n, char out[32])
{
    char buf[32];
    if (n < 4 || n >= sizeof(buf) || !starts_with(s, n, "ct-"))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return gw_job_ref_normalise(buf, out) == 0;
}

bool gw_mail_thread_parse(const char *text, size_t len, struct gw_mail_thread_id *id)
{
    if (id == NULL)
        return false;
    memset(id, 0, sizeof(*id));
    if (text == NULL || len > GW_MAIL_THREAD_TEXT_MAX)
        return false;
    const char *s = text;
    size_t n = len;
    while (n > 0 && is_space(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        s++;
        n -= 2;
    }
    const char *at = memchr(s, '@', n);
    if (at == NULL || !plausible_domain(at + 1, n - (size_t)(at + 1 - s)))
        return false;
    size_t local = (size_t)(at - s);

    bool reply = starts_with(s, local, "reply+");
    if (!reply && !starts_with(s, local, "ct."))
        return false;
    size_t skip = reply ? 6 : 3;
    const char *p = s + skip;
    size_t rest = local - skip;

    /* REF [. TAG] . MAC: the ref ends at the first dot, the MAC starts after the last. */
    const char *dot1 = memchr(p, '.', rest);
    const char *dot2 = NULL;
    for (size_t i = rest; i > 0; i--)
        if (p[i - 1] == '.') {
            dot2 = p + i - 1;
            break;
        }
    if (dot1 == NULL)
        return false;
    const char *mac = dot2 + 1;
    size_t mac_len = (size_t)(p + rest - mac);
    if (dot1 != dot2) {
        if (reply || !valid_tag(dot1 + 1, (size_t)(dot2 - dot1 - 1)))
            return false;
    }
    size_t got = 0;
    struct gw_mail_thread_id tmp = {.reply_address = reply};
    if (!read_ref(p, (size_t)(dot1 - p), tmp.ref) || mac_len != GW_MAIL_THREAD_MAC_HEX ||
        !gw_hex_decode(mac, mac_len, tmp.mac, sizeof(tmp.mac), &got, GW_HEX_ANY_CASE) ||
        got != GW_MAIL_THREAD_MAC_SIZE)
        return false;
    *id = tmp;
    return true;
}

bool gw_mail_thread_verify(const struct gw_mail_threading *t, uint64_t company_id,
                           const struct gw_mail_thread_id *id)
{
    unsigned char want[GW_MAIL_THREAD_MAC_SIZE];
    if (t == NULL || id == NULL || id->ref[0] == '\0' || !compute_mac(t, company_id, id->ref, want))
        return false;
    bool ok = gw_ct_equal(id->mac, sizeof(id->mac), want, sizeof(want));
    explicit_bzero(want, sizeof(want));
    return ok;
}

bool gw_mail_thread_match(const struct gw_mail_threading *t, uint64_t company_id, const char *text,
                          size_t len, char ref[32])
{
    struct gw_mail_thread_id id;
    if (ref != NULL)
        ref[0] = '\0';
    if (ref == NULL || !gw_mail_thread_parse(text, len, &id) ||
        !gw_mail_thread_verify(t, company_id, &id))
        return false;
    memcpy(ref, id.ref, sizeof(id.ref));
    return true;
}
