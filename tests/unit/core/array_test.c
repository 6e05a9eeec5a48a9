/* SPDX-License-Identifier: Apache-2.0 */
/*
 * array_test.c - unit tests for src/core/array.c: room made by doubling from
 * the first capacity, the array kept when there is room, and a refused
 * growth that would overflow leaving the array as it was.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/array.h"

Test(array, grows_by_doubling_and_keeps_the_elements)
{
    int *v = NULL;
    size_t n = 0, alloc = 0;
    for (int i = 0; i < 100; i++) {
        int *room = array_room(v, n, &alloc, sizeof(*v), 4);
        cr_assert_not_null(room);
        v = room;
        v[n++] = i;
    }
    cr_assert_eq(alloc, 128, "4, 8, ... 128: %zu", alloc);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(v[i], i);
    free(v);
}

Test(array, room_left_is_the_same_array)
{
    size_t alloc = 0;
    char *v = array_room(NULL, 0, &alloc, 1, 8);
    cr_assert_not_null(v);
    cr_assert_eq(alloc, 8);
    cr_assert_eq(array_room(v, 7, &alloc, 1, 8), v);
    cr_assert_eq(alloc, 8);
    free(v);
}

Test(array, overflow_is_refused_and_the_array_kept)
{
    size_t alloc = SIZE_MAX / 2 + 1;
    char keep = 'k';
    cr_assert_null(array_room(&keep, alloc, &alloc, 2, 8));
    cr_assert_eq(alloc, SIZE_MAX / 2 + 1, "the capacity is unchanged");
}
