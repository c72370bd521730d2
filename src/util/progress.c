/*
 * progress: see progress.h. The rate is averaged over the whole transfer:
 * parts complete in bursts, so an instant rate would jump about.
 */
#include "util/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"

#define REDRAW_INTERVAL 0.1

struct progress {
	pthread_mutex_t lock;
	const struct ui *ui;
	char *title;
	uint64_t total;
	int estimated;
	long long done;
	double start, last_draw;
};

void progress_format_bytes(char *out, size_t size, uint64_t bytes)
{
	if (bytes < 1024)
		snprintf(out, size, "%u bytes", (unsigned)bytes);
	else if (bytes < (1u << 20))
		snprintf(out, size, "%.1f KiB", bytes / 1024.0);
	else if (bytes < (1ull << 30))
		snprintf(out, size, "%.1f MiB", bytes / 1048576.0);
	else
		snprintf(out, size, "%.2f GiB", bytes / 1073741824.0);
}

struct progress *progress_start(const struct ui *ui, const char *title, uint64_t total,
				int estimated)
{
	struct progress *p;

	if (!ui_live(ui))
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->ui = ui;
	pthread_mutex_init(&p->lock, NULL);
	p->title = xstrdup(title);
	p->total = total;
	p->estimated = estimated;
	p->start = now_monotonic();
	return p;
}

static void draw(struct progress *p, double now, const char *end, unsigned flags)
{
	char done[32], total[32];
	double secs = now - p->start;
	double rate = secs > 0 ? p->done / secs : 0;
	uint64_t d = p->done > 0 ? (uint64_t)p->done : 0;
	struct buf b = BUF_INIT;

	progress_format_bytes(done, sizeof(done), d);
	buf_printf(&b, "%s: ", p->title);
	if (p->total && d <= p->total) {
		progress_format_bytes(total, sizeof(total), p->total);
		buf_printf(&b, "%3u%% (%s/%s%s)", (unsigned)(100 * d / p->total), done,
			   p->estimated ? "~" : "", total);
	} else {
		buf_puts(&b, done);
	}
	progress_format_bytes(total, sizeof(total), (uint64_t)rate);
	buf_printf(&b, ", %s/s", total);
	if (!*end && p->total && d < p->total && rate > 0) {
		unsigned long eta = (unsigned long)((p->total - d) / rate + 0.5);

		buf_printf(&b, ", ETA %lu:%02lu", eta / 60, eta % 60);
	}
	buf_puts(&b, end);
	p->last_draw = now;
	ui_status(p->ui, flags, "%s", buf_cstr(&b));
	buf_release(&b);
}

void progress_add(struct progress *p, long long delta)
{
	double now;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->done += delta;
	now = now_monotonic();
	if (now - p->last_draw >= REDRAW_INTERVAL)
		draw(p, now, "", 0);
	pthread_mutex_unlock(&p->lock);
}

void progress_set_total(struct progress *p, uint64_t total)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->total = total;
	p->estimated = 0;
	pthread_mutex_unlock(&p->lock);
}

void progress_stop(struct progress *p, int ok)
{
	if (!p)
		return;
	draw(p, now_monotonic(), ok ? ", done." : "", UI_STATUS_END);
	pthread_mutex_destroy(&p->lock);
	free(p->title);
	free(p);
}
