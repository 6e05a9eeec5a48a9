/* SPDX-License-Identifier: Apache-2.0 */
/*
 * array.c - this file contains array_room: the doubling growth of a
 * caller's array, with its overflow check.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/array.h"

void *array_room(void *items, size_t n, size_t *alloc, size_t elem_size, size_t first)
{
    if (n < *alloc)
        return items;
    size_t grown = *alloc ? *alloc * 2 : (first ? first : 1);
    if (grown <= *alloc || elem_size == 0 || grown > SIZE_MAX / elem_size)
        return NULL;
    void *more = realloc(items, grown * elem_size);
    if (more != NULL)
        *alloc = grown;
    return more;
}
