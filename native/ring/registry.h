/* Event-class registry of a session: a small append-only text file beside the
 * shared-memory object, one line per class ("<id> <description>\n"). Every
 * process of the session registers its classes there, so the consumer can
 * describe them in CTF metadata. Registration is rare (once per class per
 * process and session) and serialized with flock; identical descriptions get
 * the same id, whichever process registers first. Ids start at
 * RT_FIRST_CLASS_ID; lower ids are free for raw records (tests, C users who
 * do not register). */
#ifndef RINGTRACE_RING_REGISTRY_H
#define RINGTRACE_RING_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RT_FIRST_CLASS_ID 16u
#define RT_CLASS_DESC_MAX 16384u      /* bytes of one description */
#define RT_REGISTRY_MAX_BYTES (16u << 20) /* a larger file is refused as corrupt */

/* Path of the registry file of an open session (depends on its uuid, so a
 * recreated session of the same name never shares it). */
int rt_registry_path(const struct rt_session *s, char *out, size_t outlen);

/* Find or add `desc` (one line, no '\n'); *id receives its class id.
 * Returns 0, or -1 with a message naming the file in err. */
int rt_registry_register(const struct rt_session *s, const char *desc, uint32_t *id, char *err,
                         size_t errlen);

/* Path of the session's process log: one "<pid> <tid> <name>" line per thread
 * that attached (for `trace-consume list`). */
int rt_registry_procs_path(const struct rt_session *s, char *out, size_t outlen);
/* Append this thread's line to the process log (one write; O_APPEND). */
int rt_registry_add_process(const struct rt_session *s, const char *name, char *err, size_t errlen);

/* Path of the session's selection file: which events apps record (docs/selection.md);
 * absent: every event. Replaced whole (rename), then rt_selection_bump. */
int rt_selection_path(const struct rt_session *s, char *out, size_t outlen);
/* The number of selection files put in place so far (acquire: a reader that
 * sees a new number then reads the file that number announced, or a newer one). */
uint32_t rt_selection_generation(const struct rt_session *s);
/* Announce a new selection file (release, after its rename); returns the new number. */
uint32_t rt_selection_bump(const struct rt_session *s);

/* Remove the registry file, the process log and the selection (the consumer, when it removes the session). */
int rt_registry_unlink(const struct rt_session *s, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
