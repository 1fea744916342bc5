/* Test support for the stress tests: interrupting a thread often (a timer
 * signal sent to it alone), so rseq critical sections are aborted mid-way, and
 * moving a thread to the next CPU. */
#ifndef RINGTRACE_TEST_INTERRUPTS_H
#define RINGTRACE_TEST_INTERRUPTS_H
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

static void on_interrupt(int sig) { (void)sig; }

/* SIGRTMIN does nothing but interrupt (SA_RESTART: system calls go on). */
static inline void install_interrupt_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGRTMIN, &sa, NULL);
}

/* Send SIGRTMIN to the calling thread every `us` microseconds (below 1 s).
 * Returns 1 if the timer is armed (timer_delete(*timer) when done), 0 if not. */
static inline int interrupt_this_thread(long us, timer_t *timer) {
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGRTMIN;
  sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  if (timer_create(CLOCK_MONOTONIC, &sev, timer) != 0) return 0;
  struct itimerspec its = {{0, us * 1000L}, {0, us * 1000L}};
  timer_settime(*timer, 0, &its, NULL);
  return 1;
}

/* Pin the calling thread to the CPU after *cpu (of n_cpus). */
static inline void next_cpu(int *cpu, int n_cpus) {
  *cpu = (*cpu + 1) % n_cpus;
  pin_cpu(*cpu);
}
#endif
