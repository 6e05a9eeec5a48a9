/*
 * test_box.h - test helper: a secretbox whose 32-byte key is one repeated
 * byte, so two tests can stand for two nodes with the same or another key file.
 */
#ifndef SCIMD_TESTS_EVENTS_TEST_BOX_H
#define SCIMD_TESTS_EVENTS_TEST_BOX_H

#include <criterion/criterion.h>
#include <string.h>

#include "core/base64.h"
#include "core/secretbox.h"

static inline struct secretbox box_of(char fill)
{
    unsigned char raw[SECRETBOX_KEY_BYTES];
    memset(raw, fill, sizeof(raw));
    char text[BASE64_LEN(SECRETBOX_KEY_BYTES) + 1];
    base64_encode(raw, sizeof(raw), text);
    struct secretbox box;
    cr_assert_eq(secretbox_init_text(&box, text, NULL), OK);
    return box;
}

#endif
