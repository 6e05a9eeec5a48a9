/* SPDX-License-Identifier: Apache-2.0 */
/*
 * addr_guard_test.c - the outbound SSRF guard: every range of the classifier as
 * a table (IPv4, IPv6 and the IPv6 forms that carry an IPv4 address), the
 * allow_private switch, and the URL check on names that resolve locally.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

#include "outbound/addr_guard.h"

/* Classify a textual address through a real sockaddr. */
static enum addr_class classify_text(const char *text)
{
    struct sockaddr_in in4 = { .sin_family = AF_INET };
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
    if (inet_pton(AF_INET, text, &in4.sin_addr) == 1)
        return addr_guard_classify((struct sockaddr *)&in4, sizeof(in4));
    cr_assert_eq(inet_pton(AF_INET6, text, &in6.sin6_addr), 1, "bad test address '%s'", text);
    return addr_guard_classify((struct sockaddr *)&in6, sizeof(in6));
}

Test(addr_guard, classifies_every_range)
{
    /* clang-format off */
    static const struct {
        const char *addr;
        enum addr_class cls;
    } cases[] = {
        { "93.184.216.34",            ADDR_PUBLIC      },
        { "8.8.8.8",                  ADDR_PUBLIC      },
        { "127.0.0.1",                ADDR_LOOPBACK    },
        { "127.255.255.254",          ADDR_LOOPBACK    },
        { "10.0.0.1",                 ADDR_PRIVATE     },
        { "172.16.0.1",               ADDR_PRIVATE     },
        { "172.31.255.255",           ADDR_PRIVATE     },
        { "172.32.0.1",               ADDR_PUBLIC      },
        { "172.15.255.255",           ADDR_PUBLIC      },
        { "192.168.1.1",              ADDR_PRIVATE     },
        { "100.64.0.1",               ADDR_PRIVATE     },
        { "100.128.0.1",              ADDR_PUBLIC      },
        { "169.254.1.1",              ADDR_LINK_LOCAL  },
        { "169.254.169.254",          ADDR_METADATA    },
        { "100.100.100.200",          ADDR_METADATA    },
        { "0.0.0.0",                  ADDR_UNSPECIFIED },
        { "0.1.2.3",                  ADDR_UNSPECIFIED },
        { "224.0.0.1",                ADDR_MULTICAST   },
        { "239.255.255.250",          ADDR_MULTICAST   },
        { "255.255.255.255",          ADDR_BROADCAST   },
        { "240.0.0.1",                ADDR_RESERVED    },
        { "192.0.2.10",               ADDR_RESERVED    },
        { "198.51.100.7",             ADDR_RESERVED    },
        { "203.0.113.9",              ADDR_RESERVED    },
        { "198.18.0.1",               ADDR_RESERVED    },
        { "2606:4700::1111",          ADDR_PUBLIC      },
        { "::1",                      ADDR_LOOPBACK    },
        { "::",                       ADDR_UNSPECIFIED },
        { "fe80::1",                  ADDR_LINK_LOCAL  },
        { "febf::1",                  ADDR_LINK_LOCAL  },
        { "fec0::1",                  ADDR_PRIVATE     },
        { "fc00::1",                  ADDR_PRIVATE     },
        { "fd12:3456::1",             ADDR_PRIVATE     },
        { "fd00:ec2::254",            ADDR_METADATA    },
        { "ff02::1",                  ADDR_MULTICAST   },
        { "2001:db8::1",              ADDR_RESERVED    },
        { "2001:0:4136:e378::1",      ADDR_RESERVED    }, /* Teredo */
        { "100::1",                   ADDR_RESERVED    },
        /* IPv6 forms that carry an IPv4 address are judged by that address */
        { "::ffff:127.0.0.1",         ADDR_LOOPBACK    },
        { "::ffff:169.254.169.254",   ADDR_METADATA    },
        { "::ffff:10.1.2.3",          ADDR_PRIVATE     },
        { "::ffff:8.8.8.8",           ADDR_PUBLIC      },
        { "::127.0.0.1",              ADDR_LOOPBACK    },
        { "::192.168.0.1",            ADDR_PRIVATE     },
        { "64:ff9b::a9fe:a9fe",       ADDR_METADATA    }, /* NAT64 of 169.254.169.254 */
        { "64:ff9b::7f00:1",          ADDR_LOOPBACK    },
        { "64:ff9b::808:808",         ADDR_PUBLIC      },
        { "64:ff9b:1::1",             ADDR_PRIVATE     },
        { "2002:a9fe:a9fe::1",        ADDR_METADATA    }, /* 6to4 of 169.254.169.254 */
        { "2002:c0a8:101::1",         ADDR_PRIVATE     },
        { "2002:808:808::1",          ADDR_PUBLIC      },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum addr_class got = classify_text(cases[i].addr);
        cr_assert_eq(got, cases[i].cls, "%s: got %s, want %s", cases[i].addr,
                     addr_guard_class_name(got), addr_guard_class_name(cases[i].cls));
    }
}

Test(addr_guard, allow_private_opens_loopback_private_and_link_local_only)
{
    /* clang-format off */
    static const struct {
        enum addr_class cls;
        bool by_default;
        bool with_allow_private;
    } cases[] = {
        { ADDR_PUBLIC,      true,  true  },
        { ADDR_LOOPBACK,    false, true  },
        { ADDR_PRIVATE,     false, true  },
        { ADDR_LINK_LOCAL,  false, true  },
        { ADDR_METADATA,    false, false },
        { ADDR_UNSPECIFIED, false, false },
        { ADDR_MULTICAST,   false, false },
        { ADDR_BROADCAST,   false, false },
        { ADDR_RESERVED,    false, false },
        { ADDR_UNKNOWN,     false, false },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *name = addr_guard_class_name(cases[i].cls);
        cr_assert_eq(addr_guard_class_allowed(cases[i].cls, false), cases[i].by_default, "%s",
                     name);
        cr_assert_eq(addr_guard_class_allowed(cases[i].cls, true), cases[i].with_allow_private,
                     "%s", name);
    }
}

Test(addr_guard, unknown_families_and_short_lengths_are_refused)
{
    struct sockaddr_in in4 = { .sin_family = AF_INET };
    inet_pton(AF_INET, "8.8.8.8", &in4.sin_addr);
    cr_assert(addr_guard_allowed((struct sockaddr *)&in4, sizeof(in4), false));
    cr_assert_not(addr_guard_allowed((struct sockaddr *)&in4, 4, true));
    struct sockaddr sa = { .sa_family = AF_UNIX };
    cr_assert_eq(addr_guard_classify(&sa, sizeof(sa)), ADDR_UNKNOWN);
    cr_assert_eq(addr_guard_classify(NULL, 0), ADDR_UNKNOWN);
}

Test(addr_guard, url_check_resolves_and_refuses_local_targets_unless_allowed)
{
    /* clang-format off */
    static const struct {
        const char *url;
        bool allow_private;
        enum status want;
    } cases[] = {
        { "http://127.0.0.1:8080/scim/v2",            false, ERR_FORBIDDEN     },
        { "http://127.0.0.1:8080/scim/v2",            true,  OK                },
        { "https://localhost/scim/v2",                false, ERR_FORBIDDEN     },
        { "https://localhost/scim/v2",                true,  OK                },
        { "http://[::1]:9/x",                         false, ERR_FORBIDDEN     },
        { "http://[::1]:9/x",                         true,  OK                },
        { "http://169.254.169.254/latest/meta-data",  true,  ERR_FORBIDDEN     },
        { "http://[::ffff:169.254.169.254]/",         true,  ERR_FORBIDDEN     },
        { "http://0.0.0.0:80/",                       true,  ERR_FORBIDDEN     },
        { "http://10.1.2.3/",                         false, ERR_FORBIDDEN     },
        { "http://2130706433/",                       false, ERR_FORBIDDEN     }, /* 127.0.0.1 */
        { "http://8.8.8.8/scim",                      false, OK                },
        { "ftp://8.8.8.8/",                           false, ERR_INVALID_VALUE },
        { "not a url",                                false, ERR_INVALID_VALUE },
        { "",                                         false, ERR_INVALID_VALUE },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scim_error err = { 0 };
        enum status rc = addr_guard_check_url(cases[i].url, cases[i].allow_private, &err);
        cr_assert_eq(rc, cases[i].want, "%s (allow_private %d): got %s: %s", cases[i].url,
                     cases[i].allow_private, status_name(rc), err.detail);
    }
    struct scim_error err = { 0 };
    cr_assert_eq(addr_guard_check_url("http://169.254.169.254/", false, &err), ERR_FORBIDDEN);
    cr_assert(strstr(err.detail, "cloud metadata") != NULL, "%s", err.detail);
    cr_assert_eq(addr_guard_check_url(NULL, false, &err), ERR_INVALID_VALUE);
}
