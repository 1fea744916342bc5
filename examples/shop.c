/* A traced C program: the C side of examples/quickstart.js. Two threads
 * handle pretend requests; every 10th request also records a restock. Its
 * shop:request has the same fields as quickstart.js's, so both programs'
 * requests are one event class in one trace.
 *
 *   make -C native lib
 *   cc -O2 -Inative/include examples/shop.c native/build/libringtrace.a -lpthread -o shop
 *   npx trace-consume record -o /tmp/trace -- ./shop 200
 *   npx trace-consume record -o /tmp/trace -- sh -c './shop 200 & node examples/quickstart.js; wait'
 *   npx trace-consume view /tmp/trace | head
 */
#define _GNU_SOURCE /* syscall() under strict -std= modes too */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ringtrace.h"

RT_EVENT(shop, request, RT_FIELD(string, method), RT_FIELD(string, path), RT_FIELD(u16, status),
         RT_FIELD(u64, bytes))
RT_EVENT(shop, restock, RT_FIELD(u32, sku), RT_FIELD(i32, delta), RT_FIELD(f64, price), RT_FIELD(bool, urgent),
         RT_FIELD(bytes, batch))

struct worker {
  int requests;
  long tid;
};

static void *serve(void *arg) {
  struct worker *w = arg;
  w->tid = syscall(SYS_gettid);
  for (int i = 0; i < w->requests; i++) {
    char path[32];
    snprintf(path, sizeof path, "/items/%d", i % 17);
    rt_trace(shop, request, "GET", path, i % 50 == 0 ? 500 : 200, (uint64_t)(512 + i));
    if (i % 10 == 0) {
      const uint8_t batch[4] = {0xba, 0x7c, (uint8_t)(i >> 8), (uint8_t)i};
      rt_trace(shop, restock, (uint32_t)(1000 + i), -(i % 7), 9.5 + i, i % 20 == 0, batch, sizeof batch);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  int requests = argc > 1 ? atoi(argv[1]) : 200;
  struct worker main_thread = {requests, 0}, other = {requests, 0};
  pthread_t t;
  if (pthread_create(&t, NULL, serve, &other) != 0) return 1;
  serve(&main_thread);
  pthread_join(t, NULL);
  printf("shop: pid %d threads %ld %ld handled %d requests%s\n", (int)getpid(), main_thread.tid, other.tid,
         2 * requests, rt_enabled(shop, request) ? "" : " (untraced)");
  return 0;
}
