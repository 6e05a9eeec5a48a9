/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile_test.c - does a remote account hold what scimd sends?  The
 * comparison a reconciliation makes before it writes anything: attributes of
 * the payload must be there with equal values, anything else the app keeps
 * (id, meta, extra emails) is fine.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "outbound/reconcile.h"

#define WANT                                                                                       \
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"externalId\":\"u1\","         \
    "\"userName\":\"ada@example.com\",\"name\":{\"givenName\":\"Ada\",\"familyName\":\"L\"},"      \
    "\"emails\":[{\"value\":\"ada@example.com\",\"type\":\"work\",\"primary\":true}],"             \
    "\"active\":true}"

static bool matches(const char *remote)
{
    return reconcile_remote_matches(WANT, remote, remote ? strlen(remote) : 0);
}

Test(reconcile, a_remote_holding_the_payload_and_more_matches)
{
    cr_assert(
        matches("{\"id\":\"r1\",\"meta\":{\"resourceType\":\"User\"},\"schemas\":[],"
                "\"externalId\":\"u1\",\"USERNAME\":\"ada@example.com\","
                "\"name\":{\"givenName\":\"Ada\",\"familyName\":\"L\",\"formatted\":\"Ada L\"},"
                "\"emails\":[{\"value\":\"other@example.com\"},{\"value\":\"ada@example.com\","
                "\"type\":\"work\",\"primary\":true,\"display\":\"x\"}],\"active\":true,"
                "\"groups\":[]}"));
}

Test(reconcile, any_difference_in_what_scimd_sends_does_not)
{
    /* clang-format off */
    static const char *const differing[] = {
        "{\"externalId\":\"u1\",\"userName\":\"ada@example.com\",\"name\":{\"givenName\":\"Ada\",\"familyName\":\"L\"},"
        "\"emails\":[{\"value\":\"ada@example.com\",\"type\":\"work\",\"primary\":true}],\"active\":false}",
        "{\"externalId\":\"u1\",\"userName\":\"ada@example.com\",\"name\":{\"givenName\":\"Eve\",\"familyName\":\"L\"},"
        "\"emails\":[{\"value\":\"ada@example.com\",\"type\":\"work\",\"primary\":true}],\"active\":true}",
        "{\"externalId\":\"u1\",\"userName\":\"ada@example.com\",\"name\":{\"givenName\":\"Ada\",\"familyName\":\"L\"},"
        "\"emails\":[{\"value\":\"eve@example.com\",\"type\":\"work\",\"primary\":true}],\"active\":true}",
        "{\"userName\":\"ada@example.com\",\"name\":{\"givenName\":\"Ada\",\"familyName\":\"L\"},"
        "\"emails\":[{\"value\":\"ada@example.com\",\"type\":\"work\",\"primary\":true}],\"active\":true}",
        "{\"externalId\":\"u1\",\"userName\":\"ada@example.com\",\"name\":\"Ada L\","
        "\"emails\":[{\"value\":\"ada@example.com\",\"type\":\"work\",\"primary\":true}],\"active\":true}",
        "{\"externalId\":\"u1\",\"userName\":\"ada@example.com\",\"name\":{\"givenName\":\"Ada\",\"familyName\":\"L\"},"
        "\"emails\":{\"value\":\"ada@example.com\"},\"active\":true}",
        "[]", "", "not json", "{\"active\":true",
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(differing) / sizeof(differing[0]); i++)
        cr_expect(!matches(differing[i]), "case %zu should differ: %s", i, differing[i]);
    cr_expect(!matches(NULL));
    cr_expect(!reconcile_remote_matches("not json", "{}", 2));
}
