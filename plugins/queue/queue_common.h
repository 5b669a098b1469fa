/*
 * Shared by the built-in queue disciplines (internal, not part of the ABI):
 * reading a yes/no parameter.
 */
#ifndef LINKEM_PLUGINS_QUEUE_COMMON_H
#define LINKEM_PLUGINS_QUEUE_COMMON_H

#include <linkem/plugin.h>

#include <string.h>

/* Reads a yes/no parameter (yes, no, true, false, on, off) into *out, which
 * keeps its default when the key is absent; returns 0, or -1 after fail(). */
static inline int queue_read_flag(const lkm_create_args *args, const char *key, int *out) {
    const char *text = NULL;
    const int rc = args->string(args, key, 0, &text);
    if (rc == LKM_INVALID) return -1;
    if (rc == LKM_ABSENT) return 0;
    if (strcmp(text, "yes") == 0 || strcmp(text, "true") == 0 || strcmp(text, "on") == 0) {
        *out = 1;
    } else if (strcmp(text, "no") == 0 || strcmp(text, "false") == 0 || strcmp(text, "off") == 0) {
        *out = 0;
    } else {
        args->fail(args, key, "expected yes or no (or true or false)");
        return -1;
    }
    return 0;
}

#endif /* LINKEM_PLUGINS_QUEUE_COMMON_H */
