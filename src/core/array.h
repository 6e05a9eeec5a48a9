/* SPDX-License-Identifier: Apache-2.0 */
/*
 * array.h - growing a caller's array one element at a time.
 *
 * The caller keeps the array (items, count n, capacity alloc) in its own
 * struct, typed; this only makes room, doubling the capacity, so that the
 * growth and its overflow check are written once.  Reentrant.
 */
#ifndef SCIMD_CORE_ARRAY_H
#define SCIMD_CORE_ARRAY_H

#include <stddef.h>

/*
 * items (elements of elem_size bytes, n of *alloc used; NULL with *alloc 0
 * when empty) with room for one more: items itself when there is room, else
 * items reallocated to twice the capacity (first when it was 0) and *alloc
 * updated.  NULL when memory runs out: items is untouched and still the
 * caller's.
 */
void *array_room(void *items, size_t n, size_t *alloc, size_t elem_size, size_t first);

#endif
