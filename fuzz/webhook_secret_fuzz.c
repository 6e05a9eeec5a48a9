/*
 * webhook_secret_fuzz.c - libFuzzer target for Standard Webhooks secret
 * parsing ("whsec_" + strict base64).  Invariants: no crash; a parsed secret
 * is 24..64 bytes and re-encodes to exactly the input (one spelling per
 * secret); a refused one leaves an empty key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/webhook_sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct webhook_secret s;
    if (webhook_secret_parse(text, &s, NULL) == OK) {
        if (s.len < WEBHOOK_SECRET_MIN_BYTES || s.len > WEBHOOK_SECRET_MAX_BYTES)
            abort();
        char again[WEBHOOK_SECRET_TEXT_MAX];
        memcpy(again, WEBHOOK_SECRET_PREFIX, 6);
        base64_encode(s.key, s.len, again + 6);
        if (strcmp(again, text) != 0)
            abort();
        struct webhook_headers h;
        if (webhook_sign(&s, 1, "msg_1", 1, data, size, &h, NULL) != OK)
            abort();
    } else if (s.len != 0) {
        abort();
    }
    free(text);
    return 0;
}
