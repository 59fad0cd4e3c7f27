#ifndef XUNXING_CLIBPQ_SHIM_H
#define XUNXING_CLIBPQ_SHIM_H
#include <libpq-fe.h>

/* Type OIDs of the results the store reads (catalog/pg_type_d.h is a server header). */
enum {
    XX_PG_BOOL = 16, XX_PG_BYTEA = 17, XX_PG_INT8 = 20, XX_PG_INT2 = 21, XX_PG_INT4 = 23, XX_PG_OID = 26,
    XX_PG_FLOAT4 = 700, XX_PG_FLOAT8 = 701, XX_PG_NUMERIC = 1700, XX_PG_TEXT = 25
};

/* The error field the store reads (a character-literal macro Swift cannot import). */
enum { XX_PG_DIAG_SQLSTATE = PG_DIAG_SQLSTATE };

/* Drops the server's notices ("relation already exists, skipping"), which libpq would print on stderr. */
static void xx_pq_ignore_notice(void *arg, const char *message) { (void)arg; (void)message; }
static inline void xx_pq_silence_notices(PGconn *conn) { PQsetNoticeProcessor(conn, xx_pq_ignore_notice, 0); }

#endif
