/* test_vectors.c — every case of the .txt files under tests/vectors/<scheme>/, byte for byte, for
 * the schemes of slack.c, xero.c, stripe.c, asana.c, mailgun.c, basic_auth.c and token.c (the
 * format is described at the top of tests/vectors/slack/official.txt). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/files.h"
#include "verifiers/asana.h"
#include "verifiers/basic_auth.h"
#include "verifiers/mailgun.h"
#include "verifiers/slack.h"
#include "verifiers/stripe.h"
#include "verifiers/token.h"
#include "verifiers/xero.h"

#define MAX_SECRETS 8
#define MAX_HEADERS 16

struct vcase {
    const char *file;
    const char *id, *result, *reason, *secret_index, *now, *tolerance, *token_header, *body,
        *body_c, *signed_len;
    const char *secrets[MAX_SECRETS];
    size_t n_secrets;
    const char *headers[MAX_HEADERS];
    size_t n_headers;
};

/* Unescapes \r \n \t \\ \xHH of IN into OUT (at least strlen(IN) bytes); returns the length. */
static size_t unescape(const char *in, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; in[i] != '\0'; i++) {
        if (in[i] != '\\') {
            out[o++] = (unsigned char)in[i];
            continue;
        }
        char c = in[++i];
        if (c == 'r')
            out[o++] = '\r';
        else if (c == 'n')
            out[o++] = '\n';
        else if (c == 't')
            out[o++] = '\t';
        else if (c == '\\')
            out[o++] = '\\';
        else if (c == 'x' && in[i + 1] != '\0' && in[i + 2] != '\0') {
            char hex[3] = {in[i + 1], in[i + 2], '\0'};
            char *end = NULL;
            unsigned long v = strtoul(hex, &end, 16);
            if (*end != '\0')
                fail_msg("bad \\x escape in %s", in);
            out[o++] = (unsigned char)v;
            i += 2;
        } else {
            fail_msg("bad escape in %s", in);
        }
    }
    return o;
}

static long long number(const struct vcase *v, const char *text, long long dflt)
{
    if (text == NULL)
        return dflt;
    char *end = NULL;
    long long n = strtoll(text, &end, 10);
    if (end == text || *end != '\0')
        fail_msg("%s case %s: \"%s\" is not a number", v->file, v->id, text);
    return n;
}

static void run_case(const struct gw_verifier *verifier, const struct vcase *v)
{
    if (v->id == NULL || v->result == NULL || v->reason == NULL)
        fail_msg("%s: a case lacks id, result or reason", v->file);
    if ((v->body != NULL) == (v->body_c != NULL) && v->body != NULL)
        fail_msg("%s case %s: body and body_c both given", v->file, v->id);
    bool valid = strcmp(v->result, "valid") == 0;
    if (!valid && strcmp(v->result, "invalid") != 0)
        fail_msg("%s case %s: result must be valid or invalid", v->file, v->id);
    /* The two markers must agree, so a typo in one cannot turn a case around. */
    if (valid != (strcmp(v->reason, "ok") == 0))
        fail_msg("%s case %s: result and reason disagree", v->file, v->id);

    struct gw_secret secrets[MAX_SECRETS];
    for (size_t i = 0; i < v->n_secrets; i++)
        secrets[i] =
            (struct gw_secret){.data = (char *)v->secrets[i], .len = strlen(v->secrets[i])};

    char names[MAX_HEADERS][64];
    struct gw_header items[MAX_HEADERS];
    for (size_t i = 0; i < v->n_headers; i++) {
        const char *colon = strstr(v->headers[i], ": ");
        if (colon == NULL || (size_t)(colon - v->headers[i]) >= sizeof names[i])
            fail_msg("%s case %s: header \"%s\" is not \"Name: value\"", v->file, v->id,
                     v->headers[i]);
        snprintf(names[i], sizeof names[i], "%.*s", (int)(colon - v->headers[i]), v->headers[i]);
        items[i] = (struct gw_header){names[i], colon + 2};
    }
    struct gw_headers headers = {items, v->n_headers};

    unsigned char *body = NULL;
    size_t body_len = 0;
    if (v->body_c != NULL) {
        body = malloc(strlen(v->body_c) + 1);
        assert_non_null(body);
        body_len = unescape(v->body_c, body);
    } else if (v->body != NULL) {
        body_len = strlen(v->body);
        body = malloc(body_len + 1);
        assert_non_null(body);
        memcpy(body, v->body, body_len);
    }

    struct gw_verify_input in = {.body = body,
                                 .body_len = body_len,
                                 .headers = &headers,
                                 .secrets = secrets,
                                 .n_secrets = v->n_secrets,
                                 .tolerance_s = (uint64_t)number(v, v->tolerance, 0),
                                 .now = (time_t)number(v, v->now, 0),
                                 .token_header = v->token_header};
    struct gw_verify_detail d;
    memset(&d, 0x5a, sizeof d);
    enum gw_verify_result got = verifier->verify(&in, &d);
    free(body);
    if (strcmp(gw_verify_result_name(got), v->reason) != 0)
        fail_msg("%s case %s: got %s (%s: %s), want %s", v->file, v->id, gw_verify_result_name(got),
                 d.header, d.note, v->reason);
    long long want_index = number(v, v->secret_index, valid ? 0 : -1);
    if (d.secret_index != want_index)
        fail_msg("%s case %s: secret_index %d, want %lld", v->file, v->id, d.secret_index,
                 want_index);
    if (v->signed_len != NULL && (long long)d.signed_len != number(v, v->signed_len, 0))
        fail_msg("%s case %s: signed_len %zu, want %s", v->file, v->id, d.signed_len,
                 v->signed_len);
    assert_non_null(memchr(d.note, '\0', sizeof d.note));
    assert_non_null(memchr(d.header, '\0', sizeof d.header));
    assert_true(strlen(d.note) > 0);
    for (size_t i = 0; i < v->n_secrets; i++) {
        assert_null(strstr(d.note, v->secrets[i]));
        assert_null(strstr(d.header, v->secrets[i]));
    }
}

static void set_key(struct vcase *v, const char *key, const char *value)
{
    const struct {
        const char *key;
        const char **field;
    } keys[] = {{"id", &v->id},
                {"result", &v->result},
                {"reason", &v->reason},
                {"secret_index", &v->secret_index},
                {"now", &v->now},
                {"tolerance", &v->tolerance},
                {"token_header", &v->token_header},
                {"body", &v->body},
                {"body_c", &v->body_c},
                {"signed_len", &v->signed_len},
                {"comment", NULL}};
    if (strcmp(key, "secret") == 0) {
        assert_true(v->n_secrets < MAX_SECRETS);
        v->secrets[v->n_secrets++] = value;
        return;
    }
    if (strcmp(key, "header") == 0) {
        assert_true(v->n_headers < MAX_HEADERS);
        v->headers[v->n_headers++] = value;
        return;
    }
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        if (strcmp(key, keys[k].key) != 0)
            continue;
        if (keys[k].field != NULL) {
            if (*keys[k].field != NULL)
                fail_msg("%s: key %s repeated in one case", v->file, key);
            *keys[k].field = value;
        }
        return;
    }
    fail_msg("%s: unknown key %s", v->file, key);
}

/* Runs every case of PATH; counts them and notes whether case REQUIRED_ID was among them. */
static void run_file(const struct gw_verifier *verifier, const char *path, const char *required_id,
                     size_t *n_cases, size_t *n_valid, bool *seen_required)
{
    size_t len = 0;
    char *text = test_read(path, &len);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    assert_int_equal(strlen(text), len); /* no NUL inside: values are taken up to it */
    struct vcase v = {.file = path};
    char *line = text;
    for (;;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (line[0] == '\0') { /* a blank line or the end closes a case */
            if (v.id != NULL || v.n_headers > 0 || v.n_secrets > 0) {
                run_case(verifier, &v);
                (*n_cases)++;
                *n_valid += strcmp(v.result, "valid") == 0;
                *seen_required |= strcmp(v.id, required_id) == 0;
            }
            v = (struct vcase){.file = path};
        } else if (line[0] != '#') {
            char *eq = strchr(line, '=');
            if (eq == NULL)
                fail_msg("%s: line without '=': %s", path, line);
            *eq = '\0';
            set_key(&v, line, eq + 1);
        }
        if (nl == NULL)
            break;
        line = nl + 1;
    }
    if (v.id != NULL) {
        run_case(verifier, &v);
        (*n_cases)++;
        *n_valid += strcmp(v.result, "valid") == 0;
        *seen_required |= strcmp(v.id, required_id) == 0;
    }
    free(text);
}

/* Every *.txt of tests/vectors/DIR: at least MIN_CASES cases, valid and invalid ones, and the
 * published case REQUIRED_ID among them, so an emptied or truncated file cannot pass. */
static void run_dir(const struct gw_verifier *verifier, const char *dir, const char *required_id,
                    size_t min_cases)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/vectors/%s", CTGW_SOURCE_ROOT, dir);
    DIR *d = opendir(path);
    if (d == NULL)
        fail_msg("cannot open %s", path);
    size_t n_cases = 0;
    size_t n_valid = 0;
    size_t n_files = 0;
    bool seen_required = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".txt") != 0)
            continue;
        char file[1024];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        run_file(verifier, file, required_id, &n_cases, &n_valid, &seen_required);
        n_files++;
    }
    closedir(d);
    assert_true(n_files >= 1);
    if (!seen_required)
        fail_msg("%s: no case \"%s\"", path, required_id);
    if (n_cases < min_cases)
        fail_msg("%s: %zu cases, at least %zu expected", path, n_cases, min_cases);
    assert_true(n_valid >= 1);
    assert_true(n_valid < n_cases);
}

static void test_slack_vectors(void **state)
{
    (void)state;
    run_dir(&gw_verifier_slack, "slack", "official", 10);
}

static void test_xero_vectors(void **state)
{
    (void)state;
    run_dir(&gw_verifier_xero, "xero", "computed", 6);
}

static void test_stripe_vectors(void **state)
{
    (void)state;
    run_dir(&gw_verifier_stripe, "stripe", "computed", 10);
}

static void test_asana_vectors(void **state)
{
    (void)state;
    run_dir(&gw_verifier_asana, "asana", "heartbeat", 5);
}

static void test_mailgun_vectors(void **state)
{
    (void)state;
    run_dir(&gw_verifier_mailgun, "mailgun", "urlencoded", 9);
}

static void test_basic_auth_vectors(void **state)
{
    (void)state;
    run_dir(&gw_verifier_basic_auth, "basic-auth", "rfc7617", 5);
}

static void test_token_vectors(void **state)
{
    (void)state;
    run_dir(&gw_verifier_token, "token", "rfc6750", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slack_vectors),   cmocka_unit_test(test_xero_vectors),
        cmocka_unit_test(test_stripe_vectors),  cmocka_unit_test(test_asana_vectors),
        cmocka_unit_test(test_mailgun_vectors), cmocka_unit_test(test_basic_auth_vectors),
        cmocka_unit_test(test_token_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
