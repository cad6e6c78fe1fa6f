/* sns.c — verifies Amazon SNS messages: JSON body, canonical string per Type, RSA-SHA1 or
 * RSA-SHA256 with the certificate at SigningCertURL, TopicArn allow-list. */
#include "verifiers/sns.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "verifiers/base64.h"

#define RSA_MIN_BITS  2048
#define RSA_MAX_BITS  8192
#define SIG_MAX       (RSA_MAX_BITS / 8)
#define AUTHORITY_MAX 255 /* a DNS name, and the longest pattern item */
#define LABEL_MAX     63  /* what one '*' may stand for */
#define STARS_MAX     3   /* '*' per pattern item: keeps the backtracking match small */
#define TOPICS_MAX    1024

/* Every field the verifier reads, in the byte order of the canonical string (the three
 * that are not signed last). */
enum field {
    F_MESSAGE,
    F_MESSAGE_ID,
    F_SUBJECT,
    F_SUBSCRIBE_URL,
    F_TIMESTAMP,
    F_TOKEN,
    F_TOPIC_ARN,
    F_TYPE,
    F_SIGNATURE_VERSION,
    F_SIGNATURE,
    F_SIGNING_CERT_URL,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "Message",  "MessageId", "Subject",          "SubscribeURL", "Timestamp",      "Token",
    "TopicArn", "Type",      "SignatureVersion", "Signature",    "SigningCertURL",
};

enum msg_type { T_NOTIFICATION, T_SUBSCRIPTION_CONFIRMATION, T_UNSUBSCRIBE_CONFIRMATION };

static const char *const type_names[] = {"Notification", "SubscriptionConfirmation",
                                         "UnsubscribeConfirmation"};

/* The signed fields of each Type, in order; Subject is signed only when present. */
static const enum field notification_fields[] = {F_MESSAGE,   F_MESSAGE_ID, F_SUBJECT,
                                                 F_TIMESTAMP, F_TOPIC_ARN,  F_TYPE};
static const enum field confirmation_fields[] = {
    F_MESSAGE, F_MESSAGE_ID, F_SUBSCRIBE_URL, F_TIMESTAMP, F_TOKEN, F_TOPIC_ARN, F_TYPE};
static const enum field unsigned_fields[] = {F_SIGNATURE_VERSION, F_SIGNATURE, F_SIGNING_CERT_URL};

enum field_state { S_ABSENT, S_NULL, S_STRING, S_OTHER };

struct message {
    cJSON *root;
    enum msg_type type;
    const char *value[F_COUNT]; /* NULL unless the field is a string */
    enum field_state state[F_COUNT];
    size_t count[F_COUNT];
};

__attribute__((format(printf, 3, 4))) static void set_why(char *why, size_t why_len,
                                                          const char *fmt, ...)
{
    if (why == NULL || why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* --- SigningCertURL ----------------------------------------------------------------------- */

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* PAT against S, both of known length; '*' is 1..LABEL_MAX of [A-Za-z0-9-]. The recursion is
 * as deep as PAT has stars (at most STARS_MAX). */
static bool glob_match(const char *pat, size_t pat_len, const char *s, size_t s_len)
{
    size_t i = 0;
    size_t j = 0;
    while (i < pat_len) {
        if (pat[i] == '*') {
            for (size_t k = 1; k <= LABEL_MAX && j + k <= s_len; k++) {
                unsigned char c = (unsigned char)s[j + k - 1];
                if (!is_alnum(c) && c != '-')
                    break;
                if (glob_match(pat + i + 1, pat_len - i - 1, s + j + k, s_len - j - k))
                    return true;
            }
            return false;
        }
        if (j >= s_len || lower((unsigned char)pat[i]) != lower((unsigned char)s[j]))
            return false;
        i++;
        j++;
    }
    return j == s_len;
}

/* AUTHORITY against the comma-separated PATTERNS (blank items skipped). */
static bool authority_allowed(const char *authority, size_t len, const char *patterns)
{
    if (patterns == NULL || patterns[strspn(patterns, " ,")] == '\0')
        patterns = GW_SNS_DEFAULT_CERT_HOST_PATTERN;
    const char *p = patterns;
    while (*p != '\0') {
        p += strspn(p, " ,");
        size_t n = strcspn(p, ",");
        size_t item = n;
        while (item > 0 && p[item - 1] == ' ')
            item--;
        size_t stars = 0;
        for (size_t i = 0; i < item; i++)
            stars += p[i] == '*';
        if (item > 0 && item <= AUTHORITY_MAX && stars <= STARS_MAX &&
            glob_match(p, item, authority, len))
            return true;
        p += n;
    }
    return false;
}

/* The part every URL we fetch from SNS shares: "https://", then a plain host[:port] matching
 * PATTERNS. Returns where the path starts (just after the authority), or NULL with WHY. */
static const char *https_authority_ok(const char *url, const char *patterns, char *why,
                                      size_t why_len)
{
    static const char scheme[] = "https://";
    const size_t scheme_len = sizeof scheme - 1;
    if (url == NULL) {
        set_why(why, why_len, "no URL");
        return NULL;
    }
    size_t len = strnlen(url, GW_SNS_CERT_URL_MAX + 1);
    if (len > GW_SNS_CERT_URL_MAX) {
        set_why(why, why_len, "longer than %d bytes", GW_SNS_CERT_URL_MAX);
        return NULL;
    }
    if (len < scheme_len || strncasecmp(url, scheme, scheme_len) != 0) {
        set_why(why, why_len, "not an https URL");
        return NULL;
    }
    const char *authority = url + scheme_len;
    size_t auth_len = strcspn(authority, "/?#");
    if (auth_len == 0 || auth_len > AUTHORITY_MAX) {
        set_why(why, why_len, "no host, or a host longer than %d bytes", AUTHORITY_MAX);
        return NULL;
    }
    /* host[:port], the host of letters, digits, '.' and '-': no user info ('@'), no IPv6
     * literal, nothing a URL parser elsewhere could read differently. */
    size_t host_len = 0;
    while (host_len < auth_len && (is_alnum((unsigned char)authority[host_len]) ||
                                   authority[host_len] == '.' || authority[host_len] == '-'))
        host_len++;
    bool port_ok = host_len == auth_len;
    if (!port_ok && authority[host_len] == ':' && auth_len - host_len >= 2 &&
        auth_len - host_len <= 6) {
        port_ok = true;
        for (size_t i = host_len + 1; i < auth_len; i++)
            port_ok &= authority[i] >= '0' && authority[i] <= '9';
    }
    if (host_len == 0 || !port_ok) {
        set_why(why, why_len, "the host is not a plain host[:port]");
        return NULL;
    }
    if (!authority_allowed(authority, auth_len, patterns)) {
        set_why(why, why_len, "host %.*s does not match %s", (int)(auth_len > 80 ? 80 : auth_len),
                authority,
                patterns != NULL && patterns[strspn(patterns, " ,")] != '\0'
                    ? "the configured cert_host_pattern"
                    : GW_SNS_DEFAULT_CERT_HOST_PATTERN);
        return NULL;
    }
    return authority + auth_len;
}

bool gw_sns_subscribe_url_ok(const char *url, const char *patterns, char *why, size_t why_len)
{
    const char *rest = https_authority_ok(url, patterns, why, why_len);
    if (rest == NULL)
        return false;
    /* Nothing that could end the request line or a header: the URL goes to libcurl as is. */
    for (const char *c = rest; *c != '\0'; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch <= 0x20 || ch >= 0x7f) {
            set_why(why, why_len, "the URL has a space, control or non-ASCII byte");
            return false;
        }
    }
    return true;
}

bool gw_sns_cert_url_ok(const char *url, const char *patterns, char *why, size_t why_len)
{
    const char *path = https_authority_ok(url, patterns, why, why_len);
    if (path == NULL)
        return false;
    if (*path != '/') {
        set_why(why, why_len, "no path");
        return false;
    }
    for (const char *c = path; *c != '\0'; c++) {
        unsigned char ch = (unsigned char)*c;
        if (!is_alnum(ch) && ch != '/' && ch != '.' && ch != '-' && ch != '_' && ch != '~') {
            set_why(why, why_len, "the path has a character outside [A-Za-z0-9._~/-]");
            return false;
        }
    }
    /* "." and ".." segments would name another file than the one the URL seems to. */
    for (const char *seg = path; *seg == '/'; seg += strcspn(seg + 1, "/") + 1) {
        size_t seg_len = strcspn(seg + 1, "/");
        if ((seg_len == 1 && seg[1] == '.') || (seg_len == 2 && seg[1] == '.' && seg[2] == '.')) {
            set_why(why, why_len, "the path has a \".\" or \"..\" segment");
            return false;
        }
    }
    size_t path_len = strlen(path);
    if (path_len < 5 || memcmp(path + path_len - 4, ".pem", 4) != 0) {
        set_why(why, why_len, "the path does not end in .pem");
        return false;
    }
    return true;
}

/* --- the message ------------------------------------------------------------------------- */

/* True when BODY has a \u0000 escape. Backslashes occur only inside JSON strings, and each
 * escape is two characters, so skipping pairs finds exactly the escapes that decode to NUL
 * (and not the text "\\u0000", an escaped backslash followed by "u0000"). */
static bool has_nul_escape(const unsigned char *body, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (body[i] != '\\')
            continue;
        if (body[i + 1] == 'u' && i + 5 < len && memcmp(body + i + 2, "0000", 4) == 0)
            return true;
        i++;
    }
    return false;
}

static void message_free(struct message *m)
{
    cJSON_Delete(m->root);
    m->root = NULL;
}

/* The reason FIELD cannot be used (absent, null, repeated, not a string), or GW_VERIFY_OK. */
static enum gw_verify_result check_field(const struct message *m, enum field f, bool optional,
                                         struct gw_verify_detail *detail)
{
    const char *name = field_names[f];
    if (m->count[f] > 1) {
        gw_verify_set_header(detail, name);
        gw_verify_note(detail, "%s appears %zu times, exactly once is needed", name, m->count[f]);
        return GW_VERIFY_MISSING_HEADER;
    }
    if (m->state[f] == S_OTHER) {
        gw_verify_set_header(detail, name);
        gw_verify_note(detail, "%s is not a JSON string", name);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    if (!optional && m->state[f] != S_STRING) {
        gw_verify_set_header(detail, name);
        gw_verify_note(detail, "%s is missing", name);
        return GW_VERIFY_MISSING_HEADER;
    }
    return GW_VERIFY_OK;
}

static void signed_fields(enum msg_type type, const enum field **fields, size_t *n)
{
    if (type == T_NOTIFICATION) {
        *fields = notification_fields;
        *n = sizeof notification_fields / sizeof notification_fields[0];
    } else {
        *fields = confirmation_fields;
        *n = sizeof confirmation_fields / sizeof confirmation_fields[0];
    }
}

/* Parses BODY into M (which the caller frees with message_free whatever the answer) and
 * checks the fields the canonical string needs, and with FOR_VERIFY the unsigned three. */
static enum gw_verify_result parse_message(const unsigned char *body, size_t len, bool for_verify,
                                           struct message *m, struct gw_verify_detail *detail)
{
    memset(m, 0, sizeof *m);
    if (body == NULL || len == 0) {
        gw_verify_note(detail, "the body is empty: an SNS message is a JSON object");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    if (len > GW_SNS_BODY_MAX) {
        gw_verify_note(detail, "the body is longer than %d bytes", GW_SNS_BODY_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    if (memchr(body, '\0', len) != NULL || has_nul_escape(body, len)) {
        gw_verify_note(detail, "the body has a NUL character, raw or as \\u0000");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    const char *end = NULL;
    m->root = cJSON_ParseWithLengthOpts((const char *)body, len, &end, 0);
    if (m->root == NULL) {
        gw_verify_note(detail, "the body is not JSON");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    /* Only white space may follow the object: anything else could be read by another
     * parser as part of the message. */
    size_t used = end != NULL && end >= (const char *)body ? (size_t)(end - (const char *)body) : 0;
    for (size_t i = used; i < len; i++) {
        if (body[i] != ' ' && body[i] != '\t' && body[i] != '\n' && body[i] != '\r') {
            gw_verify_note(detail, "the body has text after its JSON value (byte %zu)", i);
            return GW_VERIFY_MALFORMED_HEADER;
        }
    }
    if (!cJSON_IsObject(m->root)) {
        gw_verify_note(detail, "the body is JSON but not an object");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    for (const cJSON *item = m->root->child; item != NULL; item = item->next) {
        if (item->string == NULL)
            continue;
        for (size_t f = 0; f < F_COUNT; f++) {
            if (strcmp(item->string, field_names[f]) != 0)
                continue;
            m->count[f]++;
            if (cJSON_IsString(item) && item->valuestring != NULL) {
                m->state[f] = S_STRING;
                m->value[f] = item->valuestring;
            } else if (cJSON_IsNull(item)) {
                m->state[f] = S_NULL;
                m->value[f] = NULL;
            } else {
                m->state[f] = S_OTHER;
                m->value[f] = NULL;
            }
            break;
        }
    }

    enum gw_verify_result r = check_field(m, F_TYPE, false, detail);
    if (r != GW_VERIFY_OK)
        return r;
    size_t t = 0;
    while (t < sizeof type_names / sizeof type_names[0] && strcmp(m->value[F_TYPE], type_names[t]))
        t++;
    if (t == sizeof type_names / sizeof type_names[0]) {
        gw_verify_set_header(detail, "Type");
        gw_verify_note(detail, "Type is not Notification, SubscriptionConfirmation or "
                               "UnsubscribeConfirmation");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    m->type = (enum msg_type)t;

    const enum field *fields = NULL;
    size_t n = 0;
    signed_fields(m->type, &fields, &n);
    for (size_t i = 0; i < n; i++) {
        r = check_field(m, fields[i], fields[i] == F_SUBJECT, detail);
        if (r != GW_VERIFY_OK)
            return r;
    }
    for (size_t i = 0; for_verify && i < sizeof unsigned_fields / sizeof unsigned_fields[0]; i++) {
        r = check_field(m, unsigned_fields[i], false, detail);
        if (r != GW_VERIFY_OK)
            return r;
    }
    return GW_VERIFY_OK;
}

/* The canonical string of a parsed message (malloc, NUL-terminated), or NULL when out of
 * memory. Its length is bounded by the body's, which holds every value at least once. */
static char *canonical_string(const struct message *m, size_t *out_len)
{
    const enum field *fields = NULL;
    size_t n = 0;
    signed_fields(m->type, &fields, &n);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (m->value[fields[i]] != NULL)
            total += strlen(field_names[fields[i]]) + 1 + strlen(m->value[fields[i]]) + 1;
    char *s = malloc(total + 1);
    if (s == NULL)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const char *value = m->value[fields[i]];
        if (value == NULL)
            continue; /* only Subject can be absent here */
        size_t kl = strlen(field_names[fields[i]]);
        size_t vl = strlen(value);
        memcpy(s + at, field_names[fields[i]], kl);
        s[at + kl] = '\n';
        memcpy(s + at + kl + 1, value, vl);
        s[at + kl + 1 + vl] = '\n';
        at += kl + vl + 2;
    }
    s[at] = '\0';
    *out_len = at;
    return s;
}

enum gw_verify_result gw_sns_string_to_sign(const unsigned char *body, size_t body_len, char **out,
                                            size_t *out_len, struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);
    if (out != NULL)
        *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || out_len == NULL) {
        gw_verify_note(detail, "nowhere to put the string");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    struct message m;
    enum gw_verify_result r = parse_message(body, body_len, false, &m, detail);
    if (r == GW_VERIFY_OK) {
        *out = canonical_string(&m, out_len);
        if (*out == NULL) {
            gw_verify_note(detail, "out of memory");
            r = GW_VERIFY_MALFORMED_HEADER;
        } else {
            detail->signed_len = *out_len;
            gw_verify_note(detail, "%s, %zu bytes to sign", type_names[m.type], *out_len);
        }
    }
    message_free(&m);
    return r;
}

/* --- Timestamp --------------------------------------------------------------------------- */

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days from 1970-01-01 to Y-M-D of the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil), so no time zone or libc time function is involved. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z", the form SNS writes, to Unix seconds (fraction dropped). */
static bool parse_timestamp(const char *s, int64_t *out)
{
    size_t len = strnlen(s, 31);
    int y, mo, d, h, mi, sec;
    if (len < 20 || len > 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[len - 1] != 'Z')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return false;
    if (len > 20) {
        int ignored;
        if (s[19] != '.' || len < 22 || !digits(s + 20, len - 21, &ignored))
            return false;
    }
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 59)
        return false;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

/* --- verification ------------------------------------------------------------------------ */

/* 1 verified, 0 did not, -1 the key could not be set up. Any answer but 1 from the
 * verification itself is "did not" (OpenSSL reports some forged values as errors). */
static int rsa_verify(EVP_PKEY *key, const EVP_MD *md, const unsigned char *sig, size_t sig_len,
                      const char *data, size_t data_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        return -1;
    int rc = -1;
    EVP_PKEY_CTX *pctx = NULL;
    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0)
        rc = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)data, data_len) == 1;
    EVP_MD_CTX_free(ctx);
    ERR_clear_error(); /* failures leave errors in this thread's queue; they mean nothing */
    return rc;
}

/* Checks the certificate's key and the signature; the message is otherwise accepted. */
static enum gw_verify_result check_signature(const struct gw_verify_input *in,
                                             const struct message *m, const unsigned char *sig,
                                             size_t sig_len, struct gw_verify_detail *detail)
{
    const char *url = m->value[F_SIGNING_CERT_URL];
    char why[128] = "";
    gw_verify_set_header(detail, "SigningCertURL");
    if (in->cert_lookup == NULL) {
        gw_verify_note(detail, "no certificate source is configured for this endpoint");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    X509 *cert = in->cert_lookup(in->cert_ctx, url, why, sizeof why);
    if (cert == NULL) {
        gw_verify_note(detail, "signing certificate unavailable: %s",
                       why[0] ? why : "no reason given");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    EVP_PKEY *key = X509_get0_pubkey(cert);
    int bits = key != NULL ? EVP_PKEY_get_bits(key) : 0;
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || bits < RSA_MIN_BITS ||
        bits > RSA_MAX_BITS) {
        X509_free(cert);
        gw_verify_note(detail, "the signing certificate's key is not RSA of %d..%d bits",
                       RSA_MIN_BITS, RSA_MAX_BITS);
        return GW_VERIFY_KEY_UNUSABLE;
    }
    gw_verify_set_header(detail, "Signature");
    size_t want = (size_t)EVP_PKEY_get_size(key);
    if (sig_len != want) {
        X509_free(cert);
        gw_verify_note(detail, "Signature is %zu bytes, the certificate's key signs %zu", sig_len,
                       want);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    size_t text_len = 0;
    char *text = canonical_string(m, &text_len);
    if (text == NULL) {
        X509_free(cert);
        gw_verify_note(detail, "out of memory");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    detail->signed_len = text_len;
    bool v1 = strcmp(m->value[F_SIGNATURE_VERSION], "1") == 0;
    int v = rsa_verify(key, v1 ? EVP_sha1() : EVP_sha256(), sig, sig_len, text, text_len);
    free(text);
    X509_free(cert);
    if (v < 0) {
        gw_verify_note(detail, "OpenSSL could not set up the certificate's key");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    if (v == 0) {
        gw_verify_note(detail, "Signature (version %s) does not verify over the %zu-byte string",
                       v1 ? "1, SHA1withRSA" : "2, SHA256withRSA", text_len);
        return GW_VERIFY_NO_SECRET_MATCHED;
    }
    return GW_VERIFY_OK;
}

static enum gw_verify_result verify_message(const struct gw_verify_input *in, struct message *m,
                                            struct gw_verify_detail *detail)
{
    enum gw_verify_result r = parse_message(in->body, in->body_len, true, m, detail);
    if (r != GW_VERIFY_OK)
        return r;

    const char *version = m->value[F_SIGNATURE_VERSION];
    if (strcmp(version, "1") != 0 && strcmp(version, "2") != 0) {
        gw_verify_set_header(detail, "SignatureVersion");
        gw_verify_note(detail, "SignatureVersion must be \"1\" or \"2\"");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    const char *sig_text = m->value[F_SIGNATURE];
    size_t sig_text_len = strnlen(sig_text, GW_SNS_SIGNATURE_B64_MAX + 1);
    unsigned char sig[SIG_MAX];
    size_t sig_len = 0;
    if (sig_text_len == 0 || sig_text_len > GW_SNS_SIGNATURE_B64_MAX ||
        !gw_base64_decode(sig_text, sig_text_len, sig, sizeof sig, &sig_len, 0)) {
        gw_verify_set_header(detail, "Signature");
        gw_verify_note(detail, "Signature must be padded base64 of at most %d bytes", SIG_MAX);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    char why[128] = "";
    if (!gw_sns_cert_url_ok(m->value[F_SIGNING_CERT_URL], in->cert_host_pattern, why, sizeof why)) {
        gw_verify_set_header(detail, "SigningCertURL");
        gw_verify_note(detail, "SigningCertURL refused: %s", why);
        return GW_VERIFY_MALFORMED_HEADER;
    }
    int64_t ts = 0;
    if (!parse_timestamp(m->value[F_TIMESTAMP], &ts)) {
        gw_verify_set_header(detail, "Timestamp");
        gw_verify_note(detail, "Timestamp must be ISO-8601 UTC, e.g. 2026-01-05T09:30:01.112Z");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    detail->timestamp = ts;

    uint64_t tolerance = in->tolerance_s ? in->tolerance_s : GW_SNS_DEFAULT_TOLERANCE_S;
    int64_t now = (int64_t)in->now;
    /* Differences in uint64_t: exact for any two int64_t values, never overflowing. */
    if (ts < now && (uint64_t)now - (uint64_t)ts > tolerance) {
        gw_verify_set_header(detail, "Timestamp");
        gw_verify_note(detail, "timestamp %" PRIu64 " s in the past, tolerance %" PRIu64 " s",
                       (uint64_t)now - (uint64_t)ts, tolerance);
        return GW_VERIFY_TIMESTAMP_OUTSIDE;
    }
    if (ts > now && (uint64_t)ts - (uint64_t)now > tolerance) {
        gw_verify_set_header(detail, "Timestamp");
        gw_verify_note(detail, "timestamp %" PRIu64 " s in the future, tolerance %" PRIu64 " s",
                       (uint64_t)ts - (uint64_t)now, tolerance);
        return GW_VERIFY_TIMESTAMP_OUTSIDE;
    }

    /* The topic is checked before the certificate so that a message for another topic
     * costs neither a fetch nor an RSA operation. */
    gw_verify_set_header(detail, "TopicArn");
    if (in->n_topics == 0 || in->topics == NULL) {
        gw_verify_note(detail, "no TopicArn is allowed: the endpoint's topics list is empty");
        return GW_VERIFY_KEY_UNUSABLE;
    }
    int topic = -1;
    for (size_t i = 0; i < in->n_topics && i < TOPICS_MAX && topic < 0; i++)
        if (in->topics[i] != NULL && strcmp(in->topics[i], m->value[F_TOPIC_ARN]) == 0)
            topic = (int)i;
    if (topic < 0) {
        gw_verify_note(detail, "TopicArn is none of the %zu topics this endpoint allows",
                       in->n_topics);
        return GW_VERIFY_NO_SECRET_MATCHED;
    }

    r = check_signature(in, m, sig, sig_len, detail);
    if (r != GW_VERIFY_OK)
        return r;
    detail->secret_index = topic;
    gw_verify_note(detail, "%s verified (SignatureVersion %s), topic %d", type_names[m->type],
                   version, topic);
    return GW_VERIFY_OK;
}

static enum gw_verify_result verify(const struct gw_verify_input *in,
                                    struct gw_verify_detail *detail)
{
    struct gw_verify_detail scratch;
    detail = gw_verify_begin(detail, &scratch);
    if (in == NULL) {
        gw_verify_note(detail, "no request");
        return GW_VERIFY_MALFORMED_HEADER;
    }
    struct message m;
    enum gw_verify_result r = verify_message(in, &m, detail);
    message_free(&m);
    return r;
}

const struct gw_verifier gw_verifier_sns = {
    .name = "sns",
    .verify = verify,
    .needs = GW_SCHEME_NEEDS_TOPICS,
    .content_type = "text/plain; charset=UTF-8",
    .sign = NULL,
};
