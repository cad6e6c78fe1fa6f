/* mail_check.c — the checks of the `mail:` section that span a value's characters or two
 * keys: a host name for domain (it ends every Message-ID and reply address we hand out), a
 * header-safe loop_marker, and max_attachment within max_attachments_total. */
#include "config/mail_check.h"

#include <stdbool.h>
#include <string.h>

#include "config/units.h"

#define LABEL_MAX 63

/* The line of mail.KEY as written, or that of the section. */
static unsigned line_of(const struct gw_yaml_node *root, const char *key)
{
    const struct gw_yaml_node *mail = gw_yaml_get(root, "mail");
    const struct gw_yaml_node *v = mail != NULL ? gw_yaml_get(mail, key) : NULL;
    return v != NULL ? v->line : mail != NULL ? mail->line : 0;
}

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Dot-separated labels of 1..63 letters, digits and inner hyphens (RFC 1123); the length
 * bound is the key table's. An address literal or a trailing dot has no place in a
 * Message-ID's right-hand side. */
static bool host_name(const char *s)
{
    size_t label = 0;
    for (size_t i = 0;; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            if (c == '\0')
                return true;
            label = 0;
            continue;
        }
        if (!alnum(c) && !(c == '-' && label > 0))
            return false;
        if (++label > LABEL_MAX)
            return false;
    }
}

/* Visible ASCII only: the value is written into a header as it is and compared byte for
 * byte with what comes back. */
static bool header_token(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

void gw_cfg_check_mail(struct gw_cfg_walk *w, const struct gw_yaml_node *root,
                       const struct gw_config *cfg)
{
    const struct gw_mail_config *m = &cfg->mail;
    if (!m->enabled)
        return;
    if (m->domain != NULL && !host_name(m->domain))
        gw_cfg_error(w, line_of(root, "domain"),
                     "mail.domain: expected a host name such as mail.example.com (letters, "
                     "digits, hyphens and dots)");
    if (m->loop_marker != NULL && !header_token(m->loop_marker))
        gw_cfg_error(w, line_of(root, "loop_marker"),
                     "mail.loop_marker: expected visible ASCII characters only, no spaces");
    if (m->max_attachment > m->max_attachments_total) {
        char one[32];
        char all[32];
        gw_format_size(m->max_attachment, one, sizeof one);
        gw_format_size(m->max_attachments_total, all, sizeof all);
        unsigned line = line_of(root, "max_attachment");
        gw_cfg_error(w, line,
                     "mail.max_attachment: must be at most mail.max_attachments_total (%s), "
                     "got %s",
                     all, one);
    }
}
