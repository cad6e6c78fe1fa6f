/* migrate.h — applies the embedded schema migrations in order, once each, under a named
 * lock so that several ctgw processes may run it at the same time. */
#ifndef CTGW_MIGRATE_H
#define CTGW_MIGRATE_H

#include <stddef.h>

#include "gateway/db/db.h"

/* Applies every pending migration. On success returns 0 and sets *applied to how many were
 * applied now (0 when the schema was already current). On failure returns -1 with a
 * message in err. Refuses to go on when an applied migration's checksum no longer matches
 * the embedded file (someone edited a migration after it shipped). */
int gw_migrate_apply(struct gw_db *db, unsigned *applied, char *err, size_t errlen);

/* How many embedded migrations the database has not recorded, or -1 when it cannot tell
 * (server unreachable). A database without schema_migrations has all of them pending. */
int gw_migrate_pending(struct gw_db *db);

#endif
