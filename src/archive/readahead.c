/*
 * readahead: see readahead.h. One lock guards the ring. Entries live in
 * [tail, head); the caller moves head (queueing) and tail (taking), helpers
 * claim entries in order from `claim` on. An entry goes QUEUED -> CLAIMED
 * (by a helper or the caller) -> DONE; one that needs no read is DONE at
 * once.
 */
#include "archive/readahead.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* entries queued and not yet claimed that wake an idle helper */
#define WAKE_BATCH 32

enum state {
	QUEUED,
	CLAIMED,
	DONE
};

struct slot {
	git_oid id;
	void *payload;
	enum state state;
	size_t size;
	size_t charged; /* of the budget, given back when taken */
	git_odb_object *obj;
	int error;
	char *msg;
};

struct helper {
	struct readahead *ra;
	git_repository *repo;
	git_odb *odb;
	pthread_t thread;
	int running;
};

struct readahead {
	git_odb *odb; /* the caller's */
	size_t whole_max, budget, held;
	pthread_mutex_t lock;
	pthread_cond_t work; /* helpers: an entry to claim, or stop */
	pthread_cond_t room; /* helpers: budget given back */
	pthread_cond_t done; /* caller: an entry was read */
	struct slot slot[READAHEAD_SLOTS];
	uint64_t head, tail, claim;
	int stopping;
	struct helper *helpers;
	unsigned nr_helpers;
};

static struct slot *slot_at(struct readahead *ra, uint64_t at)
{
	return &ra->slot[at % READAHEAD_SLOTS];
}

/*
 * A helper waits until the blob fits the budget, or its entry is the oldest
 * (the caller waits for that one: it must go on). Under the lock. 0, or -1
 * when stopping.
 */
static int wait_for_room(struct readahead *ra, uint64_t at, size_t size)
{
	while (!ra->stopping && at != ra->tail && ra->held + size > ra->budget)
		pthread_cond_wait(&ra->room, &ra->lock);
	if (ra->stopping)
		return -1;
	ra->held += size;
	slot_at(ra, at)->charged = size;
	return 0;
}

/* Reads the entry at `at`, claimed by this thread; odb is this thread's. */
static void read_entry(struct readahead *ra, git_odb *odb, uint64_t at, int helper)
{
	struct slot *s = slot_at(ra, at);
	git_odb_object *obj = NULL;
	git_object_t type;
	size_t size = 0;
	int r;

	/* the size first: only blobs up to whole_max are read whole */
	r = git_odb_read_header(&size, &type, odb, &s->id);
	if (!r && size <= ra->whole_max) {
		int stop = 0;

		if (helper) {
			pthread_mutex_lock(&ra->lock);
			stop = wait_for_room(ra, at, size);
			pthread_mutex_unlock(&ra->lock);
		}
		if (!stop)
			r = git_odb_read(&obj, odb, &s->id);
	}
	pthread_mutex_lock(&ra->lock);
	s->size = size;
	s->obj = obj;
	s->error = r < 0 ? r : 0;
	if (r < 0 && r != GIT_ENOTFOUND) {
		const git_error *e = git_error_last();

		if (e && e->message)
			s->msg = xstrdup(e->message);
	}
	s->state = DONE;
	pthread_cond_signal(&ra->done);
	pthread_mutex_unlock(&ra->lock);
}

/* Under the lock: the next entry a helper may claim, or NULL. */
static struct slot *next_to_claim(struct readahead *ra)
{
	if (ra->claim < ra->tail)
		ra->claim = ra->tail;
	while (ra->claim < ra->head && slot_at(ra, ra->claim)->state != QUEUED)
		ra->claim++;
	return ra->claim < ra->head ? slot_at(ra, ra->claim) : NULL;
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct readahead *ra = h->ra;

	pthread_mutex_lock(&ra->lock);
	for (;;) {
		struct slot *s;
		uint64_t at;

		while (!ra->stopping && !(s = next_to_claim(ra)))
			pthread_cond_wait(&ra->work, &ra->lock);
		if (ra->stopping)
			break;
		at = ra->claim++;
		s->state = CLAIMED;
		pthread_mutex_unlock(&ra->lock);
		read_entry(ra, h->odb, at, 1);
		pthread_mutex_lock(&ra->lock);
	}
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

static int helper_open(struct helper *h, struct readahead *ra, const char *gitdir)
{
	h->ra = ra;
	if (git_repository_open_bare(&h->repo, gitdir) < 0 ||
	    git_repository_odb(&h->odb, h->repo) < 0)
		return err_git("cannot open the repository for reading ahead");
	if (pthread_create(&h->thread, NULL, helper_main, h))
		return err_set("cannot start a thread to read objects");
	h->running = 1;
	return 0;
}

int readahead_start(struct readahead **out, git_repository *repo, unsigned threads,
		    size_t whole_max, size_t budget)
{
	struct readahead *ra = xcalloc(1, sizeof(*ra));
	unsigned i;

	*out = ra;
	ra->whole_max = whole_max;
	ra->budget = budget;
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->work, NULL);
	pthread_cond_init(&ra->room, NULL);
	pthread_cond_init(&ra->done, NULL);
	if (git_repository_odb(&ra->odb, repo) < 0)
		return err_git("cannot open the object database");
	ra->helpers = xcalloc(threads ? threads : 1, sizeof(*ra->helpers));
	for (i = 0; i < threads; i++) {
		ra->nr_helpers++;
		if (helper_open(&ra->helpers[i], ra, git_repository_path(repo)))
			return -1;
	}
	return 0;
}

int readahead_full(const struct readahead *ra)
{
	return ra->head - ra->tail == READAHEAD_SLOTS;
}

void readahead_queue(struct readahead *ra, const git_oid *id, int read, void *payload)
{
	struct slot *s = slot_at(ra, ra->head);

	pthread_mutex_lock(&ra->lock);
	git_oid_cpy(&s->id, id);
	s->payload = payload;
	s->state = read ? QUEUED : DONE;
	ra->head++;
	/*
	 * Idle helpers are woken for a batch, not for each entry: one that
	 * has caught up would otherwise sleep and wake once per blob. Nothing
	 * waits on them meanwhile: the caller reads what no helper took.
	 */
	if (read && ra->head - ra->claim >= WAKE_BATCH)
		pthread_cond_signal(&ra->work);
	pthread_mutex_unlock(&ra->lock);
}

int readahead_next(struct readahead_item *out, struct readahead *ra)
{
	struct slot *s = slot_at(ra, ra->tail);

	memset(out, 0, sizeof(*out));
	if (ra->head == ra->tail)
		return 1;
	pthread_mutex_lock(&ra->lock);
	if (s->state == QUEUED) {
		/* no helper got to it: reading it here beats waiting */
		s->state = CLAIMED;
		pthread_mutex_unlock(&ra->lock);
		read_entry(ra, ra->odb, ra->tail, 0);
		pthread_mutex_lock(&ra->lock);
	}
	while (s->state != DONE)
		pthread_cond_wait(&ra->done, &ra->lock);
	out->payload = s->payload;
	out->obj = s->obj;
	out->size = s->size;
	out->error = s->error;
	out->msg = s->msg;
	ra->held -= s->charged;
	memset(s, 0, sizeof(*s));
	ra->tail++;
	pthread_cond_broadcast(&ra->room);
	pthread_mutex_unlock(&ra->lock);
	return 0;
}

void readahead_item_release(struct readahead_item *item)
{
	git_odb_object_free(item->obj);
	free(item->msg);
	memset(item, 0, sizeof(*item));
}

void readahead_free(struct readahead *ra)
{
	unsigned i;

	if (!ra)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stopping = 1;
	pthread_cond_broadcast(&ra->work);
	pthread_cond_broadcast(&ra->room);
	pthread_mutex_unlock(&ra->lock);
	for (i = 0; i < ra->nr_helpers; i++) {
		struct helper *h = &ra->helpers[i];

		if (h->running)
			pthread_join(h->thread, NULL);
		git_odb_free(h->odb);
		git_repository_free(h->repo);
	}
	/* every thread is gone: what is left is ours */
	for (; ra->tail != ra->head; ra->tail++) {
		struct slot *s = slot_at(ra, ra->tail);

		git_odb_object_free(s->obj);
		free(s->msg);
		free(s->payload);
	}
	git_odb_free(ra->odb);
	free(ra->helpers);
	pthread_mutex_destroy(&ra->lock);
	pthread_cond_destroy(&ra->work);
	pthread_cond_destroy(&ra->room);
	pthread_cond_destroy(&ra->done);
	free(ra);
}
