/* test_verify.c — `ctgw sign` and `ctgw verify` run in-process on a config written here:
 * the sign --raw / verify round trip for every signing scheme, the stale request told apart
 * from a wrong one, redaction, exit codes; and the captured-request reader's rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "gateway/cli/captured_request.h"
#include "gateway/cli/verify.h"
#include "tests/support/files.h"
#include "tests/support/pki.h"
#include "verifiers/base64.h"

#define SLACK_SECRET  "8f742231b10e8888abcd99yyyzzz85a5"
#define SW_SECRET     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define STRIPE_SECRET "whsec_stripe_test_0123456789abcdef"
#define XERO_SECRET   "xero-webhook-key-0123456789abcdefABCDEF"
#define MG_SECRET     "key-mailgun-0123456789abcdef0123456789"
#define SG_PASSWORD   "parse-password-0123456789"
#define SG_TOKEN      "parse-token-0123456789abcdef"
#define MULTIPART_BODY                                                                             \
    "--b05a5\r\nContent-Disposition: form-data; name=\"recipient\"\r\n\r\nsupport@example.com\r\n" \
    "--b05a5\r\nContent-Disposition: form-data; name=\"body-plain\"\r\n\r\n100% 'quoted' \\ "      \
    "text\r\n--b05a5--\r\n"
#define T0          1531420618 /* when the requests are signed */
#define WEEK        (7 * 86400)
#define PM_PASSWORD "postmark-password-0123456789"

#define CONFIG                                                                                     \
    "listen:\n"                                                                                    \
    "  port: 18080\n"                                                                              \
    "admin:\n"                                                                                     \
    "  port: 19090\n"                                                                              \
    "  token: file:admin_token\n"                                                                  \
    "database:\n"                                                                                  \
    "  user: ctgw\n"                                                                               \
    "  name: canticket\n"                                                                          \
    "endpoints:\n"                                                                                 \
    "  - id: slack-ops\n"                                                                          \
    "    provider: slack\n"                                                                        \
    "    secrets: [ \"file:slack_secret\" ]\n"                                                     \
    "  - id: demo-api\n"                                                                           \
    "    provider: generic\n"                                                                      \
    "    company: demo\n"                                                                          \
    "    secrets: [ \"file:sw_secret\" ]\n"                                                        \
    "  - id: billing\n"                                                                            \
    "    provider: stripe\n"                                                                       \
    "    secrets: [ \"file:stripe_secret\" ]\n"                                                    \
    "  - id: books\n"                                                                              \
    "    provider: xero\n"                                                                         \
    "    secrets: [ \"file:xero_secret\" ]\n"                                                      \
    "  - id: mail\n"                                                                               \
    "    provider: email-mailgun\n"                                                                \
    "    secrets: [ \"file:mg_secret\" ]\n"                                                        \
    "  - id: parse\n"                                                                              \
    "    provider: email-sendgrid\n"                                                               \
    "    username: relay\n"                                                                        \
    "    password: file:sg_password\n"                                                             \
    "  - id: parse-token\n"                                                                        \
    "    provider: email-sendgrid\n"                                                               \
    "    token: file:sg_token\n"                                                                   \
    "    header: X-Parse-Token\n"                                                                  \
    "  - id: parse-signed\n"                                                                       \
    "    provider: email-sendgrid\n"                                                               \
    "    public_key: file:sg.pub\n"                                                                \
    "  - id: crm\n"                                                                                \
    "    provider: ghl\n"                                                                          \
    "    public_key: file:" CTGW_SOURCE_ROOT "/tests/vectors/ghl/rfc8032-test1.pub.pem\n"          \
    "  - id: postmark\n"                                                                           \
    "    provider: email-postmark\n"                                                               \
    "    username: relay\n"                                                                        \
    "    password: file:pm_password\n"

/* A P-256 key pair for the SendGrid policy: the private PEM as DIR/sg.key, the public key as
 * SendGrid shows it (base64 of its DER) as DIR/sg.pub. */
static void write_sendgrid_keys(const char *dir)
{
    EVP_PKEY *key = pki_key("EC", 0);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL), 1);
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    free(test_write(dir, "sg.key", pem, (size_t)n, 0600));
    BIO_free(bio);
    unsigned char *der = NULL;
    int dl = i2d_PUBKEY(key, &der);
    assert_true(dl > 0);
    char b64[256];
    assert_true(gw_base64_encode(der, (size_t)dl, b64, sizeof b64, 0) > 0);
    OPENSSL_free(der);
    free(test_write_text(dir, "sg.pub", b64, 0644));
    EVP_PKEY_free(key);
}

struct fixture {
    char *dir;
    char *config;
    char path[512]; /* scratch for file names */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = test_mkdtemp();
    free(test_write_text(f->dir, "admin_token", "admin-token-0123456789", 0600));
    free(test_write_text(f->dir, "slack_secret", SLACK_SECRET "\n", 0600));
    free(test_write_text(f->dir, "sw_secret", SW_SECRET, 0600));
    free(test_write_text(f->dir, "stripe_secret", STRIPE_SECRET, 0600));
    free(test_write_text(f->dir, "xero_secret", XERO_SECRET, 0600));
    free(test_write_text(f->dir, "mg_secret", MG_SECRET, 0600));
    free(test_write_text(f->dir, "pm_password", PM_PASSWORD, 0600));
    free(test_write_text(f->dir, "other_secret", "not-the-right-secret-at-all", 0600));
    free(test_write_text(f->dir, "sg_password", SG_PASSWORD, 0600));
    free(test_write_text(f->dir, "sg_token", SG_TOKEN, 0600));
    write_sendgrid_keys(f->dir);
    f->config = test_write_text(f->dir, "ctgw.yaml", CONFIG, 0600);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_rmtree(f->dir);
    free(f->dir);
    free(f->config);
    free(f);
    return 0;
}

/* What one command printed. */
struct run {
    int rc;
    char *out, *err;
    size_t out_len;
};

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

/* Runs FN with the NULL-terminated arguments after it, capturing both streams. */
static struct run run_cli(int (*fn)(int, char **, FILE *, FILE *), ...)
{
    char *argv[40];
    int argc = 0;
    va_list ap;
    va_start(ap, fn);
    for (char *a; (a = va_arg(ap, char *)) != NULL;) {
        assert_true(argc < 39);
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    struct run r = {0};
    size_t err_len = 0;
    FILE *out = open_memstream(&r.out, &r.out_len);
    FILE *err = open_memstream(&r.err, &err_len);
    assert_non_null(out);
    assert_non_null(err);
    r.rc = fn(argc, argv, out, err);
    fclose(out);
    fclose(err);
    return r;
}

static char *path_in(struct fixture *f, const char *name)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
    return f->path;
}

/* `ctgw sign --raw` for ENDPOINT over BODY at T, saved as DIR/REQ_NAME. */
static void sign_raw(struct fixture *f, const char *endpoint, const char *body, const char *t,
                     const char *req_name)
{
    free(test_write_text(f->dir, "body", body, 0600));
    char body_path[512];
    snprintf(body_path, sizeof body_path, "%s/body", f->dir);
    struct run r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", endpoint, "--body",
                           body_path, "--raw", "--now", t, "--id", "msg_test_1", NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_string_equal(r.err, "");
    free(test_write(f->dir, req_name, r.out, r.out_len, 0600));
    run_free(&r);
}

static struct run verify_cfg(struct fixture *f, const char *endpoint, const char *req_name,
                             const char *now)
{
    char req[512];
    snprintf(req, sizeof req, "%s/%s", f->dir, req_name);
    return run_cli(gw_cli_verify, "verify", "-c", f->config, "--endpoint", endpoint, "--request",
                   req, "--now", now, NULL);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, haystack);
}

static void assert_lacks(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) != NULL)
        fail_msg("did not expect \"%s\" in:\n%s", needle, haystack);
}

/* --- round trips -------------------------------------------------------------------------- */

static void round_trip(void **state, const char *endpoint, const char *body, const char *secret)
{
    struct fixture *f = *state;
    sign_raw(f, endpoint, body, "1531420618", "req.http");
    struct run r = verify_cfg(f, endpoint, "req.http", "1531420700");
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "result     VERIFIED ok");
    assert_contains(r.out, "secret     #0 of 1 verified");
    assert_lacks(r.out, secret);
    assert_lacks(r.err, secret);
    run_free(&r);

    /* One flipped body byte: the same request no longer verifies. */
    char *raw = test_read(path_in(f, "req.http"), NULL);
    assert_non_null(raw);
    char *last = raw + strlen(raw) - 1;
    *last = *last == 'x' ? 'y' : 'x';
    free(test_write_text(f->dir, "flipped.http", raw, 0600));
    free(raw);
    r = verify_cfg(f, endpoint, "flipped.http", "1531420700");
    assert_int_equal(r.rc, GW_CLI_REFUSED);
    assert_contains(r.out, "REFUSED no_secret_matched");
    run_free(&r);
}

static void test_round_trip_standard_webhooks(void **state)
{
    round_trip(state, "demo-api", "{\"type\":\"job.create\",\"data\":{\"title\":\"Boiler\"}}",
               SW_SECRET);
}

static void test_round_trip_slack(void **state)
{
    round_trip(state, "slack-ops", "token=x&command=%2Fjob&text=boiler+broken", SLACK_SECRET);
}

static void test_round_trip_stripe(void **state)
{
    round_trip(state, "billing", "{\"id\":\"evt_1\",\"type\":\"invoice.paid\"}", STRIPE_SECRET);
}

static void test_round_trip_xero(void **state)
{
    round_trip(state, "books", "{\"events\":[],\"firstEventSequence\":0}", XERO_SECRET);
}

static void test_round_trip_mailgun(void **state)
{
    /* Mailgun's signed fields are appended to the form; the flipped byte lands in the
     * signature field, so the refusal is still no_secret_matched or malformed. */
    struct fixture *f = *state;
    sign_raw(f, "mail", "recipient=support%40example.com&body-plain=Hello", "1531420618",
             "mg.http");
    char *raw = test_read(path_in(f, "mg.http"), NULL);
    assert_non_null(raw);
    assert_contains(raw, "body-plain=Hello&timestamp=1531420618&token=msg_test_1&signature=");
    free(raw);
    struct run r = verify_cfg(f, "mail", "mg.http", "1531420700");
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "scheme     mailgun");
    assert_contains(r.out, "VERIFIED ok");
    run_free(&r);
}

/* MULTIPART_BODY, a form with boundary "b05a5" (caller frees). */
static char *multipart_body(void)
{
    return test_must_alloc(strdup(MULTIPART_BODY));
}

static void test_round_trip_mailgun_multipart(void **state)
{
    /* A multipart form (Mailgun's posts with attachments): the signed fields become parts
     * before the closing delimiter, the Content-Type names the boundary. */
    struct fixture *f = *state;
    char *body = multipart_body();
    sign_raw(f, "mail", body, "1531420618", "mgmp.http");
    char *raw = test_read(path_in(f, "mgmp.http"), NULL);
    assert_non_null(raw);
    assert_contains(raw, "Content-Type: multipart/form-data; boundary=b05a5\r\n");
    assert_contains(raw, "name=\"timestamp\"\r\n\r\n1531420618\r\n--b05a5\r\n");
    assert_contains(raw, "name=\"token\"\r\n\r\nmsg_test_1\r\n");
    assert_contains(raw, "name=\"signature\"\r\n\r\n");
    /* Still closed once, at the end. */
    size_t len = strlen(raw);
    assert_true(len > 11 && strcmp(raw + len - 11, "--b05a5--\r\n") == 0);
    struct run r = verify_cfg(f, "mail", "mgmp.http", "1531420700");
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "VERIFIED ok");
    run_free(&r);

    /* The curl form splices the same parts in with the shell: run that part of it. */
    char body_path[512];
    snprintf(body_path, sizeof body_path, "%s/body", f->dir);
    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "mail", "--body", body_path,
                "--now", "1531420618", "--id", "msg_test_1", NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "--data-binary '@-'");
    char *pipe_end = strstr(r.out, " |\n");
    assert_non_null(pipe_end);
    *pipe_end = '\0';
    FILE *sh = popen(r.out, "r");
    assert_non_null(sh);
    char got[4096];
    size_t n = fread(got, 1, sizeof got - 1, sh);
    got[n] = '\0';
    assert_int_equal(pclose(sh), 0);
    const char *sent = strstr(raw, "\r\n\r\n") + 4;
    assert_string_equal(got, sent);
    run_free(&r);
    free(raw);
    free(body);
}

static void test_sign_credentials_never_printed(void **state)
{
    struct fixture *f = *state;
    char *body = multipart_body();
    free(test_write_text(f->dir, "body", body, 0600));
    free(body);
    char body_path[512];
    snprintf(body_path, sizeof body_path, "%s/body", f->dir);
    /* Basic auth: curl asks for the password. */
    struct run r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "parse", "--body",
                           body_path, NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "curl -sS -X POST 'http://127.0.0.1:18080/hooks/parse'");
    assert_contains(r.out, "-H 'Content-Type: multipart/form-data; boundary=b05a5'");
    assert_contains(r.out, "-u 'relay'\":${CTGW_PASSWORD:?");
    assert_contains(r.out, "--data-binary '@");
    assert_lacks(r.out, SG_PASSWORD);
    run_free(&r);
    /* A token: from the environment. */
    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "parse-token", "--body",
                body_path, NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "-H \"X-Parse-Token: $CTGW_TOKEN\"");
    assert_lacks(r.out, SG_TOKEN);
    run_free(&r);
    /* The raw request would hold the credential: refused. */
    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "parse", "--body", body_path,
                "--raw", NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "never prints");
    assert_string_equal(r.out, "");
    run_free(&r);
}

static void test_round_trip_sendgrid_signed(void **state)
{
    struct fixture *f = *state;
    char *body = multipart_body();
    free(test_write_text(f->dir, "body", body, 0600));
    free(body);
    char body_path[512], key[512];
    snprintf(body_path, sizeof body_path, "%s/body", f->dir);
    snprintf(key, sizeof key, "%s/sg.key", f->dir);
    struct run r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "parse-signed",
                           "--body", body_path, "--raw", "--now", "1531420618", "--key", key, NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "X-Twilio-Email-Event-Webhook-Timestamp: 1531420618\r\n");
    assert_contains(r.out, "X-Twilio-Email-Event-Webhook-Signature: ");
    free(test_write(f->dir, "sg.http", r.out, r.out_len, 0600));
    run_free(&r);
    r = verify_cfg(f, "parse-signed", "sg.http", "1531420700");
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "scheme     sendgrid");
    assert_contains(r.out, "VERIFIED ok");
    run_free(&r);
    /* Five minutes later it is stale. */
    r = verify_cfg(f, "parse-signed", "sg.http", "1531421000");
    assert_int_equal(r.rc, GW_CLI_REFUSED);
    run_free(&r);
    /* Without the private key there is nothing to sign with. */
    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "parse-signed", "--body",
                body_path, NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "--key FILE");
    run_free(&r);
}

/* --- the screens -------------------------------------------------------------------------- */

static void test_stale_slack_told_apart(void **state)
{
    struct fixture *f = *state;
    sign_raw(f, "slack-ops", "token=x&command=%2Fjob&text=help", "1531420618", "old.http");
    char now[32];
    snprintf(now, sizeof now, "%d", T0 + WEEK);
    struct run r = verify_cfg(f, "slack-ops", "old.http", now);
    assert_int_equal(r.rc, GW_CLI_REFUSED);
    assert_contains(r.out, "REFUSED timestamp_outside_window");
    assert_contains(r.out, "header     X-Slack-Request-Timestamp");
    assert_contains(r.out, "604800 s before now (7d 0h 0m)");
    assert_contains(r.out, "the signature is right, the request is stale");
    /* The signature header is shown redacted, never its value. */
    assert_contains(r.out, "X-Slack-Signature: [redacted, 67 bytes]");
    assert_lacks(r.out, "v0=");
    run_free(&r);

    /* A week-old request signed with another secret is wrong, not merely stale. */
    char *other = test_replace(CONFIG, "file:slack_secret", "file:other_secret");
    free(test_write_text(f->dir, "other.yaml", other, 0600));
    free(other);
    char cfg2[512], req[512];
    snprintf(cfg2, sizeof cfg2, "%s/other.yaml", f->dir);
    snprintf(req, sizeof req, "%s/old.http", f->dir);
    r = run_cli(gw_cli_verify, "verify", "-c", cfg2, "--endpoint", "slack-ops", "--request", req,
                "--now", now, NULL);
    assert_int_equal(r.rc, GW_CLI_REFUSED);
    assert_contains(r.out, "it still fails: no_secret_matched");
    run_free(&r);
}

static void test_without_config_rotation(void **state)
{
    struct fixture *f = *state;
    sign_raw(f, "slack-ops", "token=x&text=rotate", "1531420618", "rot.http");
    char s1[512], s2[512], req[512];
    snprintf(s1, sizeof s1, "%s/other_secret", f->dir);
    snprintf(s2, sizeof s2, "%s/slack_secret", f->dir);
    snprintf(req, sizeof req, "%s/rot.http", f->dir);
    struct run r = run_cli(gw_cli_verify, "verify", "--scheme", "slack", "--secret-file", s1,
                           "--secret-file", s2, "--request", req, "--now", "1531420618", NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "secrets    2 configured");
    assert_contains(r.out, "secret     #1 of 2 verified");
    assert_lacks(r.out, SLACK_SECRET);
    run_free(&r);

    /* Only the wrong one: refused, and every secret was tried. */
    r = run_cli(gw_cli_verify, "verify", "--scheme", "slack", "--secret-file", s1, "--request", req,
                "--now", "1531420618", NULL);
    assert_int_equal(r.rc, GW_CLI_REFUSED);
    assert_contains(r.out, "secret     none of 1 verified");
    run_free(&r);

    /* A secret file others can read is refused as the config refuses it. */
    assert_int_equal(chmod(s2, 0644), 0);
    r = run_cli(gw_cli_verify, "verify", "--scheme", "slack", "--secret-file", s2, "--request", req,
                NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "chmod 600");
    assert_string_equal(r.out, "");
    run_free(&r);
    assert_int_equal(chmod(s2, 0600), 0);
}

static void test_token_value_never_shown(void **state)
{
    struct fixture *f = *state;
    free(test_write_text(f->dir, "tok", "tok-3f9a8b7c6d5e4f3a2b1c", 0600));
    free(test_write_text(f->dir, "tok.http",
                         "POST /hooks/x HTTP/1.1\nX-Relay-Auth: tok-3f9a8b7c6d5e4f3a2b1c\n\n{}",
                         0600));
    char tok[512], req[512];
    snprintf(tok, sizeof tok, "%s/tok", f->dir);
    snprintf(req, sizeof req, "%s/tok.http", f->dir);
    struct run r = run_cli(gw_cli_verify, "verify", "--scheme", "token", "--token-header",
                           "X-Relay-Auth", "--secret-file", tok, "--request", req, NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "X-Relay-Auth: [redacted, 24 bytes]");
    assert_lacks(r.out, "3f9a8b7c");
    run_free(&r);
}

static void test_curl_command(void **state)
{
    struct fixture *f = *state;
    free(test_write_text(f->dir, "body", "{\"type\":\"job.create\"}", 0600));
    char body[512];
    snprintf(body, sizeof body, "%s/body", f->dir);
    struct run r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "demo-api", "--body",
                           body, "--now", "1700000000", "--id", "msg_1", NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "curl -sS -X POST 'http://127.0.0.1:18080/hooks/demo-api'");
    assert_contains(r.out, "-H 'webhook-id: msg_1'");
    assert_contains(r.out, "-H 'webhook-timestamp: 1700000000'");
    assert_contains(r.out, "-H 'webhook-signature: v1,");
    assert_contains(r.out, "--data-binary '@");
    assert_lacks(r.out, SW_SECRET);
    assert_lacks(r.out, SW_SECRET + 6);
    run_free(&r);
}

/* basic-auth: the curl command names the user and takes the password from the environment;
 * --raw, which would have to print it, is refused. */
static void test_sign_basic_auth(void **state)
{
    struct fixture *f = *state;
    free(test_write_text(f->dir, "body", "{\"MessageID\":\"x\"}", 0600));
    char body[512];
    snprintf(body, sizeof body, "%s/body", f->dir);
    struct run r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "postmark", "--body",
                           body, NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out, "curl -sS -X POST 'http://127.0.0.1:18080/hooks/postmark'");
    assert_contains(r.out, "-H 'Content-Type: application/json'");
    assert_contains(r.out, "-u 'relay'\":${CTGW_PASSWORD:?set CTGW_PASSWORD to the password of "
                           "endpoint postmark}\"");
    assert_contains(r.out, "--data-binary '@");
    assert_lacks(r.out, PM_PASSWORD);
    assert_lacks(r.out, "Authorization");
    run_free(&r);

    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "postmark", "--body", body,
                "--raw", NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "$CTGW_PASSWORD");
    assert_string_equal(r.out, "");
    assert_lacks(r.err, PM_PASSWORD);
    run_free(&r);
}

/* `ctgw sign --key` for ghl: providers.md 3.5's body signed with the RFC 8032 test key gives
 * its published x-ghl-signature, and the request verifies against the endpoint. */
static void test_sign_ghl_with_key(void **state)
{
    struct fixture *f = *state;
    char *pem = test_read(CTGW_SOURCE_ROOT "/tests/vectors/ghl/rfc8032-test1.key.pem", NULL);
    assert_non_null(pem);
    free(test_write_text(f->dir, "ed.pem", pem, 0600));
    free(test_write_text(f->dir, "ed-open.pem", pem, 0644));
    free(pem);
    free(test_write_text(f->dir, "ghl.json",
                         "{\"type\":\"ContactCreate\",\"locationId\":\"ve9EPM428h8vShlRW1KT\","
                         "\"id\":\"nmFmQEsNgz6AVpgLVUJ0\",\"email\":\"jane@example.com\","
                         "\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"webhookId\":"
                         "\"6a0c1e5f-3d2b-4c8a-9e71-2f4b8d0a1c33\"}",
                         0600));
    char key[512], body[512], open_key[512];
    snprintf(key, sizeof key, "%s/ed.pem", f->dir);
    snprintf(open_key, sizeof open_key, "%s/ed-open.pem", f->dir);
    snprintf(body, sizeof body, "%s/ghl.json", f->dir);
    struct run r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "crm", "--body",
                           body, "--key", key, "--raw", NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    assert_contains(r.out,
                    "x-ghl-signature: 3z7WTNKEGTbGwoSuTku9+P4+f0ht4FNDiXN8TTr9XZoqAw+0hVbFX84"
                    "niUd4Md+Xar1x66RVPhgNGj3dgZTEBQ==\r\n");
    assert_contains(r.out, "Content-Type: application/json\r\n");
    assert_lacks(r.out, "PRIVATE KEY");
    free(test_write(f->dir, "ghl.http", r.out, r.out_len, 0600));
    run_free(&r);
    r = run_cli(gw_cli_verify, "verify", "-c", f->config, "--endpoint", "crm", "--request",
                path_in(f, "ghl.http"), NULL);
    assert_int_equal(r.rc, GW_CLI_OK);
    run_free(&r);
    /* Without --key there is nothing to sign a ghl request with; a key others may read, or
     * a public key, is refused. */
    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "crm", "--body", body, NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "--key FILE");
    run_free(&r);
    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "crm", "--body", body, "--key",
                open_key, NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    run_free(&r);
    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "crm", "--body", body, "--key",
                CTGW_SOURCE_ROOT "/tests/vectors/ghl/rfc8032-test1.pub.pem", NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    run_free(&r);
    /* --key for a scheme signed with a shared secret is a mistake, said so. */
    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "demo-api", "--body", body,
                "--key", key, NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "not signed with a private key");
    run_free(&r);
}

static void test_usage_errors(void **state)
{
    struct fixture *f = *state;
    struct run r =
        run_cli(gw_cli_verify, "verify", "-c", f->config, "--endpoint", "slack-ops", NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "--request FILE is required");
    run_free(&r);

    r = run_cli(gw_cli_verify, "verify", "-c", f->config, "--scheme", "slack", "--request", "x",
                NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    run_free(&r);

    r = run_cli(gw_cli_verify, "verify", "-c", f->config, "--endpoint", "nope", "--request",
                f->config, NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "no endpoint 'nope'");
    run_free(&r);

    r = run_cli(gw_cli_verify, "verify", "-c", f->config, "--endpoint", "slack-ops", "--request",
                path_in(f, "missing.http"), NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, "cannot read");
    run_free(&r);

    r = run_cli(gw_cli_verify, "verify", "--scheme", "slack", "--request", f->config, "--now",
                "yesterday", NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    run_free(&r);

    /* A config file that is not an HTTP request. */
    r = run_cli(gw_cli_verify, "verify", "-c", f->config, "--endpoint", "slack-ops", "--request",
                f->config, NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    assert_contains(r.err, ":1: the request line must be");
    run_free(&r);

    r = run_cli(gw_cli_sign, "sign", "-c", f->config, "--endpoint", "slack-ops", NULL);
    assert_int_equal(r.rc, GW_CLI_USAGE);
    run_free(&r);
}

/* --- the captured-request reader ----------------------------------------------------------- */

static struct gw_captured_request req_storage;

static int parse(const char *text, size_t len, struct gw_captured_error *err)
{
    return gw_captured_request_parse((const unsigned char *)text, len, &req_storage, err);
}

#define PARSE(lit, err) parse((lit), sizeof(lit) - 1, (err))

static void expect_refused(const char *text, size_t len, const char *why)
{
    struct gw_captured_error err;
    assert_int_equal(parse(text, len, &err), -1);
    assert_contains(err.what, why);
}

#define REFUSED(lit, why) expect_refused((lit), sizeof(lit) - 1, (why))

static void test_reader_accepts(void **state)
{
    (void)state;
    struct gw_captured_error err;
    const struct gw_captured_request *r = &req_storage;
    assert_int_equal(PARSE("POST /hooks/a?x=1 HTTP/1.1\r\nHost: h\r\nX-A:  v  \t\r\n"
                           "Empty:\r\n\r\nbody\n",
                           &err),
                     0);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->target, "/hooks/a?x=1");
    assert_string_equal(r->version, "HTTP/1.1");
    assert_true(r->crlf);
    assert_int_equal(r->headers.n, 3);
    assert_string_equal(r->items[1].name, "X-A");
    assert_string_equal(r->items[1].value, "v");
    assert_string_equal(r->items[2].value, "");
    assert_int_equal(r->body_len, 5); /* no Content-Length: all of it, newline included */

    assert_int_equal(PARSE("PUT / HTTP/1.0\nContent-Length: 3\n\nabc\n", &err), 0);
    assert_false(r->crlf);
    assert_int_equal(r->body_len, 3);
    assert_int_equal(r->trailing, 1);
    assert_memory_equal(r->body, "abc", 3);

    assert_int_equal(PARSE("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &err), 0);
    assert_int_equal(r->body_len, 0);
}

static void test_reader_refuses(void **state)
{
    (void)state;
    REFUSED("", "empty");
    REFUSED("\r\nPOST / HTTP/1.1\r\n\r\n", "blank line");
    REFUSED("POST  / HTTP/1.1\r\n\r\n", "request target");
    REFUSED("POST / HTTP/2\r\n\r\n", "HTTP/1.1 or HTTP/1.0");
    REFUSED("POST / HTTP/1.1\r\nA: b\r\n", "without a blank line");
    REFUSED("POST / HTTP/1.1\r\nA: b\nC: d\r\n\r\n", "LF alone");
    REFUSED("POST / HTTP/1.1\nA: b\r\n\n", "CRLF");
    REFUSED("POST / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "folded");
    REFUSED("POST / HTTP/1.1\r\nA : b\r\n\r\n", "directly by ':'");
    REFUSED("POST / HTTP/1.1\r\nA: b\rc\r\n\r\n", "CR inside");
    REFUSED("POST / HTTP/1.1\r\nA: b\x01\r\n\r\n", "control character");
    REFUSED("POST / HTTP/1.1\r\nA: \0b\r\n\r\n", "NUL inside");
    REFUSED("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc", "cut short");
    REFUSED("POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nabc", "follow the 1 bytes");
    REFUSED("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-length: 1\r\n\r\na", "2 times");
    REFUSED("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "decimal digits");
    REFUSED("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Transfer-Encoding");

    /* Bounds: headers, line length. */
    size_t cap = 64 + (GW_CAPTURED_HEADERS_MAX + 1) * 8;
    char *many = malloc(cap);
    assert_non_null(many);
    size_t n = (size_t)snprintf(many, cap, "POST / HTTP/1.1\r\n");
    for (int i = 0; i <= GW_CAPTURED_HEADERS_MAX; i++)
        n += (size_t)snprintf(many + n, cap - n, "A: %02d\r\n", i % 100);
    n += (size_t)snprintf(many + n, cap - n, "\r\n");
    expect_refused(many, n, "more than 100 headers");
    free(many);

    size_t long_len = GW_CAPTURED_LINE_MAX + 64;
    char *longline = malloc(long_len);
    assert_non_null(longline);
    memcpy(longline, "POST / HTTP/1.1\r\nA: ", 20);
    memset(longline + 20, 'x', long_len - 20);
    expect_refused(longline, long_len, "longer than 8192");
    free(longline);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_standard_webhooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_slack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_stripe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_xero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_mailgun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_mailgun_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_credentials_never_printed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_sendgrid_signed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_slack_told_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_config_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_value_never_shown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_curl_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_ghl_with_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_basic_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
        cmocka_unit_test(test_reader_accepts),
        cmocka_unit_test(test_reader_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
