/* Pieces of the consumer shared by consumer.c (reading) and salvage.c (dead
 * writers): not part of the API. */
#ifndef RINGTRACE_RING_CONSUMER_INTERNAL_H
#define RINGTRACE_RING_CONSUMER_INTERNAL_H

#include "consumer.h"

/* Release the sub-buffer at sub_off to producers (mark, then consumed_off). */
void rt_consumer_release_sub(struct rt_ring_ctl *rc, uint64_t sub_off, uint64_t sub_size);
/* Where reading resumes in the sub-buffer at `cons` (after what was handed out). */
uint32_t rt_consumer_resume_at(struct rt_ring_ctl *rc, uint64_t cons, uint64_t sub_size);
/* Validate a packet header producers wrote; if `closed`, its content size
 * (bytes) in *content. 0, or -1 with c->err. */
int rt_consumer_check_packet(struct rt_consumer *c, uint32_t ring, uint64_t sub_off,
                             const struct rt_packet_header *ph, int closed, uint32_t *content);

#endif
