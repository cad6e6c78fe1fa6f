/* template.h — job titles from a template and a HighLevel workflow body. */
#ifndef CTGW_GHL_TEMPLATE_H
#define CTGW_GHL_TEMPLATE_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Writes TMPL into OUT (CAP bytes, NUL-terminated) with each "{{field}}" replaced by that
 * top-level string or number of ROOT and each "{{customData.field}}" by that member of
 * ROOT's customData (missing: nothing), at most MAX_CHARS characters, control characters as
 * spaces, trimmed. Returns the length in bytes. */
size_t gw_ghl_template(const char *tmpl, const cJSON *root, size_t max_chars, char *out,
                       size_t cap);

#endif
