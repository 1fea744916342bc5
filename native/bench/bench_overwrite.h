/* What bench_native.c and bench_overwrite.c (overwrite-mode cases) share. */
#ifndef RINGTRACE_BENCH_OVERWRITE_H
#define RINGTRACE_BENCH_OVERWRITE_H

#define BENCH_CHUNK 65536 /* events per timed chunk: 2.6 MB of 40-byte records */

/* One line: ringtrace native <name> ns_per_event=<ns> [extra] */
void bench_report(const char *name, double ns, const char *extra);
/* The overwrite-mode cases named on the command line (all if none). */
void bench_overwrite(int argc, char **argv, int n_chunks, int have_rseq);
#endif
