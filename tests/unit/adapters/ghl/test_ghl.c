/* test_ghl.c — the pure parts of the GoHighLevel adapter: HighLevel's times (Z and offsets),
 * workflow title templates (fields, customData, bounds, UTF-8, control characters), and what
 * the `ghl` envelope makes of a verified delivery (dedupe key, tenant, bulk installs, the
 * body timestamp's tolerance, refusals). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/ghl/ghl.h"
#include "adapters/ghl/template.h"
#include "adapters/provider.h"
#include "config/config.h"

#define T_2026 1767225600LL /* 2026-01-01T00:00:00Z */

static void test_times(void **state)
{
    (void)state;
    assert_int_equal(gw_ghl_time_ms("2026-01-01T00:00:01.000Z"), (T_2026 + 1) * 1000);
    assert_int_equal(gw_ghl_time_ms("2026-01-01T00:00:01.25Z"), (T_2026 + 1) * 1000 + 250);
    assert_int_equal(gw_ghl_time_ms("2026-01-01T00:00:00"), T_2026 * 1000);
    /* 09:00 at -06:00 is 15:00 UTC; 05:30 at +05:30 is midnight. */
    assert_int_equal(gw_ghl_time_ms("2026-01-01T09:00:00-06:00"), (T_2026 + 15 * 3600) * 1000);
    assert_int_equal(gw_ghl_time_ms("2026-01-01T05:30:00+05:30"), T_2026 * 1000);
    char utc[20];
    gw_ghl_time_utc(gw_ghl_time_ms("2026-01-12T09:00:00-06:00"), utc);
    assert_string_equal(utc, "2026-01-12 15:00:00");
    static const char *const bad[] = {
        NULL,
        "",
        "yesterday",
        "2026-02-30T00:00:00Z",
        "2026-01-01T00:00:00+25:00",
        "2026-01-01T00:00:00+05:3x",
        "2026-01-01T00:00:00+14:30",
        "2026-01-01T00:00:00.000000000000000000000000000000Z",
        "1969-12-31T23:59:59Z",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gw_ghl_time_ms(bad[i]) != -1)
            fail_msg("'%s' read as a time", bad[i] ? bad[i] : "(null)");
}

static void test_templates(void **state)
{
    (void)state;
    cJSON *root = cJSON_Parse("{\"full_name\":\"Jane Doe\",\"n\":2,\"bad\":\"a\\tb\\nc\","
                              "\"customData\":{\"title\":\"Boiler service\",\"units\":3}}");
    assert_non_null(root);
    char out[64];
    assert_int_equal(
        gw_ghl_template("{{customData.title}} for {{full_name}}", root, 300, out, sizeof(out)),
        strlen("Boiler service for Jane Doe"));
    assert_string_equal(out, "Boiler service for Jane Doe");
    gw_ghl_template("{{n}}/{{customData.units}} {{missing}}{{customData.none}}", root, 300, out,
                    sizeof(out));
    assert_string_equal(out, "2/3");
    gw_ghl_template("[{{bad}}]", root, 300, out, sizeof(out));
    assert_string_equal(out, "[a b c]");
    gw_ghl_template("  {{missing}}  ", root, 300, out, sizeof(out));
    assert_string_equal(out, "");
    gw_ghl_template("open {{full_name", root, 300, out, sizeof(out));
    assert_string_equal(out, "open {{full_name");
    gw_ghl_template("{{customData.title.deeper}}{{a.b.c}}x", root, 300, out, sizeof(out));
    assert_string_equal(out, "x");
    /* Bounded by characters and by the buffer, never inside a UTF-8 sequence. */
    gw_ghl_template("{{full_name}}", root, 4, out, sizeof(out));
    assert_string_equal(out, "Jane");
    cJSON *wide = cJSON_Parse("{\"t\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}");
    char small[6];
    gw_ghl_template("{{t}}", wide, 300, small, sizeof(small));
    assert_string_equal(small, "\xc3\xa9\xc3\xa9");
    cJSON_Delete(wide);
    /* A malformed byte (the body's strings are not checked by cJSON) is dropped. */
    cJSON *broken = cJSON_Parse("{\"t\":\"a\xff\xc3 b\"}");
    gw_ghl_template("{{t}}\x80!", broken, 300, out, sizeof(out));
    assert_string_equal(out, "a b!");
    cJSON_Delete(broken);
    cJSON_Delete(root);
}

/* ------------------------------------------------------------------ the envelope */

struct run {
    enum gw_envelope_rc rc;
    struct gw_envelope out[4];
    size_t n;
    struct gw_answer answer;
};

static void run_envelope(const char *body, int64_t now, struct run *r)
{
    static struct gw_endpoint_config ep = {.id = "ghl"};
    const struct gw_provider *p = gw_provider_find("ghl");
    assert_non_null(p);
    assert_non_null(p->envelope);
    ep.provider = p;
    struct gw_headers none = {0};
    struct gw_inbound in = {
        .endpoint = &ep,
        .headers = &none,
        .body = (const unsigned char *)body,
        .body_len = strlen(body),
        .media_type = "application/json",
        .now = (time_t)now,
    };
    gw_answer_free(&r->answer);
    memset(r, 0, sizeof(*r));
    r->rc = p->envelope(&in, r->out, 4, &r->n, &r->answer);
}

static void test_envelope(void **state)
{
    (void)state;
    struct run r = {0};
    int64_t now = T_2026 + 1;
    run_envelope("{\"type\":\"ContactCreate\",\"locationId\":\"locA\",\"id\":\"c1\",\"timestamp\":"
                 "\"2026-01-01T00:00:01.000Z\",\"webhookId\":\"wh-1\"}",
                 now, &r);
    assert_int_equal(r.rc, GW_ENVELOPE_STORE);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.out[0].dedupe_key, "wh-1");
    assert_string_equal(r.out[0].tenant, "locA");
    /* An install is routed by its apply; a bulk one is one event per location. */
    run_envelope("{\"type\":\"INSTALL\",\"locationId\":\"locA\",\"timestamp\":\"2026-01-01T00:"
                 "00:00Z\",\"webhookId\":\"wh-2\"}",
                 now, &r);
    assert_int_equal(r.rc, GW_ENVELOPE_STORE);
    assert_string_equal(r.out[0].tenant, "");
    run_envelope("{\"type\":\"UNINSTALL\",\"locationIds\":[\"l1\",\"l2\"],\"timestamp\":\"2026-"
                 "01-01T00:00:00Z\",\"webhookId\":\"wh-3\"}",
                 now, &r);
    assert_int_equal(r.rc, GW_ENVELOPE_STORE);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.out[1].dedupe_key, "wh-3/l2");
    assert_string_equal(r.out[1].tenant, "l2");
    run_envelope("{\"type\":\"INSTALL\",\"locationIds\":[\"l1\",\"l2\",\"l3\",\"l4\",\"l5\"],"
                 "\"timestamp\":\"2026-01-01T00:00:00Z\",\"webhookId\":\"wh-4\"}",
                 now, &r);
    assert_int_equal(r.rc, GW_ENVELOPE_ANSWER); /* more than max */
    assert_int_equal(r.answer.status, 400);

    /* The body timestamp: 5 minutes either way by default. */
    const char *old = "{\"type\":\"ContactUpdate\",\"locationId\":\"locA\",\"timestamp\":\"2026-01-"
                      "01T00:00:00Z\",\"webhookId\":\"wh-5\"}";
    run_envelope(old, T_2026 + 300, &r);
    assert_int_equal(r.rc, GW_ENVELOPE_STORE);
    run_envelope(old, T_2026 + 301, &r);
    assert_int_equal(r.rc, GW_ENVELOPE_ANSWER);
    assert_int_equal(r.answer.status, 401);
    assert_non_null(r.answer.audit_reason);
    run_envelope(old, T_2026 - 301, &r);
    assert_int_equal(r.answer.status, 401);

    static const char *const refused[] = {
        "not json",
        "[]",
        "{\"locationId\":\"locA\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"webhookId\":\"w\"}",
        "{\"type\":\"NoteCreate\",\"locationId\":\"locA\",\"timestamp\":\"2026-01-01T00:00:00Z\"}",
        "{\"type\":\"NoteCreate\",\"locationId\":\"locA\",\"timestamp\":\"2026-01-01T00:00:00Z\","
        "\"webhookId\":\"a/b\"}",
        "{\"type\":\"NoteCreate\",\"locationId\":\"locA\",\"timestamp\":\"2026-01-01T00:00:00Z\","
        "\"webhookId\":\"a b\"}",
        "{\"type\":\"NoteCreate\",\"locationId\":\"locA\",\"webhookId\":\"w\"}",
        "{\"type\":\"NoteCreate\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"webhookId\":\"w\"}",
        "{\"type\":\"NoteCreate\",\"locationId\":7,\"timestamp\":\"2026-01-01T00:00:00Z\","
        "\"webhookId\":\"w\"}",
        "{\"type\":\"INSTALL\",\"locationIds\":[],\"timestamp\":\"2026-01-01T00:00:00Z\","
        "\"webhookId\":\"w\"}",
        "{\"type\":\"INSTALL\",\"locationIds\":[\"ok\",\"bad id\"],\"timestamp\":\"2026-01-01T00:"
        "00:00Z\",\"webhookId\":\"w\"}",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        run_envelope(refused[i], now, &r);
        if (r.rc != GW_ENVELOPE_ANSWER || r.answer.status != 400)
            fail_msg("stored or not a 400 (%d): %s", r.answer.status, refused[i]);
    }
    gw_answer_free(&r.answer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
