/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fold.h - Unicode comparison keys for case-insensitive identifiers (userName).
 *
 * fold_key() turns a UTF-8 string into the key two spellings share when a person
 * would call them "the same name": Unicode NFC plus full case folding (utf8proc),
 * so "ÄRGER", "ärger" and the decomposed "a\u0308rger" give one key and "ß" folds
 * to "ss".  Keys are for comparing and indexing only; the value shown to clients
 * stays exactly as sent.  Keys depend on the Unicode version of the linked
 * utf8proc; a library upgrade that changes folding needs stored keys recomputed.
 *
 * Bytes that are not valid UTF-8 (they should not get past the JSON edge) do not
 * fail: the key is then the bytes with ASCII letters lowercased, so such a string
 * still equals itself and never crashes a caller.  ASCII input takes a fast path
 * (ASCII lowercase, one allocation).  Thread-safe: no shared state.
 */
#ifndef SCIMD_CORE_FOLD_H
#define SCIMD_CORE_FOLD_H

/* Newly allocated (caller frees with free()) folded key of the NUL-terminated
 * utf8, or NULL on allocation failure.  NULL in, NULL out. */
char *fold_key(const char *utf8);

#endif
