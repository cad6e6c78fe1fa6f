/* fuzz_mail_text.c — what gateway/core/mail_text.h makes of hostile names, content types,
 * subjects and Message-IDs: every result within its bound, valid UTF-8, and free of what it
 * promises to remove. Input: the text, as a message would give it (a NUL ends it early). */
#include <string.h>

#include "gateway/base/text.h"
#include "gateway/core/mail_text.h"
#include "tests/fuzz/fuzz.h"

#define TEXT_MAX 8192

static bool utf8(const char *s, size_t *chars)
{
    return gw_text_utf8_chars(s, strlen(s), chars);
}

static bool has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[TEXT_MAX + 1];
    size_t n = size < TEXT_MAX ? size : TEXT_MAX;
    size_t chars = 0;
    memcpy(text, data, n);
    text[n] = '\0';

    char name[GW_MAIL_FILENAME_SIZE];
    gw_mail_filename_sanitise(text, name);
    size_t len = strlen(name);
    FUZZ_CHECK(len >= 1 && len <= GW_MAIL_FILENAME_MAX && utf8(name, &chars));
    FUZZ_CHECK(strpbrk(name, "/\\:*?\"<>|") == NULL && !has_control(name));
    FUZZ_CHECK(name[0] != '.' && name[0] != ' ' && name[len - 1] != '.' && name[len - 1] != ' ');
    FUZZ_CHECK(strstr(name, "\xE2\x80\xAE") == NULL);

    char type[GW_MAIL_CONTENT_TYPE_SIZE];
    gw_mail_content_type_sanitise(text, type);
    len = strlen(type);
    const char *slash = strchr(type, '/');
    FUZZ_CHECK(len >= 3 && len < GW_MAIL_CONTENT_TYPE_SIZE && slash != NULL && slash > type &&
               slash[1] != '\0' && strchr(slash + 1, '/') == NULL);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(type[i] > 0x20 && type[i] < 0x7f && !(type[i] >= 'A' && type[i] <= 'Z'));

    char title[GW_MAIL_TITLE_SIZE];
    gw_mail_title(text, title);
    len = strlen(title);
    FUZZ_CHECK(len >= 1 && utf8(title, &chars) && chars <= GW_MAIL_TITLE_CHARS);
    FUZZ_CHECK(!has_control(title) && title[0] != ' ' && title[len - 1] != ' ');
    FUZZ_CHECK(strstr(title, "  ") == NULL);

    /* A small buffer bounds the line as much as the character count does. */
    char small[7];
    len = gw_mail_clean_line(text, 200, small, sizeof small);
    FUZZ_CHECK(len == strlen(small) && len < sizeof small && utf8(small, &chars));

    char id[GW_MAIL_MESSAGE_ID_SIZE];
    if (gw_mail_message_id_normalise(text, id) == 0) {
        len = strlen(id);
        FUZZ_CHECK(len >= 3 && len <= GW_MAIL_MESSAGE_ID_MAX && id[0] == '<' && id[len - 1] == '>');
        for (size_t i = 1; i + 1 < len; i++)
            FUZZ_CHECK(id[i] > 0x20 && id[i] < 0x7f && id[i] != '<' && id[i] != '>');
    } else {
        FUZZ_CHECK(id[0] == '\0');
    }

    size_t cut = gw_mail_utf8_prefix(text, n, n / 2);
    FUZZ_CHECK(cut <= n / 2 || cut == n);
    return 0;
}
