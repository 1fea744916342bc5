/* A C event class as its registry description: the same rules and the same
 * JSON as the JavaScript API (src/schema.ts parseFields and describe), so a C
 * class and a JavaScript class with the same provider, name and fields get
 * the same class id and decode the same way. Cold path: once per class. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capi.h"
#include "error.h"
#include "selection.h"

#define MAX_FIELDS 64
#define MAX_NAME 64

static const char *const TYPES[] = {"i8",  "i16", "i32", "i64",  "u8",     "u16",  "u32",
                                    "u64", "f32", "f64", "bool", "string", "bytes"};
static const char *const RESERVED[] = {"pid", "tid", "timestamp", "id", "cpu"};

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* [A-Za-z_][A-Za-z0-9_]{0,63}, plus '.' and '-' after the first for providers. */
static int valid_name(const char *s, size_t len, int provider) {
  if (len == 0 || len > MAX_NAME || !is_alpha(s[0])) return 0;
  for (size_t i = 1; i < len; i++)
    if (!is_alpha(s[i]) && !is_digit(s[i]) && !(provider && (s[i] == '.' || s[i] == '-'))) return 0;
  return 1;
}

static int in_list(const char *s, size_t len, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0) return 1;
  return 0;
}

struct field {
  const char *name, *type;
  size_t name_len, type_len;
};

/* Parse " name_:type" repeated (RT_FIELD pastes a '_' to each name, which is
 * not part of it). Returns the field count, or -1 with err set. */
static int parse_fields(const char *where, const char *spec, struct field *out, char *err, size_t errlen) {
  int n = 0;
  const char *p = spec;
  while (*p) {
    if (*p++ != ' ') return rt_error(err, errlen, "%s: malformed field list", where);
    if (n == MAX_FIELDS) return rt_error(err, errlen, "%s: more than %d fields", where, MAX_FIELDS);
    struct field *f = &out[n];
    const char *colon = strchr(p, ':');
    if (!colon) return rt_error(err, errlen, "%s: field %d has no type", where, n);
    f->name = p;
    f->name_len = (size_t)(colon - p);
    if (f->name_len == 0 || p[f->name_len - 1] != '_')
      return rt_error(err, errlen, "%s: field %d: malformed field list", where, n);
    f->name_len--;
    f->type = colon + 1;
    f->type_len = strcspn(f->type, " ");
    p = f->type + f->type_len;
    if (!valid_name(f->name, f->name_len, 0))
      return rt_error(err, errlen, "%s: field name '%.*s' must be an identifier of at most %d characters",
                      where, (int)f->name_len, f->name, MAX_NAME);
    if (in_list(f->name, f->name_len, RESERVED, sizeof RESERVED / sizeof *RESERVED))
      return rt_error(err, errlen, "%s: field name '%.*s' is reserved (pid, tid, timestamp, id, cpu)",
                      where, (int)f->name_len, f->name);
    if (!in_list(f->type, f->type_len, TYPES, sizeof TYPES / sizeof *TYPES))
      return rt_error(err, errlen, "%s: field '%.*s' has unknown type '%.*s'", where, (int)f->name_len,
                      f->name, (int)f->type_len, f->type);
    for (int i = 0; i < n; i++)
      if (out[i].name_len == f->name_len && memcmp(out[i].name, f->name, f->name_len) == 0)
        return rt_error(err, errlen, "%s: field '%.*s' appears twice", where, (int)f->name_len, f->name);
    n++;
  }
  return n;
}

char *rt_capi_describe(const struct rt_class *cls, char *err, size_t errlen) {
  if (cls->api_version != RT_API_VERSION) {
    rt_error(err, errlen, "an event class compiled with ringtrace.h API version %u; this library is version %u",
             cls->api_version, RT_API_VERSION);
    return NULL;
  }
  const char *provider = cls->provider ? cls->provider : "", *name = cls->name ? cls->name : "";
  char where[2 * MAX_NAME + 16];
  snprintf(where, sizeof where, "event %.64s:%.64s", provider, name);
  if (!valid_name(provider, strlen(provider), 1)) {
    rt_error(err, errlen, "%s: provider name must match [A-Za-z_][A-Za-z0-9_.-]{0,63}", where);
    return NULL;
  }
  if (!valid_name(name, strlen(name), 0)) {
    rt_error(err, errlen, "%s: event name must be an identifier of at most %d characters", where, MAX_NAME);
    return NULL;
  }
  if (strcmp(provider, "ringtrace") == 0 && !rt_capi_own_class(cls)) { /* always recorded: the library's own */
    rt_error(err, errlen, "%s: provider name 'ringtrace' is reserved for the library's own records", where);
    return NULL;
  }
  if (cls->level >= RT_LEVEL_COUNT) {
    rt_error(err, errlen, "%s: level %u is not one of trace, debug, info, warn, error", where, cls->level);
    return NULL;
  }
  struct field fields[MAX_FIELDS];
  int n = parse_fields(where, cls->fields ? cls->fields : "", fields, err, errlen);
  if (n < 0) return NULL;
  /* Every piece is an identifier or a type name: nothing to escape. */
  size_t cap = 128 + strlen(provider) + strlen(name) + (size_t)n * (32 + MAX_NAME + 8);
  char *out = malloc(cap);
  if (!out) {
    rt_error(err, errlen, "%s: out of memory", where);
    return NULL;
  }
  size_t len = (size_t)snprintf(out, cap, "{\"v\":1,\"provider\":\"%s\",\"name\":\"%s\",\"kind\":\"event\",\"fields\":[",
                                provider, name);
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(out + len, cap - len, "%s{\"name\":\"%.*s\",\"type\":\"%.*s\"}", i ? "," : "",
                            (int)fields[i].name_len, fields[i].name, (int)fields[i].type_len, fields[i].type);
  snprintf(out + len, cap - len, "]}");
  return out;
}
