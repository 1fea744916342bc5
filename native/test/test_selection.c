/* The selection file's parser and matcher (ring/selection.h): every rule of
 * docs/selection.md, every kind of bad line refused with its line number, the
 * file checks (private regular file, size), and a seeded fuzz of the parser
 * and of pattern matching against a plain recursive matcher.
 * Usage: test_selection [fuzz rounds] */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "selection.h"

static struct rt_selection *parse_ok(const char *text) {
  char err[512] = "";
  struct rt_selection *sel = NULL;
  CHECK(rt_selection_parse(text, strlen(text), &sel, err, sizeof err) == 0, "'%s': %s", text, err);
  return sel;
}

/* Parse must fail with a message holding `want`. */
static void parse_bad(const char *text, size_t len, const char *want) {
  char err[512] = "";
  struct rt_selection *sel = (struct rt_selection *)0x1; /* untouched on failure */
  CHECK(rt_selection_parse(text, len, &sel, err, sizeof err) == -1, "accepted: '%.*s'", (int)len, text);
  CHECK(sel == (struct rt_selection *)0x1, "*out written on failure");
  CHECK(strstr(err, want) != NULL, "'%.*s': message '%s' lacks '%s'", (int)len, text, err, want);
}

#define SEL(sel, p, n) rt_selection_selects(sel, p, n, RT_LEVEL_INFO)
#define H RT_SELECTION_HEADER "\n"

static void no_file_and_defaults(void) {
  CHECK(SEL(NULL, "http", "request") && rt_selection_selects(NULL, "db", "row", RT_LEVEL_TRACE),
        "no selection: everything");
  struct rt_selection *sel = parse_ok(H);
  CHECK(SEL(sel, "http", "request") && rt_selection_selects(sel, "db", "row", RT_LEVEL_TRACE),
        "header only: default on, every level");
  rt_selection_free(sel);
  sel = parse_ok(RT_SELECTION_HEADER); /* without the final newline */
  CHECK(SEL(sel, "http", "request"), "header without newline");
  rt_selection_free(sel);
  sel = parse_ok(H "default off\n");
  CHECK(!SEL(sel, "http", "request"), "default off");
  rt_selection_free(sel);
  sel = parse_ok(H "default off\ndefault on\n");
  CHECK(SEL(sel, "http", "request"), "the last default counts");
  rt_selection_free(sel);
}

static void last_matching_rule_wins(void) {
  struct rt_selection *sel = parse_ok(H "default off\nenable http:*\ndisable http:health\n");
  CHECK(SEL(sel, "http", "request") && !SEL(sel, "http", "health"), "a later disable wins over an enable");
  CHECK(!SEL(sel, "db", "query"), "no rule: the default");
  rt_selection_free(sel);
  sel = parse_ok(H "default off\nenable http:*\ndisable http:health\nenable http:health\n");
  CHECK(SEL(sel, "http", "health"), "a later enable brings it back");
  rt_selection_free(sel);
  sel = parse_ok(H "disable http:health\nenable http:*\n");
  CHECK(SEL(sel, "http", "health"), "order matters: the enable comes last");
  rt_selection_free(sel);
  sel = parse_ok(H "default on\ndisable db\n");
  CHECK(!SEL(sel, "db", "query") && !SEL(sel, "db", "row") && SEL(sel, "dbx", "query") && SEL(sel, "d", "b"),
        "a pattern without ':' names a provider, whole");
  rt_selection_free(sel);
}

static void wildcards(void) {
  static const struct {
    const char *pattern, *provider, *name;
    int match;
  } cases[] = {
      {"http:*", "http", "request", 1},   {"http:*", "https", "x", 0},      {"*", "any", "thing", 1},
      {"*:query", "db", "query", 1},      {"*:query", "db", "query2", 0},   {"h?tp:get", "http", "get", 1},
      {"h?tp:get", "htp", "get", 0},      {"h?tp:get", "hxxtp", "get", 0},  {"db:cache_*", "db", "cache_hit", 1},
      {"db:cache_*", "db", "cach", 0},    {"db:*_ms", "db", "query_ms", 1}, {"db:q?", "db", "q", 0},
      {"*b:*", "db", "x", 1},             {"a*z:*", "abcz", "q", 1},        {"a*z:*", "abc", "z", 0},
      {"my-app.v2:*", "my-app.v2", "e", 1}, {"my-app.v2:e", "my-app_v2", "e", 0}, {"d?:*", "db", "x", 1},
      {"*?:?*", "a", "b", 1},             {"**:**", "a", "b", 1},           {"a*:*", "a", "b", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[256];
    snprintf(text, sizeof text, H "default off\nenable %s\n", cases[i].pattern);
    struct rt_selection *sel = parse_ok(text);
    CHECK(SEL(sel, cases[i].provider, cases[i].name) == cases[i].match, "'%s' against %s:%s: want %d",
          cases[i].pattern, cases[i].provider, cases[i].name, cases[i].match);
    rt_selection_free(sel);
  }
}

static void levels(void) {
  struct rt_selection *sel = parse_ok(H "level warn\n");
  CHECK(!rt_selection_selects(sel, "db", "q", RT_LEVEL_TRACE) && !rt_selection_selects(sel, "db", "q", RT_LEVEL_DEBUG) &&
            !rt_selection_selects(sel, "db", "q", RT_LEVEL_INFO) && rt_selection_selects(sel, "db", "q", RT_LEVEL_WARN) &&
            rt_selection_selects(sel, "db", "q", RT_LEVEL_ERROR),
        "level warn: warn and error only");
  rt_selection_free(sel);
  sel = parse_ok(H "level error\nlevel debug\n");
  CHECK(!rt_selection_selects(sel, "db", "q", RT_LEVEL_TRACE) && rt_selection_selects(sel, "db", "q", RT_LEVEL_DEBUG),
        "the last level rule counts");
  rt_selection_free(sel);
  sel = parse_ok(H "level info\nenable db:row\n");
  CHECK(!rt_selection_selects(sel, "db", "row", RT_LEVEL_DEBUG), "the level applies before enable rules");
  rt_selection_free(sel);
  sel = parse_ok(H "level trace\ndefault off\nenable db:row\n");
  CHECK(rt_selection_selects(sel, "db", "row", RT_LEVEL_TRACE) && !rt_selection_selects(sel, "db", "q", RT_LEVEL_ERROR),
        "level trace lets every level through; rules still decide");
  rt_selection_free(sel);
  for (unsigned l = 0; l < RT_LEVEL_COUNT; l++) {
    const char *name = rt_level_name(l);
    CHECK(rt_level_parse(name, strlen(name)) == (int)l, "level %u round trip", l);
  }
  CHECK(rt_level_parse("Info", 4) == -1 && rt_level_parse("inf", 3) == -1 && rt_level_parse("", 0) == -1,
        "level names are exact");
}

static void own_provider_always(void) {
  struct rt_selection *sel = parse_ok(H "default off\ndisable ringtrace\ndisable *\nlevel error\n");
  CHECK(rt_selection_selects(sel, "ringtrace", "filtered", RT_LEVEL_TRACE), "ringtrace:* is always recorded");
  CHECK(!rt_selection_selects(sel, "ringtracex", "a", RT_LEVEL_ERROR), "only that provider");
  rt_selection_free(sel);
}

static void filters(void) {
  struct rt_selection *sel = parse_ok(H "filter http:request status >= 500 && path != \"/health\"\n"
                                        "filter db ms > 50\nfilter db:fast\n");
  CHECK(rt_selection_has_filter(sel, "http", "request") && !rt_selection_has_filter(sel, "http", "other"),
        "a filter rule applies to its pattern");
  CHECK(rt_selection_has_filter(sel, "db", "query") && !rt_selection_has_filter(sel, "db", "fast"),
        "an empty expression removes the filter");
  CHECK(SEL(sel, "http", "request") && SEL(sel, "db", "fast"), "filters do not select or deselect");
  rt_selection_free(sel);
  sel = parse_ok(H "default off\nfilter http:* x > 1\n");
  CHECK(!SEL(sel, "http", "a") && rt_selection_has_filter(sel, "http", "a"), "a filter does not enable");
  rt_selection_free(sel);
  sel = parse_ok(H "filter ringtrace x > 1\n");
  CHECK(!rt_selection_has_filter(sel, "ringtrace", "x"), "never on the library's own records");
  rt_selection_free(sel);
  sel = parse_ok(H "filter db:q \n");
  CHECK(!rt_selection_has_filter(sel, "db", "q"), "a trailing space is an empty expression");
  rt_selection_free(sel);
  CHECK(!rt_selection_has_filter(NULL, "db", "q"), "no selection: no filter");
}

static void bad_files(void) {
  static const struct {
    const char *text, *want;
  } cases[] = {
      {"", "line 1: expected 'ringtrace-selection 1'"},
      {"\n", "line 1: expected"},
      {"ringtrace-selection 2\n", "line 1: expected"},
      {"ringtrace-selection 1 \n", "line 1: expected"},
      {"ringtrace-selection 1\r\ndefault on\n", "line 1: expected"},
      {"default on\n", "line 1: expected"},
      {H "\n", "line 2: expected default on|off, level, enable, disable or filter; got ''"},
      {H "default on\n\n", "line 3: expected"},
      {H "default on\n\ndefault off\n", "line 3: expected"},
      {H "default maybe\n", "line 2: expected default on|off"},
      {H "default on \n", "line 2: expected"},
      {H "default\n", "line 2: expected"},
      {H "Default on\n", "line 2: expected"},
      {H "# a comment\n", "line 2: expected"},
      {H "default on\r\n", "line 2: expected"},
      {H "level verbose\n", "line 2: level \"verbose\" must be one of trace, debug, info, warn, error"},
      {H "level\n", "line 2: level \"\" must be one of"},
      {H "level INFO\n", "line 2: level \"INFO\""},
      {H "enable\n", "line 2: '' is not an event pattern"},
      {H "enable \n", "line 2: '' is not an event pattern"},
      {H "enable  http:*\n", "line 2: ' http:*' is not an event pattern"},
      {H "enable http:\n", "line 2: 'http:' is not an event pattern"},
      {H "enable :x\n", "line 2: ':x' is not an event pattern"},
      {H "enable a:b:c\n", "line 2: 'a:b:c' is not an event pattern"},
      {H "enable a:b.c\n", "'a:b.c' is not an event pattern"},
      {H "enable http:get now\n", "'http:get now' is not an event pattern"},
      {H "disable a/b\n", "line 2: 'a/b' is not an event pattern"},
      {H "disable http:*\r\n", "line 2: 'http:*?' is not an event pattern"},
      {H "enable db\nfilter\n", "line 3: '' is not an event pattern"},
      {H "filter  x > 1\n", "line 2: '' is not an event pattern"},
      {H "filter db:q[0] x\n", "line 2: 'db:q[0]' is not an event pattern"},
      {H "enable http:*\ndisable\tdb\n", "line 3: expected"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) parse_bad(cases[i].text, strlen(cases[i].text), cases[i].want);
  /* A NUL byte anywhere after the header. */
  static const char nul[] = H "enable db\0x\n";
  parse_bad(nul, sizeof nul - 1, "line 2: holds a NUL byte");
  /* Line length: RT_SELECTION_MAX_LINE bytes pass, one more does not. */
  size_t cap = strlen(H) + 2 * RT_SELECTION_MAX_LINE + 16;
  char *text = malloc(cap);
  REQUIRE(text != NULL, "malloc");
  for (int extra = 0; extra < 2; extra++) {
    size_t n = (size_t)snprintf(text, cap, H "filter db:q ");
    size_t line_start = strlen(H);
    while (n - line_start < RT_SELECTION_MAX_LINE + (size_t)extra) text[n++] = 'x';
    text[n++] = '\n';
    char err[512] = "";
    struct rt_selection *sel = NULL;
    int rc = rt_selection_parse(text, n, &sel, err, sizeof err);
    if (extra) CHECK(rc == -1 && strstr(err, "line 2: longer than 8192 bytes"), "a line too long: '%s'", err);
    else CHECK(rc == 0 && rt_selection_has_filter(sel, "db", "q"), "a line of the longest length: %s", err);
    rt_selection_free(sel);
  }
  free(text);
  /* Rules: RT_SELECTION_MAX_RULES pass, one more is refused on its line. */
  text = malloc(strlen(H) + (RT_SELECTION_MAX_RULES + 2) * 16);
  REQUIRE(text != NULL, "malloc");
  size_t n = (size_t)sprintf(text, H "default off\n");
  for (unsigned i = 0; i < RT_SELECTION_MAX_RULES; i++) n += (size_t)sprintf(text + n, "enable p%u\n", i);
  struct rt_selection *sel = NULL;
  char err[512] = "";
  CHECK(rt_selection_parse(text, n, &sel, err, sizeof err) == 0, "%u rules: %s", RT_SELECTION_MAX_RULES, err);
  CHECK(sel && SEL(sel, "p1023", "x") && !SEL(sel, "p1024", "x"), "every rule counts");
  rt_selection_free(sel);
  n += (size_t)sprintf(text + n, "level info\ndisable p0\n");
  parse_bad(text, n, "line 1028: more than 1024 rules");
  free(text);
}

/* ---- the file ---- */

static char dir[64];

static void write_file(const char *path, const char *text, mode_t mode) {
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
  REQUIRE(fd >= 0, "create %s: %s", path, strerror(errno));
  REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write");
  REQUIRE(fchmod(fd, mode) == 0, "chmod");
  close(fd);
}

static void read_bad(const char *path, const char *want) {
  char err[512] = "";
  struct rt_selection *sel = (struct rt_selection *)0x1;
  CHECK(rt_selection_read(path, &sel, err, sizeof err) == -1, "%s accepted", path);
  CHECK(sel == (struct rt_selection *)0x1, "*out written on failure");
  CHECK(strstr(err, want) && strstr(err, path), "%s: message '%s' lacks '%s' or the path", path, err, want);
}

static void the_file(void) {
  char path[128], other[128], err[512] = "";
  snprintf(path, sizeof path, "%s/sel", dir);
  snprintf(other, sizeof other, "%s/other", dir);
  struct rt_selection *sel = (struct rt_selection *)0x1;
  CHECK(rt_selection_read(path, &sel, err, sizeof err) == 0 && sel == NULL, "no file: everything (%s)", err);

  write_file(path, H "default off\nenable db\n", 0600);
  CHECK(rt_selection_read(path, &sel, err, sizeof err) == 0 && sel, "a good file: %s", err);
  CHECK(sel && SEL(sel, "db", "q") && !SEL(sel, "http", "q"), "read as written");
  rt_selection_free(sel);

  write_file(path, H "enable db:\n", 0600);
  read_bad(path, ": line 2: 'db:' is not an event pattern");

  write_file(path, H, 0644);
  read_bad(path, "not a private regular file of yours");
  write_file(path, H, 0620);
  read_bad(path, "not a private regular file of yours");

  write_file(other, H, 0600);
  unlink(path);
  REQUIRE(symlink(other, path) == 0, "symlink");
  read_bad(path, "symbolic link");
  unlink(path);

  REQUIRE(mkdir(path, 0700) == 0, "mkdir");
  read_bad(path, "not a private regular file");
  rmdir(path);

  REQUIRE(mkfifo(path, 0600) == 0, "mkfifo");
  read_bad(path, "not a private regular file"); /* and does not wait for a writer */
  unlink(path);

  if (geteuid() == 0) { /* only root can give a file away */
    write_file(path, H, 0600);
    REQUIRE(chown(path, 65534, 65534) == 0, "chown");
    read_bad(path, "not a private regular file of yours");
  }

  size_t big = RT_SELECTION_MAX_BYTES + 1;
  char *text = malloc(big + 1);
  REQUIRE(text != NULL, "malloc");
  memset(text, '\n', big);
  text[big] = 0;
  memcpy(text, H, strlen(H));
  write_file(path, text, 0600);
  read_bad(path, "at most 1048576");
  free(text);
  unlink(path);
  unlink(other);
}

/* ---- fuzz ---- */

static uint32_t rng_state;
static uint32_t rnd(void) { /* xorshift32 */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
static char pick(const char *set) { return set[rnd() % strlen(set)]; }

#define PROVIDER_CHARS "ab_.-*?Z9"
#define NAME_CHARS "ab_*?Z9"

static size_t random_pattern(char *out, int valid) {
  size_t n = 0;
  int plen = 1 + (int)(rnd() % 5), nlen = (int)(rnd() % 5);
  for (int i = 0; i < plen; i++) out[n++] = pick(PROVIDER_CHARS);
  if (nlen) {
    out[n++] = ':';
    for (int i = 0; i < nlen; i++) out[n++] = pick(NAME_CHARS);
  }
  if (!valid) { /* one defect that no valid pattern has */
    switch (rnd() % 5) {
      case 0: out[rnd() % n] = pick("/\\[]#\t\"'!\x01\x7f"); break;
      case 1: n = 0; break;
      case 2: out[n++] = ':'; break;                                          /* empty name part, or a second ':' */
      case 3: memmove(out + 1, out, n++), out[0] = ':'; break;                /* empty provider part */
      default: if (nlen) out[n - 1] = '.'; else out[n++] = ':', out[n++] = '-'; /* '.' or '-' in the name */
    }
  }
  out[n] = 0;
  return n;
}

/* One line after the header; valid or not, as asked. */
static void random_line(char *out, size_t len, int valid) {
  char p[32];
  random_pattern(p, valid);
  static const char *const levels[] = {"trace", "debug", "info", "warn", "error"};
  static const char *const bad_words[] = {"", "enabled", "Default on", "level", "default  on", "filter", "#x"};
  if (!valid && rnd() % 3 == 0) { /* a defect outside the pattern */
    if (rnd() % 2) snprintf(out, len, "%s", bad_words[rnd() % (sizeof bad_words / sizeof *bad_words)]);
    else snprintf(out, len, "level %s%s", levels[rnd() % 5], rnd() % 2 ? "x" : " ");
    return;
  }
  switch (rnd() % 6) {
    case 0: snprintf(out, len, valid ? "default %s" : "%s", rnd() % 2 ? "on" : "off"); break;
    case 1: snprintf(out, len, "level %s", valid ? levels[rnd() % 5] : p); break;
    case 2: snprintf(out, len, "enable %s", p); break;
    case 3: snprintf(out, len, "disable %s", p); break;
    case 4: snprintf(out, len, "filter %s%s", p, rnd() % 2 ? " a > 1 && b != \"x y\"" : ""); break;
    default: snprintf(out, len, "filter %s", p);
  }
  if (!valid && strncmp(out, "level ", 6) == 0 && rt_level_parse(out + 6, strlen(out + 6)) >= 0)
    snprintf(out, len, "level %s!", p); /* a pattern that happens to be a level name */
}

/* Plain recursive glob: the reference for the iterative matcher. */
static int ref_match(const char *p, const char *s) {
  if (!*p) return !*s;
  if (*p == '*') return ref_match(p + 1, s) || (*s && ref_match(p, s + 1));
  return *s && (*p == '?' || *p == *s) && ref_match(p + 1, s + 1);
}

static void fuzz(int rounds) {
  char *text = malloc(64 * 1024), line[128], err[512];
  REQUIRE(text != NULL, "malloc");
  for (int round = 0; round < rounds; round++) {
    rng_state = 0x9e3779b9u ^ (uint32_t)round * 2654435761u;
    if (!rng_state) rng_state = 1;
    /* A file of valid lines, with at most one bad line: refused naming it, or accepted. */
    int lines = 1 + (int)(rnd() % 40), bad_at = rnd() % 2 ? -1 : (int)(rnd() % (uint32_t)lines);
    size_t n = (size_t)sprintf(text, H);
    for (int i = 0; i < lines; i++) {
      random_line(line, sizeof line, i != bad_at);
      n += (size_t)sprintf(text + n, "%s\n", line);
    }
    if (rnd() % 2 && text[n - 2] != '\n') n--; /* without the last newline (unless that ends an empty line) */
    struct rt_selection *sel = NULL;
    int rc = rt_selection_parse(text, n, &sel, err, sizeof err);
    if (bad_at < 0) {
      CHECK(rc == 0, "round %d: a valid file refused: %s\n%.*s", round, err, (int)n, text);
    } else {
      char want[32];
      snprintf(want, sizeof want, "line %d: ", bad_at + 2);
      CHECK(rc == -1 && strncmp(err, want, strlen(want)) == 0, "round %d: want '%s...', got rc %d '%s'\n%.*s", round,
            want, rc, err, (int)n, text);
    }
    rt_selection_free(rc == 0 ? sel : NULL);

    /* Random bytes after the header: any answer, no crash (ASan watches). */
    size_t junk = rnd() % 512;
    n = (size_t)sprintf(text, H);
    for (size_t i = 0; i < junk; i++) text[n++] = rnd() % 4 ? pick("enabldisftrcvo :*?ab\n ") : (char)rnd();
    sel = NULL;
    if (rt_selection_parse(text, n, &sel, err, sizeof err) == 0) {
      CHECK(sel != NULL, "round %d: accepted without a selection", round);
      (void)rt_selection_selects(sel, "ab", "ba", RT_LEVEL_INFO);
      rt_selection_free(sel);
    }

    /* Matching: the iterative matcher agrees with the recursive one. */
    char p[32], full[48], provider[8], name[8];
    random_pattern(p, 1);
    int pl = 1 + (int)(rnd() % 5), nl = 1 + (int)(rnd() % 5);
    for (int i = 0; i < pl; i++) provider[i] = pick("ab_.-Z9");
    for (int i = 0; i < nl; i++) name[i] = pick("ab_Z9");
    provider[pl] = name[nl] = 0;
    snprintf(text, 256, H "default off\nenable %s\n", p);
    sel = parse_ok(text);
    snprintf(full, sizeof full, "%s:%s", provider, name);
    char norm[40];
    snprintf(norm, sizeof norm, "%s%s", p, strchr(p, ':') ? "" : ":*");
    CHECK(sel && SEL(sel, provider, name) == ref_match(norm, full), "round %d: '%s' against '%s'", round, p, full);
    rt_selection_free(sel);
  }
  free(text);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 3000;
  snprintf(dir, sizeof dir, "/tmp/rt-selection-%d", (int)getpid());
  REQUIRE(mkdir(dir, 0700) == 0, "mkdir %s", dir);
  RUN(no_file_and_defaults);
  RUN(last_matching_rule_wins);
  RUN(wildcards);
  RUN(levels);
  RUN(own_provider_always);
  RUN(filters);
  RUN(bad_files);
  RUN(the_file);
  RUN_NAMED("fuzz: seeded files with one bad line, random bytes, matching", fuzz(rounds));
  rmdir(dir);
  return CHECK_EXIT();
}
