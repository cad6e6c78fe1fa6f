/* text.h — checks on text that arrives from outside: UTF-8 that utf8mb4 can store, e-mail
 * address shape. */
#ifndef CTGW_TEXT_H
#define CTGW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (1-4) of the well-formed UTF-8 sequence at s[0..n) that utf8mb4 can store, its
 * code point in *cp; 0 when the bytes there are not one (overlong, surrogate, past
 * U+10FFFF, truncated, n 0). */
size_t gw_text_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

/* Counts the characters of s[0..len) when it is well-formed UTF-8 that utf8mb4 can store (no
 * overlong forms, no surrogates, nothing past U+10FFFF); false otherwise. */
bool gw_text_utf8_chars(const char *s, size_t len, size_t *chars);

/* A malloc'd copy of s[0..len) that utf8mb4 can store: each byte that is not part of a
 * well-formed sequence written as the four characters \xNN, so that a stored header with
 * a stray Latin-1 byte is kept (and shows what came) instead of failing its INSERT. NULL when
 * out of memory. */
char *gw_text_utf8_escaped(const char *s, size_t len);

/* Appends S to OUT (used bytes *LEN of CAP, NUL-terminated after): whole, well-formed UTF-8
 * sequences only (a malformed byte is dropped), control characters as spaces; stops at
 * MAX_CHARS characters in all (counted in *CHARS) or before a character that would not fit,
 * so that what comes from outside can be cut anywhere and still be stored. */
void gw_text_append_clean(char *out, size_t cap, size_t *len, size_t *chars, size_t max_chars,
                          const char *s);

/* Basic shape only: one '@' with something on both sides, no white space or control
 * characters, valid UTF-8, at most 254 bytes. Deliverability is not ours to judge. */
bool gw_text_email_valid(const char *s, size_t len);

#endif
