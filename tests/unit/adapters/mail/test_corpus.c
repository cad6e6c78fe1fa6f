/* test_corpus.c — every message of the shared e-mail corpus (real messages from mail
 * libraries' and clients' test data, ../shared/corpus/email beside the project) through the
 * parser under AddressSanitizer: none may fail, crash or leak, each must give a subject, a
 * sender or an explicit unknown sender, valid UTF-8 text and named attachments with sizes;
 * then exact values for a sample of them. The corpus is not copied into the repository; a
 * missing corpus fails the test. CTGW_MAIL_CORPUS overrides where it is. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "adapters/mail/compose.h"
#include "tests/support/files.h"
#include "tests/unit/adapters/mail/mail_checks.h"

#define CORPUS_FILES_MAX 2000

static char corpus_dir[4096];

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .eml files of the corpus, sorted; fails the test when there are none. */
static char **corpus_files(size_t *count)
{
    DIR *d = opendir(corpus_dir);
    if (d == NULL)
        fail_msg("the e-mail corpus is missing: %s (set CTGW_MAIL_CORPUS)", corpus_dir);
    char **names = test_must_alloc(calloc(CORPUS_FILES_MAX, sizeof(char *)));
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < CORPUS_FILES_MAX) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".eml") == 0)
            names[n++] = test_must_alloc(strdup(e->d_name));
    }
    closedir(d);
    if (n == 0)
        fail_msg("no .eml file in %s", corpus_dir);
    qsort(names, n, sizeof(char *), by_name);
    *count = n;
    return names;
}

/* The corpus file NAME, whole (caller frees); fails the test when it cannot be read. */
static char *corpus_read(const char *name, size_t *len)
{
    char path[4400];
    snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
    char *raw = test_read(path, len);
    if (raw == NULL)
        fail_msg("%s: unreadable", name);
    return raw;
}

/* The corpus file whose name starts with prefix ("076-"), parsed. */
static struct gw_mail *corpus_mail(const char *prefix)
{
    size_t n;
    char **names = corpus_files(&n);
    struct gw_mail *m = NULL;
    for (size_t i = 0; i < n; i++) {
        if (m == NULL && strncmp(names[i], prefix, strlen(prefix)) == 0) {
            size_t len;
            char *raw = corpus_read(names[i], &len);
            m = parse_with(raw, len, NULL);
            free(raw);
        }
        free(names[i]);
    }
    free(names);
    if (m == NULL)
        fail_msg("no corpus message %s*", prefix);
    return m;
}

static void test_every_message(void **state)
{
    (void)state;
    size_t n;
    char **names = corpus_files(&n);
    /* The manifest lists 116 messages; the folder holds the .eml files actually shipped. */
    if (n < 100)
        fail_msg("only %zu messages in %s", n, corpus_dir);
    size_t with_text = 0, with_attachments = 0, known = 0, html = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *raw = corpus_read(names[i], &len);
        struct gw_mail *m = NULL;
        char err[128] = "";
        if (gw_mail_parse((const unsigned char *)raw, len, NULL, &m, err, sizeof(err)) != 0)
            fail_msg("%s: %s", names[i], err);
        check_mail(m, NULL);
        /* A sender, or explicitly none. */
        if (!m->from_known && m->from.address[0] != '\0' && strchr(m->from.address, '@'))
            fail_msg("%s: a sender address that is not called known", names[i]);
        for (size_t k = 0; k < m->attachment_count; k++)
            if (m->attachments[k].filename[0] == '\0')
                fail_msg("%s: attachment %zu has no name", names[i], k);
        with_text += m->text_len > 0;
        with_attachments += m->attachment_count > 0;
        known += m->from_known;
        html += m->text_from_html;
        gw_mail_free(m);
        free(raw);
        free(names[i]);
    }
    free(names);
    print_message("%zu messages: %zu with text (%zu from HTML), %zu with attachments, "
                  "%zu with a known sender\n",
                  n, with_text, html, with_attachments, known);
    /* Most of the corpus has a body, a sender, attachments: a parser that loses them all
     * would still pass the checks above. */
    assert_true(with_text >= n * 8 / 10);
    assert_true(known >= n * 8 / 10);
    assert_true(with_attachments >= 30);
}

static void test_sample_subjects_and_attachments(void **state)
{
    (void)state;
    struct gw_mail *m = corpus_mail("012-");
    assert_string_equal(m->subject, "Another PDF with 🎉 Unicode chars in it 🍿");
    assert_int_equal(m->attachment_count, 1);
    assert_string_equal(m->attachments[0].filename, "broken.pdf");
    assert_string_equal(m->attachments[0].content_type, "application/pdf");
    assert_int_equal(m->attachments[0].size, 1026);
    assert_memory_equal(m->attachments[0].data, "%PDF", 4);
    gw_mail_free(m);

    m = corpus_mail("014-");
    assert_string_equal(m->subject, "Nodemailer is unicode friendly ✔ (1476358788189)");
    assert_int_equal(attachment_named(m, "image.png")->size, 126);
    assert_int_equal(attachment_named(m, "nyan cat ✔.gif")->size, 29361);
    assert_int_equal(attachment_named(m, "notes.txt")->size, 28);
    assert_string_equal(m->text, "Hello to myself!");
    gw_mail_free(m);

    m = corpus_mail("026-");
    assert_string_equal(m->subject, "Eelanalüüsi päring");
    assert_int_equal(attachment_named(m, "Eelanalüüsi päring.jpg")->size, 1952);
    gw_mail_free(m);

    m = corpus_mail("065-");
    assert_int_equal(attachment_named(m, "管理.doc")->size, 7);
    gw_mail_free(m);

    m = corpus_mail("104-");
    assert_int_equal(attachment_named(m, "winmail.dat")->size, 9566);
    assert_string_equal(attachment_named(m, "winmail.dat")->content_type, "application/ms-tnef");
    gw_mail_free(m);

    m = corpus_mail("083-");
    assert_string_equal(m->subject, "Attached message with attachments");
    assert_string_equal(m->text, "This message has one normal attachment and one email attachment, "
                                 "which itself has 3 attachments.");
    attachment_named(m, "message1.eml");
    assert_int_equal(attachment_named(m, "yellowPixel.png")->size, 119);
    /* The nested message's own attachments stay inside it. */
    assert_int_equal(m->attachment_count, 2);
    gw_mail_free(m);
}

static void test_sample_charsets(void **state)
{
    (void)state;
    struct gw_mail *m = corpus_mail("021-");
    assert_string_equal(m->subject, "αλφάβητο");
    assert_string_equal(m->text, "Άλφα");
    gw_mail_free(m);

    m = corpus_mail("022-");
    assert_string_equal(m->subject, "Алфавит");
    assert_string_equal(m->text, "Вопрос");
    gw_mail_free(m);

    m = corpus_mail("024-");
    assert_string_equal(m->subject, "日本語メールテスト (testing Japanese emails)");
    gw_mail_free(m);

    m = corpus_mail("029-");
    assert_string_equal(m->subject, "RE: 회원님께 Ersi님이 메시지를 보냈습니다.");
    assert_string_equal(m->from.name, "김 현진");
    gw_mail_free(m);

    m = corpus_mail("038-");
    assert_non_null(strstr(m->text, "このメールはテスト用のメールです。"));
    gw_mail_free(m);

    m = corpus_mail("039-");
    assert_string_equal(m->text, "Hi Magnus, here a better UTF-16 encoded mail.");
    gw_mail_free(m);

    m = corpus_mail("040-");
    assert_non_null(strstr(m->text, "Aquí tenemos texto en español"));
    gw_mail_free(m);

    m = corpus_mail("041-");
    assert_non_null(strstr(m->text, "Mätterhorn"));
    gw_mail_free(m);

    m = corpus_mail("005-");
    assert_true(m->text_from_html);
    assert_string_equal(m->text, "Search for hühü");
    gw_mail_free(m);
}

static void test_sample_replies_and_reports(void **state)
{
    (void)state;
    const char *replies[] = {"076-", "077-", "078-", "079-", "080-"};
    for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        struct gw_mail *m = corpus_mail(replies[i]);
        if (strcmp(m->reply_text, "Hello") != 0)
            fail_msg("%s: reply_text '%s'", replies[i], m->reply_text);
        assert_true(m->text_len > m->reply_text_len);
        gw_mail_free(m);
    }

    struct gw_mail *m = corpus_mail("081-");
    assert_string_equal(m->in_reply_to, "348F04F142D69C21-291E56D292BC@xxxx.net");
    assert_int_equal(m->references_count, 2);
    assert_string_equal(m->references[0], "473FF3B8.9020707@xxx.org");
    assert_string_equal(m->references[1], "348F04F142D69C21-291E56D292BC@xxxx.net");
    gw_mail_free(m);

    m = corpus_mail("087-");
    assert_string_equal(m->auto_submitted, "auto-replied");
    gw_mail_free(m);

    m = corpus_mail("088-");
    assert_true(m->return_path_empty);
    assert_string_equal(m->x_auto_response_suppress, "All");
    gw_mail_free(m);

    m = corpus_mail("090-");
    assert_string_equal(m->precedence, "bulk");
    gw_mail_free(m);

    m = corpus_mail("095-");
    assert_true(m->is_dsn);
    assert_string_equal(m->dsn_message_id, "00222222-2222-2222-2222-FF00FFFF0000@example.jp");
    gw_mail_free(m);

    m = corpus_mail("096-");
    assert_true(m->is_dsn);
    assert_string_equal(m->dsn_message_id,
                        "15655788.13.1200472642578.JavaMail.Administrator@mail.ttttt.com.au");
    gw_mail_free(m);

    m = corpus_mail("071-"); /* bare CR line ends */
    assert_true(m->is_dsn);
    assert_string_equal(m->subject, "Undelivered Mail Returned to Sender");
    assert_string_equal(m->from.address, "MAILER-DAEMON@p351355.pool.example.ne.jp");
    gw_mail_free(m);

    m = corpus_mail("101-");
    assert_string_equal(m->precedence, "list");
    assert_string_equal(m->list_id, "Important GnuPG announcements <gnupg-announce.gnupg.org>");
    assert_true(m->list_unsubscribe);
    gw_mail_free(m);
}

static void test_sample_limits(void **state)
{
    (void)state;
    struct gw_mail *m = corpus_mail("034-");
    assert_int_equal(m->to_count, GW_MAIL_RECIPIENTS_MAX);
    assert_non_null(strstr(m->notes, "To recipients after the 100th were dropped"));
    gw_mail_free(m);

    m = corpus_mail("068-");
    assert_non_null(strstr(m->notes, "the subject was cut to 998 bytes"));
    assert_true(strncmp(m->subject, "Die heiße Zypernsonne", 22) == 0);
    gw_mail_free(m);

    m = corpus_mail("018-");
    assert_non_null(strstr(m->notes, "parts nested deeper than 10 levels were dropped"));
    gw_mail_free(m);
}

/* The shared corpus beside the project (../shared from the source root); a clone checked
 * out elsewhere on the same machine finds it at the workspace's /work/shared. */
static const char *corpus_default(void)
{
    static const char beside[] = CTGW_SOURCE_ROOT "/../shared/corpus/email";
    return access(beside, R_OK) == 0 || access("/work/shared/corpus/email", R_OK) != 0
               ? beside
               : "/work/shared/corpus/email";
}

/* ---- relayed: every message's fields composed again (what a relay that posts fields
 * makes of it), then parsed: the same text, sender, subject, ids and attachments. */

/* LIST's addresses as one "a, b" list (caller frees). */
static char *address_list(const struct gw_mail_address *list, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(list[i].address) + 2;
    char *out = test_must_alloc(calloc(1, len));
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(out, ", ");
        strcat(out, list[i].address);
    }
    return out;
}

static char *bracketed(const char *id)
{
    size_t len = strlen(id) + 3;
    char *out = test_must_alloc(malloc(len));
    snprintf(out, len, "<%s>", id);
    return out;
}

static void relay_one(const char *name, const struct gw_mail *m1)
{
    const char *pairs[6];
    char *owned[4] = {NULL, NULL, NULL, NULL};
    size_t n_pairs = 0;
    if (m1->message_id[0] != '\0') {
        pairs[2 * n_pairs] = "Message-ID";
        pairs[2 * n_pairs++ + 1] = owned[0] = bracketed(m1->message_id);
    }
    if (m1->in_reply_to[0] != '\0') {
        pairs[2 * n_pairs] = "In-Reply-To";
        pairs[2 * n_pairs++ + 1] = owned[1] = bracketed(m1->in_reply_to);
    }
    if (m1->references_count > 0) {
        size_t len = 1;
        for (size_t i = 0; i < m1->references_count; i++)
            len += strlen(m1->references[i]) + 3;
        char *refs = owned[2] = test_must_alloc(calloc(1, len));
        for (size_t i = 0; i < m1->references_count; i++) {
            strcat(refs, i > 0 ? " <" : "<");
            strcat(refs, m1->references[i]);
            strcat(refs, ">");
        }
        pairs[2 * n_pairs] = "References";
        pairs[2 * n_pairs++ + 1] = refs;
    }
    struct gw_mail_compose_file *files =
        test_must_alloc(calloc(m1->attachment_count + 1, sizeof *files));
    for (size_t i = 0; i < m1->attachment_count; i++) {
        const struct gw_mail_attachment *a = &m1->attachments[i];
        files[i] = (struct gw_mail_compose_file){.name = a->filename,
                                                 .content_type = a->content_type,
                                                 .content_id = a->content_id,
                                                 .data = a->data,
                                                 .len = a->size};
    }
    char *to = address_list(m1->to, m1->to_count), *cc = address_list(m1->cc, m1->cc_count);
    struct gw_mail_compose in = {
        .header_pairs = pairs,
        .n_header_pairs = n_pairs,
        .from = m1->from.address,
        .to = to,
        .cc = cc,
        .subject = m1->subject,
        .text = m1->text,
        .text_len = m1->text_len,
        .files = files,
        .n_files = m1->attachment_count,
    };
    unsigned char *raw = NULL;
    size_t len = 0;
    char err[160] = "";
    if (gw_mail_compose(&in, &raw, &len, err, sizeof err) != 0)
        fail_msg("%s: compose: %s", name, err);
    struct gw_mail *m2 = parse_with((const char *)raw, len, NULL);
    if (strcmp(m2->text, m1->text) != 0)
        fail_msg("%s: the text changed:\n[%s]\n[%s]", name, m1->text, m2->text);
    if (strcmp(m2->subject, m1->subject) != 0)
        fail_msg("%s: subject [%s] became [%s]", name, m1->subject, m2->subject);
    if (m1->from_known && strcmp(m2->from.address, m1->from.address) != 0)
        fail_msg("%s: from %s became %s", name, m1->from.address, m2->from.address);
    if (strcmp(m2->message_id, m1->message_id) != 0 ||
        strcmp(m2->in_reply_to, m1->in_reply_to) != 0 ||
        m2->references_count != m1->references_count)
        fail_msg("%s: the thread ids changed", name);
    if (m2->to_count != m1->to_count || m2->cc_count != m1->cc_count)
        fail_msg("%s: %zu/%zu recipients became %zu/%zu", name, m1->to_count, m1->cc_count,
                 m2->to_count, m2->cc_count);
    if (m2->attachment_count != m1->attachment_count)
        fail_msg("%s: %zu attachments became %zu", name, m1->attachment_count,
                 m2->attachment_count);
    for (size_t i = 0; i < m1->attachment_count; i++) {
        const struct gw_mail_attachment *a = &m1->attachments[i], *b = &m2->attachments[i];
        if (strcmp(a->filename, b->filename) != 0 || strcmp(a->content_type, b->content_type) != 0)
            fail_msg("%s: attachment %s (%s) became %s (%s)", name, a->filename, a->content_type,
                     b->filename, b->content_type);
        /* A forwarded message is written out again by GMime; other files are bytes. */
        if (strcmp(a->content_type, "message/rfc822") != 0 &&
            (a->size != b->size || (a->size > 0 && memcmp(a->data, b->data, a->size) != 0)))
            fail_msg("%s: the bytes of %s changed", name, a->filename);
    }
    gw_mail_free(m2);
    free(raw);
    free(files);
    free(to);
    free(cc);
    for (size_t i = 0; i < 4; i++)
        free(owned[i]);
}

static void test_every_message_relayed(void **state)
{
    (void)state;
    size_t n;
    char **names = corpus_files(&n);
    size_t relayed = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *raw = corpus_read(names[i], &len);
        struct gw_mail *m = parse_with(raw, len, NULL);
        if (!m->cut) { /* a message the limits cut is not whole to begin with */
            relay_one(names[i], m);
            relayed++;
        }
        gw_mail_free(m);
        free(raw);
        free(names[i]);
    }
    free(names);
    print_message("%zu of %zu messages relayed\n", relayed, n);
    if (relayed < 90)
        fail_msg("only %zu messages were whole enough to relay", relayed);
}

int main(void)
{
    const char *env = getenv("CTGW_MAIL_CORPUS");
    snprintf(corpus_dir, sizeof(corpus_dir), "%s",
             env != NULL && env[0] != '\0' ? env : corpus_default());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_message),
        cmocka_unit_test(test_sample_subjects_and_attachments),
        cmocka_unit_test(test_sample_charsets),
        cmocka_unit_test(test_sample_replies_and_reports),
        cmocka_unit_test(test_sample_limits),
        cmocka_unit_test(test_every_message_relayed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
