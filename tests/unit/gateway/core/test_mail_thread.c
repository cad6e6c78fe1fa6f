/* test_mail_thread.c — the thread ids of gateway/core/mail_thread.h against the vectors of
 * tests/vectors/mail-thread/ (computed with openssl, not with ctgw): what is built for a
 * (company, ref), what reads back as whose, and what a forged, altered or moved id is. Also
 * the threading set-up from a config: the loop marker, and the refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "gateway/core/jobs.h"
#include "gateway/core/mail_thread.h"
#include "tests/support/vectors.h"

#define VECTORS CTGW_SOURCE_ROOT "/tests/vectors/mail-thread/computed.txt"
#define DOMAIN  "mail.example.com"
#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* A threading set up from a mail section with KEY (its text) and the test domain. */
static void threading(struct gw_mail_threading *t, const char *key, const char *loop_marker)
{
    struct gw_mail_config m = {
        .enabled = true,
        .thread_key = {.data = (char *)key, .len = strlen(key)},
        .domain = DOMAIN,
        .loop_marker = (char *)loop_marker,
    };
    char err[256];
    if (gw_mail_threading_init(t, &m, err, sizeof err) != 0)
        fail_msg("threading refused: %s", err);
}

struct vcase {
    const char *id, *key, *company, *ref, *tag, *message_id, *reply_address, *loop_marker;
    const char *text, *result, *reason;
    size_t builds, checks;
};

static uint64_t company_of(const struct vcase *v)
{
    assert_non_null(v->company);
    return strtoull(v->company, NULL, 10);
}

static void build_case(struct vcase *v)
{
    struct gw_mail_threading t;
    char out[GW_MAIL_THREAD_ID_SIZE];
    threading(&t, v->key, NULL);
    uint64_t company = company_of(v);
    if (gw_mail_thread_message_id(&t, company, v->ref, v->tag, out, sizeof out) != 0)
        fail_msg("%s: no Message-ID", v->id);
    if (strcmp(out, v->message_id) != 0)
        fail_msg("%s: Message-ID %s, expected %s", v->id, out, v->message_id);
    if (gw_mail_thread_reply_address(&t, company, v->ref, out, sizeof out) != 0)
        fail_msg("%s: no reply address", v->id);
    if (strcmp(out, v->reply_address) != 0)
        fail_msg("%s: reply address %s, expected %s", v->id, out, v->reply_address);
    if (v->loop_marker != NULL && strcmp(t.loop_marker, v->loop_marker) != 0)
        fail_msg("%s: loop marker %s, expected %s", v->id, t.loop_marker, v->loop_marker);

    /* What was built reads back as this company's, and as no other's. */
    char ref[32];
    char norm[32];
    assert_int_equal(gw_job_ref_normalise(v->ref, norm), 0);
    assert_true(gw_mail_thread_match(&t, company, v->message_id, strlen(v->message_id), ref));
    assert_string_equal(ref, norm);
    assert_true(gw_mail_thread_match(&t, company, v->reply_address, strlen(v->reply_address), ref));
    assert_string_equal(ref, norm);
    assert_false(gw_mail_thread_match(&t, company + 1, v->message_id, strlen(v->message_id), ref));
    assert_string_equal(ref, "");
    gw_mail_threading_wipe(&t);
    v->builds++;
}

static void check_case(struct vcase *v)
{
    struct gw_mail_threading t;
    struct gw_mail_thread_id id;
    char ref[32];
    threading(&t, KEY_HEX, NULL);
    bool parsed = gw_mail_thread_parse(v->text, strlen(v->text), &id);
    bool matched = gw_mail_thread_match(&t, company_of(v), v->text, strlen(v->text), ref);
    if (strcmp(v->result, "valid") == 0) {
        if (!matched)
            fail_msg("%s: %s did not match", v->id, v->text);
        assert_string_equal(ref, v->ref);
        assert_string_equal(id.ref, v->ref);
        assert_int_equal(id.reply_address,
                         strncasecmp(v->text + strspn(v->text, " "), "reply+", 6) == 0);
    } else {
        if (matched)
            fail_msg("%s: %s matched", v->id, v->text);
        assert_string_equal(ref, "");
        /* "form": not read as an id at all; "mac": read, and refused by its MAC. */
        if (parsed != (strcmp(v->reason, "mac") == 0))
            fail_msg("%s: parsed %d, reason %s", v->id, parsed, v->reason);
        if (!parsed)
            assert_string_equal(id.ref, "");
    }
    gw_mail_threading_wipe(&t);
    v->checks++;
}

static void on_case(void *ud)
{
    struct vcase *v = ud;
    if (v->text != NULL)
        check_case(v);
    else
        build_case(v);
}

static void test_vectors(void **state)
{
    (void)state;
    struct vcase v = {0};
    const struct ts_vector_key keys[] = {
        {"id", &v.id},
        {"key", &v.key},
        {"company", &v.company},
        {"ref", &v.ref},
        {"tag", &v.tag},
        {"message_id", &v.message_id},
        {"reply_address", &v.reply_address},
        {"loop_marker", &v.loop_marker},
        {"text", &v.text},
        {"result", &v.result},
        {"reason", &v.reason},
        {"comment", NULL},
    };
    ts_vectors_each(VECTORS, keys, sizeof keys / sizeof keys[0], on_case, &v);
    assert_int_equal(v.builds, 6);
    assert_int_equal(v.checks, 16);
}

/* Every single-character change of a valid id's MAC is refused. */
static void test_every_altered_mac_digit_is_refused(void **state)
{
    (void)state;
    struct gw_mail_threading t;
    char id[GW_MAIL_THREAD_ID_SIZE];
    char ref[32];
    threading(&t, KEY_HEX, NULL);
    assert_int_equal(gw_mail_thread_reply_address(&t, 42, "CT-000123", id, sizeof id), 0);
    char *mac = strchr(id, '.') + 1;
    for (size_t i = 0; i < GW_MAIL_THREAD_MAC_HEX; i++) {
        char saved = mac[i];
        mac[i] = saved == '0' ? '1' : '0';
        if (gw_mail_thread_match(&t, 42, id, strlen(id), ref))
            fail_msg("digit %zu changed still matches: %s", i, id);
        mac[i] = saved;
    }
    assert_true(gw_mail_thread_match(&t, 42, id, strlen(id), ref));
    gw_mail_threading_wipe(&t);
}

/* Another key (another installation) builds other ids and refuses ours. */
static void test_other_key(void **state)
{
    (void)state;
    struct gw_mail_threading ours, theirs;
    char id[GW_MAIL_THREAD_ID_SIZE];
    char ref[32];
    threading(&ours, KEY_HEX, NULL);
    threading(&theirs, "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0", NULL);
    assert_int_equal(gw_mail_thread_message_id(&ours, 42, "CT-000123", NULL, id, sizeof id), 0);
    assert_false(gw_mail_thread_match(&theirs, 42, id, strlen(id), ref));
    assert_string_not_equal(ours.loop_marker, theirs.loop_marker);
    gw_mail_threading_wipe(&ours);
    gw_mail_threading_wipe(&theirs);
}

static void test_refused_inputs(void **state)
{
    (void)state;
    struct gw_mail_threading t;
    char out[GW_MAIL_THREAD_ID_SIZE];
    threading(&t, KEY_HEX, "custom-marker");
    assert_string_equal(t.loop_marker, "custom-marker");
    static const char *const bad_refs[] = {NULL,   "",    "CT-",
                                           "CT-0", "abc", "CT-1234567890123456789"};
    for (size_t i = 0; i < sizeof bad_refs / sizeof bad_refs[0]; i++) {
        strcpy(out, "x");
        assert_int_equal(gw_mail_thread_message_id(&t, 1, bad_refs[i], NULL, out, sizeof out), -1);
        assert_string_equal(out, "");
        assert_int_equal(gw_mail_thread_reply_address(&t, 1, bad_refs[i], out, sizeof out), -1);
    }
    char long_tag[GW_MAIL_THREAD_TAG_MAX + 2];
    memset(long_tag, 'a', sizeof long_tag - 1);
    long_tag[sizeof long_tag - 1] = '\0';
    static const char *const bad_tags[] = {"", "a.b", "a b", "a@b", "<a>"};
    for (size_t i = 0; i < sizeof bad_tags / sizeof bad_tags[0]; i++)
        assert_int_equal(
            gw_mail_thread_message_id(&t, 1, "CT-000001", bad_tags[i], out, sizeof out), -1);
    assert_int_equal(gw_mail_thread_message_id(&t, 1, "CT-000001", long_tag, out, sizeof out), -1);
    long_tag[GW_MAIL_THREAD_TAG_MAX] = '\0'; /* 64: the longest allowed */
    assert_int_equal(gw_mail_thread_message_id(&t, 1, "CT-000001", long_tag, out, sizeof out), 0);
    /* A buffer one byte short holds nothing. */
    size_t need = strlen(out) + 1;
    assert_int_equal(gw_mail_thread_message_id(&t, 1, "CT-000001", long_tag, out, need - 1), -1);
    assert_string_equal(out, "");
    assert_int_equal(gw_mail_thread_message_id(&t, 1, "CT-000001", long_tag, out, need), 0);

    /* Parsing bounds: too long, NULL, empty. */
    struct gw_mail_thread_id id;
    char big[GW_MAIL_THREAD_TEXT_MAX + 2];
    memset(big, 'a', sizeof big);
    assert_false(gw_mail_thread_parse(big, sizeof big, &id));
    assert_false(gw_mail_thread_parse(NULL, 0, &id));
    assert_false(gw_mail_thread_parse("", 0, &id));
    assert_false(gw_mail_thread_parse("<>", 2, &id));
    assert_false(gw_mail_thread_verify(&t, 1, &id)); /* a zeroed id verifies as nothing */
    gw_mail_threading_wipe(&t);
}

static void test_init_refusals(void **state)
{
    (void)state;
    struct gw_mail_threading t;
    char err[256];
    struct gw_mail_config m = {0};
    assert_int_equal(gw_mail_threading_init(&t, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "no mail section"));
    assert_int_equal(gw_mail_threading_init(&t, NULL, err, sizeof err), -1);
    m = (struct gw_mail_config){
        .enabled = true, .thread_key = {.data = "short", .len = 5}, .domain = DOMAIN};
    assert_int_equal(gw_mail_threading_init(&t, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "mail.thread_key: expected 32 bytes"));
    assert_null(strstr(err, "short"));
    for (size_t i = 0; i < sizeof t.key; i++)
        assert_int_equal(t.key[i], 0);
    gw_mail_threading_wipe(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_every_altered_mac_digit_is_refused),
        cmocka_unit_test(test_other_key),
        cmocka_unit_test(test_refused_inputs),
        cmocka_unit_test(test_init_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
