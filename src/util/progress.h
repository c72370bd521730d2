/*
 * progress: a meter for long transfers, shown on a ui's live status line
 * (util/ui.h): bytes done, rate and, when the total is known or estimated,
 * percent and ETA.
 *
 * Only when the ui's status line is seen (a terminal): progress_start()
 * returns NULL otherwise and every other function accepts NULL, so callers
 * never test for one. progress_add() may be called from several threads
 * at once; the line is redrawn at most ten times a second.
 */
#ifndef UTIL_PROGRESS_H
#define UTIL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "util/ui.h"

struct progress;

/*
 * title: "Uploading code for a1b2c3d". total: the expected byte count, 0 when
 * unknown; estimated: the total is a guess (shown as "~"). NULL when ui
 * shows no status line.
 */
struct progress *progress_start(const struct ui *ui, const char *title, uint64_t total,
				int estimated);
/* Counts delta more bytes (negative when a retry starts a part again). */
void progress_add(struct progress *p, long long delta);
/* The exact total, once known. */
void progress_set_total(struct progress *p, uint64_t total);
/* Shows the final line (", done." when ok), finishes it and frees p. */
void progress_stop(struct progress *p, int ok);

/* "1.5 MiB" into out (at least 16 bytes), for messages. */
void progress_format_bytes(char *out, size_t size, uint64_t bytes);

#endif
