/* The selection file: parsed and validated whole (a bad line refuses the
 * file), then asked per class. Cold path: a process reads it when the
 * session's selection generation changes, and asks once per class. */
#include "selection.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "error.h"

enum rule_kind { RULE_ENABLE, RULE_DISABLE, RULE_FILTER };

struct rule {
  enum rule_kind kind;
  int has_expression; /* filter rules: an empty expression removes the filter */
  char *pattern;      /* normalized: always provider-part ':' name-part */
};

struct rt_selection {
  int default_on;
  unsigned min_level;
  uint32_t n_rules;
  struct rule *rules;
};

static const char *const LEVEL_NAMES[RT_LEVEL_COUNT] = {"trace", "debug", "info", "warn", "error"};
static const char OWN_PROVIDER[] = "ringtrace";

int rt_level_parse(const char *s, size_t len) {
  for (unsigned i = 0; i < RT_LEVEL_COUNT; i++)
    if (strlen(LEVEL_NAMES[i]) == len && memcmp(LEVEL_NAMES[i], s, len) == 0) return (int)i;
  return -1;
}

const char *rt_level_name(unsigned level) { return level < RT_LEVEL_COUNT ? LEVEL_NAMES[level] : "?"; }

void rt_selection_free(struct rt_selection *sel) {
  if (!sel) return;
  for (uint32_t i = 0; i < sel->n_rules; i++) free(sel->rules[i].pattern);
  free(sel->rules);
  free(sel);
}

/* ---- matching ---- */

/* "provider:name" without building it. */
struct subject {
  const char *provider, *name;
  size_t plen, len;
};

static char subject_at(const struct subject *s, size_t i) {
  return i < s->plen ? s->provider[i] : i == s->plen ? ':' : s->name[i - s->plen - 1];
}

/* `*` any run (':' included, as the JavaScript side's regular expression),
 * `?` any one character. Backtracks to the last '*' only: linear in practice,
 * at worst pattern length times name length. */
static int glob_match(const char *pat, const struct subject *s) {
  size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0, plen = strlen(pat);
  while (i < s->len) {
    if (p < plen && pat[p] == '*') {
      star_p = p++;
      star_i = i;
    } else if (p < plen && (pat[p] == '?' || pat[p] == subject_at(s, i))) {
      p++;
      i++;
    } else if (star_p != SIZE_MAX) {
      p = star_p + 1;
      i = ++star_i;
    } else {
      return 0;
    }
  }
  while (p < plen && pat[p] == '*') p++;
  return p == plen;
}

static struct subject subject_of(const char *provider, const char *name) {
  struct subject s = {provider, name, strlen(provider), 0};
  s.len = s.plen + 1 + strlen(name);
  return s;
}

int rt_selection_selects(const struct rt_selection *sel, const char *provider, const char *name,
                         unsigned level) {
  if (!sel || strcmp(provider, OWN_PROVIDER) == 0) return 1;
  if (level < sel->min_level) return 0;
  struct subject s = subject_of(provider, name);
  for (uint32_t i = sel->n_rules; i-- > 0;) { /* the last matching rule decides */
    const struct rule *r = &sel->rules[i];
    if (r->kind != RULE_FILTER && glob_match(r->pattern, &s)) return r->kind == RULE_ENABLE;
  }
  return sel->default_on;
}

int rt_selection_has_filter(const struct rt_selection *sel, const char *provider, const char *name) {
  if (!sel || strcmp(provider, OWN_PROVIDER) == 0) return 0;
  struct subject s = subject_of(provider, name);
  for (uint32_t i = sel->n_rules; i-- > 0;) {
    const struct rule *r = &sel->rules[i];
    if (r->kind == RULE_FILTER && glob_match(r->pattern, &s)) return r->has_expression;
  }
  return 0;
}

/* ---- parsing ---- */

static int is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '*' ||
         c == '?';
}

/* [A-Za-z0-9_.*?-]+ then optionally ':' [A-Za-z0-9_*?]+ (the provider part
 * may hold '.' and '-', as JavaScript provider names may). */
static int valid_pattern(const char *p, size_t len) {
  size_t i = 0;
  while (i < len && (is_word_char(p[i]) || p[i] == '.' || p[i] == '-')) i++;
  if (i == 0) return 0;
  if (i == len) return 1;
  if (p[i] != ':' || ++i == len) return 0;
  while (i < len && is_word_char(p[i])) i++;
  return i == len;
}

/* A short printable copy of untrusted text, for messages. */
#define SHOWN_MAX 60
static const char *shown(const char *s, size_t len, char buf[SHOWN_MAX + 4]) {
  size_t n = len < SHOWN_MAX ? len : SHOWN_MAX;
  for (size_t i = 0; i < n; i++) buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
  if (n < len) memcpy(buf + n, "...", 3), n += 3;
  buf[n] = 0;
  return buf;
}

static int bad_pattern(const char *p, size_t len, size_t line, char *err, size_t errlen) {
  char b[SHOWN_MAX + 4];
  return rt_error(err, errlen,
                  "line %zu: '%s' is not an event pattern: use provider:name, with * for any run of characters "
                  "and ? for one (e.g. 'http:*', 'db:query', 'db')",
                  line, shown(p, len, b));
}

static int add_rule(struct rt_selection *sel, enum rule_kind kind, const char *p, size_t len, int has_expression,
                    size_t line, char *err, size_t errlen) {
  if (!valid_pattern(p, len)) return bad_pattern(p, len, line, err, errlen);
  if (sel->n_rules == RT_SELECTION_MAX_RULES)
    return rt_error(err, errlen, "line %zu: more than %u rules", line, RT_SELECTION_MAX_RULES);
  if ((sel->n_rules & (sel->n_rules - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to the next power of two */
    struct rule *grown = realloc(sel->rules, (sel->n_rules ? 2 * sel->n_rules : 1) * sizeof *grown);
    if (!grown) return rt_error(err, errlen, "out of memory");
    sel->rules = grown;
  }
  int provider_only = memchr(p, ':', len) == NULL;
  char *pattern = malloc(len + (provider_only ? 3 : 1));
  if (!pattern) return rt_error(err, errlen, "out of memory");
  memcpy(pattern, p, len);
  memcpy(pattern + len, provider_only ? ":*" : "", provider_only ? 3 : 1); /* "db" is "db:*" */
  sel->rules[sel->n_rules++] = (struct rule){kind, has_expression, pattern};
  return 0;
}

static int word_is(const char *w, size_t wlen, const char *lit) {
  return strlen(lit) == wlen && memcmp(w, lit, wlen) == 0;
}

/* One line after the first (no '\n'). The word ends at the first space; the
 * rest is everything after that one space, as the JavaScript parser splits. */
static int parse_line(struct rt_selection *sel, const char *s, size_t len, size_t line, char *err, size_t errlen) {
  char b[SHOWN_MAX + 4];
  if (len > RT_SELECTION_MAX_LINE)
    return rt_error(err, errlen, "line %zu: longer than %u bytes", line, RT_SELECTION_MAX_LINE);
  if (memchr(s, 0, len)) return rt_error(err, errlen, "line %zu: holds a NUL byte", line);
  const char *sp = memchr(s, ' ', len);
  size_t wlen = sp ? (size_t)(sp - s) : len;
  const char *rest = sp ? sp + 1 : s + len;
  size_t rlen = len - (size_t)(rest - s);
  if (word_is(s, wlen, "default") && (word_is(rest, rlen, "on") || word_is(rest, rlen, "off"))) {
    sel->default_on = rlen == 2;
    return 0;
  }
  if (word_is(s, wlen, "level")) {
    int level = rt_level_parse(rest, rlen);
    if (level < 0)
      return rt_error(err, errlen, "line %zu: level \"%s\" must be one of trace, debug, info, warn, error", line,
                      shown(rest, rlen, b));
    sel->min_level = (unsigned)level;
    return 0;
  }
  if (word_is(s, wlen, "enable") || word_is(s, wlen, "disable"))
    return add_rule(sel, wlen == 6 ? RULE_ENABLE : RULE_DISABLE, rest, rlen, 0, line, err, errlen);
  if (word_is(s, wlen, "filter")) {
    const char *sp2 = memchr(rest, ' ', rlen);
    size_t plen = sp2 ? (size_t)(sp2 - rest) : rlen;
    return add_rule(sel, RULE_FILTER, rest, plen, sp2 && sp2 + 1 < rest + rlen, line, err, errlen);
  }
  return rt_error(err, errlen, "line %zu: expected default on|off, level, enable, disable or filter; got '%s'", line,
                  shown(s, len, b));
}

int rt_selection_parse(const char *text, size_t len, struct rt_selection **out, char *err, size_t errlen) {
  static const char header[] = RT_SELECTION_HEADER;
  if (len > 0 && text[len - 1] == '\n') len--; /* the file's last line ends in '\n' */
  const char *nl = memchr(text, '\n', len);
  size_t first = nl ? (size_t)(nl - text) : len;
  if (first != sizeof header - 1 || memcmp(text, header, first) != 0)
    return rt_error(err, errlen, "line 1: expected '%s'", header);
  struct rt_selection *sel = calloc(1, sizeof *sel);
  if (!sel) return rt_error(err, errlen, "out of memory");
  sel->default_on = 1;
  sel->min_level = RT_LEVEL_TRACE;
  size_t line = 2;
  for (size_t pos = first + 1; nl && pos <= len; line++) {
    nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - text) : len;
    if (parse_line(sel, text + pos, end - pos, line, err, errlen)) {
      rt_selection_free(sel);
      return -1;
    }
    pos = end + 1;
  }
  *out = sel;
  return 0;
}

int rt_selection_read(const char *path, struct rt_selection **out, char *err, size_t errlen) {
  /* O_NOFOLLOW: a link planted at the path is refused; O_NONBLOCK: so is a
   * FIFO, without waiting for a writer (fstat below). */
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      *out = NULL;
      return 0;
    }
    if (errno == ELOOP) return rt_error(err, errlen, "refusing %s: it is a symbolic link", path);
    return rt_error(err, errlen, "cannot open %s: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
    close(fd);
    return rt_error(err, errlen, "refusing %s: not a private regular file of yours", path);
  }
  if ((uint64_t)st.st_size > RT_SELECTION_MAX_BYTES) {
    close(fd);
    return rt_error(err, errlen, "refusing %s: %lld bytes; at most %u", path, (long long)st.st_size,
                    RT_SELECTION_MAX_BYTES);
  }
  /* Read to the end, whatever fstat said: one byte more than the limit tells
   * a file that grew past it. */
  char *buf = malloc((size_t)RT_SELECTION_MAX_BYTES + 1);
  if (!buf) {
    close(fd);
    return rt_error(err, errlen, "out of memory");
  }
  size_t len = 0;
  for (;;) {
    ssize_t n = read(fd, buf + len, (size_t)RT_SELECTION_MAX_BYTES + 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      free(buf);
      close(fd);
      return rt_error(err, errlen, "cannot read %s: %s", path, strerror(e));
    }
    if (n == 0 || (len += (size_t)n) > RT_SELECTION_MAX_BYTES) break;
  }
  close(fd);
  int rc = -1;
  char why[400];
  if (len > RT_SELECTION_MAX_BYTES)
    rt_error(err, errlen, "refusing %s: more than %u bytes", path, RT_SELECTION_MAX_BYTES);
  else if (rt_selection_parse(buf, len, out, why, sizeof why))
    rt_error(err, errlen, "%s: %s", path, why);
  else
    rc = 0;
  free(buf);
  return rc;
}
