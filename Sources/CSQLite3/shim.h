#ifndef XUNXING_CSQLITE3_SHIM_H
#define XUNXING_CSQLITE3_SHIM_H
#include <sqlite3.h>

/* SQLITE_TRANSIENT is a cast macro Swift cannot import: the library copies the bound bytes. */
static inline sqlite3_destructor_type xx_sqlite_transient(void) { return SQLITE_TRANSIENT; }

#endif
