/* postgres.c - placeholder until the PostgreSQL backend lands (issue #4). */
#include "store/store_backend.h"

enum status postgres_store_open(const char *url, unsigned pool_size, struct store **out,
                                struct scim_error *err)
{
    (void)url;
    (void)pool_size;
    *out = NULL;
    return scim_error_set(err, ERR_UNSUPPORTED, "PostgreSQL support is not built yet");
}
