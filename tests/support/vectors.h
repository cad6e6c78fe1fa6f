/* vectors.h — reading the known-answer files of tests/vectors/: cases of KEY=VALUE lines,
 * each ended by a blank line or the end of the file; lines starting with '#' are comments. */
#ifndef CTGW_TESTS_SUPPORT_VECTORS_H
#define CTGW_TESTS_SUPPORT_VECTORS_H

#include <stddef.h>

/* A key a test knows, and where its value goes (NULL: accepted and ignored, as "comment"). */
struct ts_vector_key {
    const char *key;
    const char **field;
};

/* For each case of PATH that has an "id": points the fields of KEYS at the case's values
 * (NULL for the keys it lacks) and calls on_case(ud). Fails the test when the file cannot be read
 * or holds a NUL byte, on a line without '=', and on a key KEYS lacks or one repeated in a
 * case. The values live until on_case returns. */
void ts_vectors_each(const char *path, const struct ts_vector_key *keys, size_t n_keys,
                     void (*on_case)(void *ud), void *ud);

#endif
