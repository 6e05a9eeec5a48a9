/*
 * artifacts.h - lets a unit test hand what scimd's C code produced (signed
 * webhooks, SETs, a JWKS) to a black-box test that verifies it with
 * third-party code: when SCIMD_EVENTS_OUT names a directory, artifact_write
 * puts a file there (tests/e2e/set_sign.test.mjs and webhook_sign.test.mjs set
 * it and run the unit binary); otherwise it writes nothing.
 */
#ifndef SCIMD_TESTS_EVENTS_ARTIFACTS_H
#define SCIMD_TESTS_EVENTS_ARTIFACTS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static inline void artifact_write(const char *name, const char *text)
{
    const char *dir = getenv("SCIMD_EVENTS_OUT");
    if (dir == NULL || dir[0] == '\0')
        return;
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

#endif
