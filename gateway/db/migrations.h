/* migrations.h — the schema migrations compiled into ctgw (the .sql files of gateway/migrations).
 */
#ifndef CTGW_MIGRATIONS_H
#define CTGW_MIGRATIONS_H

#include <stddef.h>

struct gw_migration {
    unsigned version;
    const char *name;
    const char *sql;
    size_t len;
};

/* In version order. */
extern const struct gw_migration gw_migrations[];
extern const size_t gw_migrations_count;

#endif
