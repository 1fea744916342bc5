/* A session's selection (docs/selection.md): which event classes its apps
 * record. The selection file (registry.h rt_selection_path) is text, one rule
 * a line after a first line "ringtrace-selection 1":
 *   default on|off      what a class no enable/disable rule matches gets
 *   enable PATTERN      the last enable/disable rule matching a class decides
 *   disable PATTERN
 *   level LEVEL         only classes at LEVEL or above (the last level rule)
 *   filter PATTERN EXPR a field filter (JavaScript events; C keeps the pattern only)
 * Patterns are `provider:name` globs (`*` any run, `?` one character); a
 * pattern without ':' names a provider's every class. The library's own
 * provider, `ringtrace`, is always selected. The same rules and limits as
 * src/selection/rules.ts, which writes the file. */
#ifndef RINGTRACE_RING_SELECTION_H
#define RINGTRACE_RING_SELECTION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Levels, lowest first; a class without a level of its own is RT_LEVEL_INFO. */
enum rt_level { RT_LEVEL_TRACE = 0, RT_LEVEL_DEBUG, RT_LEVEL_INFO, RT_LEVEL_WARN, RT_LEVEL_ERROR };
#define RT_LEVEL_COUNT 5u

#define RT_SELECTION_HEADER "ringtrace-selection 1"
#define RT_SELECTION_MAX_BYTES (1u << 20) /* a larger file is refused */
#define RT_SELECTION_MAX_LINE 8192u       /* bytes of one line */
#define RT_SELECTION_MAX_RULES 1024u      /* enable, disable and filter rules */

struct rt_selection;

/* Parse a selection file's text. Returns 0 with *out (free with
 * rt_selection_free), or -1 with err naming the first bad line ("line 3: ...")
 * and *out untouched: a malformed file is refused whole. */
int rt_selection_parse(const char *text, size_t len, struct rt_selection **out, char *err, size_t errlen);

/* Read and parse the file at `path`: a private regular file of the caller's
 * (owned by the effective uid, no group or other access, not a symlink), at
 * most RT_SELECTION_MAX_BYTES. No file: 0 with *out = NULL, which selects
 * everything. -1 with err naming the file and the problem. */
int rt_selection_read(const char *path, struct rt_selection **out, char *err, size_t errlen);

void rt_selection_free(struct rt_selection *sel);

/* Is class provider:name at `level` recorded? sel NULL: everything is. */
int rt_selection_selects(const struct rt_selection *sel, const char *provider, const char *name,
                         unsigned level);

/* Does a filter rule with an expression apply to class provider:name? (C
 * events are recorded unfiltered; this only tells that a filter exists.) */
int rt_selection_has_filter(const struct rt_selection *sel, const char *provider, const char *name);

/* The level named by s[0..len), or -1. */
int rt_level_parse(const char *s, size_t len);
const char *rt_level_name(unsigned level); /* "?" when out of range */

#ifdef __cplusplus
}
#endif
#endif
