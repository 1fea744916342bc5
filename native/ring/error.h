/* Error messages of the cold paths: format into the caller's buffer, return -1. */
#ifndef RINGTRACE_RING_ERROR_H
#define RINGTRACE_RING_ERROR_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
int rt_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#ifdef __cplusplus
}
#endif
#endif
