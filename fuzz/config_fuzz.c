/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_fuzz.c - this file contains the libFuzzer target for the operator's
 * inputs: the config file parser (`key = value` lines, quotes, comments)
 * with validation and printing, and the duration and ISO time parsers.  Any
 * text must be refused with a message or give settings whose printed form
 * loads back to the same values (those not masked); a duration must be
 * non-negative.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct config_option table[] = {
    { .name = "listen", .type = CONFIG_STRING, .fallback = "127.0.0.1:8080" },
    { .name = "threads", .type = CONFIG_NUMBER, .fallback = "8", .min = 1, .max = 1024 },
    { .name = "tls", .type = CONFIG_BOOL, .fallback = "false" },
    { .name = "log-format", .type = CONFIG_CHOICE, .fallback = "text", .choices = "text|json" },
    { .name = "db", .type = CONFIG_STRING, .secret = true },
};
#define N_OPTIONS (sizeof(table) / sizeof(table[0]))

/* Print cfg as a config file, load that back: the same values. */
static void round_trip(const struct config *cfg)
{
    char *printed = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&printed, &len);
    if (f == NULL)
        return;
    config_print(cfg, f);
    fclose(f);
    struct config again;
    config_init(&again, table, N_OPTIONS);
    struct scim_error err = { 0 };
    if (config_load_text(&again, printed, "printed", &err) != OK)
        abort(); /* what scimd prints must load */
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *a = config_get(cfg, table[i].name), *b = config_get(&again, table[i].name);
        char shown[CONFIG_MAX_VALUE];
        config_shown(cfg, i, shown, sizeof(shown));
        if (a == NULL || strcmp(shown, a) != 0)
            continue; /* unset, secret or redacted (token-like text): printed masked on purpose */
        if (b == NULL || strcmp(a, b) != 0)
            abort();
    }
    config_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CONFIG_MAX_FILE_BYTES)
        return 0;
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    int64_t seconds = 0, ms = 0;
    if (clock_duration_parse(text, &seconds) && seconds < 0)
        abort();
    (void)clock_parse_iso(text, &ms);

    if (memchr(data, '\0', size) != NULL) { /* read_file refuses those before parsing */
        free(text);
        return 0;
    }
    struct config cfg;
    config_init(&cfg, table, N_OPTIONS);
    struct scim_error err = { 0 };
    if (config_load_text(&cfg, text, "fuzz.conf", &err) == OK) {
        if (config_validate(&cfg, &err) == OK)
            round_trip(&cfg);
    } else if (err.detail[0] == '\0') {
        abort(); /* a refusal says why */
    }
    config_release(&cfg);
    return 0;
}
