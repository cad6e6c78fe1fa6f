/* fuzz.h — what every fuzz target shares: libFuzzer's entry point, and a reader that splits
 * an input into bounded NUL-terminated lines (header values) and the bytes after them. */
#ifndef CTGW_TESTS_FUZZ_H
#define CTGW_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Called by libFuzzer, or by replay.c once per corpus file. Returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rest of an input still to be read. */
struct fuzz_input {
    const uint8_t *p;
    size_t n;
};

/* Copies the next line (up to '\n' or the end) into OUT, at most CAP - 1 bytes (the rest of
 * a longer line is skipped), NUL-terminated; a NUL byte in the line ends the string early,
 * as it would in a header value. Returns false when nothing is left. */
static inline bool fuzz_line(struct fuzz_input *in, char *out, size_t cap)
{
    if (in->n == 0) {
        out[0] = '\0';
        return false;
    }
    const uint8_t *nl = memchr(in->p, '\n', in->n);
    size_t len = nl != NULL ? (size_t)(nl - in->p) : in->n;
    size_t copy = len < cap - 1 ? len : cap - 1;
    memcpy(out, in->p, copy);
    out[copy] = '\0';
    size_t used = nl != NULL ? len + 1 : len;
    in->p += used;
    in->n -= used;
    return true;
}

/* A broken invariant: crash so that libFuzzer (or the replay test) reports the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

#endif
