/* units.h — strict parsers and printers for the sizes and durations written in the config. */
#ifndef CTGW_CONFIG_UNITS_H
#define CTGW_CONFIG_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Parses a byte count: digits, optionally followed by B, KiB, MiB or GiB ("512KiB").
 * Nothing else is accepted: no sign, no fraction, no space, no other suffix. Returns 0 and
 * stores the value, or returns -1 (on overflow too) and leaves *out alone. */
int gw_parse_size(const char *s, uint64_t *out);

/* Parses a duration into milliseconds: one or more groups of digits and a unit (ms, s, m,
 * h, d), larger units first and each unit once ("250ms", "2s", "1h30m"). A bare number is
 * refused, because "5" could mean seconds or milliseconds. Returns 0 or -1 like above. */
int gw_parse_duration_ms(const char *s, uint64_t *out);

/* Writes the shortest exact form of a size ("1KiB", "64MiB", "1500B") into buf. */
void gw_format_size(uint64_t bytes, char *buf, size_t len);

/* Writes a duration in the form gw_parse_duration_ms reads ("2s", "1h30m", "0ms"). */
void gw_format_duration_ms(uint64_t ms, char *buf, size_t len);

#endif
