#include "git/notes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/util.h"

#define NOTES_RETRY_SECONDS 30.0

/*
 * Who wrote the notes commit: like git, the committer from the environment,
 * then user.name/user.email; a fixed identity rather than failing a finished
 * run because the machine has no git identity.
 */
int notes_signature(git_signature **out, git_repository *repo)
{
	const char *name = getenv("GIT_COMMITTER_NAME");
	const char *email = getenv("GIT_COMMITTER_EMAIL");
	git_config *cfg = NULL;
	const char *cname = NULL, *cemail = NULL;
	int r;

	if (git_repository_config_snapshot(&cfg, repo) == 0) {
		if (!name && git_config_get_string(&cname, cfg, "user.name") == 0)
			name = cname;
		if (!email && git_config_get_string(&cemail, cfg, "user.email") == 0)
			email = cemail;
	}
	if (!name || !*name)
		name = "git-train";
	if (!email || !*email)
		email = "git-train@localhost";
	r = git_signature_now(out, name, email);
	if (r < 0)
		r = git_signature_now(out, "git-train", "git-train@localhost");
	git_config_free(cfg);
	return r < 0 ? err_git("cannot make the notes commit's signature") : 0;
}

/* The ref's target, 1 when the ref does not exist yet. */
static int read_tip(git_oid *out, git_repository *repo)
{
	int r = git_reference_name_to_id(out, repo, NOTES_REF);

	if (r == GIT_ENOTFOUND)
		return 1;
	if (r < 0)
		return err_git("cannot read %s", NOTES_REF);
	return 0;
}

/* The note text on commit plus line, in the notes commit tip (NULL: none). */
static int new_note_text(struct buf *out, git_repository *repo, git_commit *tip,
			 const git_oid *commit, const char *line)
{
	git_note *note = NULL;
	int r = tip ? git_note_commit_read(&note, repo, tip, commit) : GIT_ENOTFOUND;

	if (r < 0 && r != GIT_ENOTFOUND)
		return err_git("cannot read the note on %s", git_oid_tostr_s(commit));
	if (note) {
		buf_puts(out, git_note_message(note));
		if (out->len && out->ptr[out->len - 1] != '\n')
			buf_putc(out, '\n');
		git_note_free(note);
	}
	buf_puts(out, line);
	buf_putc(out, '\n');
	return 0;
}

/*
 * One compare-and-swap attempt: GIT_EMODIFIED, GIT_ELOCKED or GIT_EEXISTS
 * when another writer got there first, 1 when fn left the ref alone,
 * another negative code on error.
 */
static int try_update(git_repository *repo, notes_update_fn fn, void *payload,
		      const git_signature *sig, const char *reflog)
{
	git_oid old, new_tip;
	git_commit *tip = NULL;
	git_reference *ref = NULL;
	int have_tip, r;

	have_tip = read_tip(&old, repo);
	if (have_tip < 0)
		return -1;
	have_tip = !have_tip;
	if (have_tip && (r = git_commit_lookup(&tip, repo, &old)) < 0) {
		err_git("%s does not point at a commit", NOTES_REF);
		goto out;
	}
	r = fn(&new_tip, repo, tip, sig, payload);
	if (r)
		goto out;
	if (have_tip)
		r = git_reference_create_matching(&ref, repo, NOTES_REF, &new_tip, 1, &old, reflog);
	else
		r = git_reference_create(&ref, repo, NOTES_REF, &new_tip, 0, reflog);
	if (r < 0)
		err_git("cannot update %s", NOTES_REF);
out:
	git_reference_free(ref);
	git_commit_free(tip);
	return r;
}

/* Sleeps a random 1..cap milliseconds, so that racing writers spread out. */
static void backoff(unsigned cap_ms)
{
	unsigned r = 0;
	struct timespec ts;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned)(now_monotonic() * 1e6);
	r = 1 + r % cap_ms;
	ts.tv_sec = r / 1000;
	ts.tv_nsec = (long)(r % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

int notes_update(git_repository *repo, notes_update_fn fn, void *payload, const char *reflog)
{
	double deadline = now_monotonic() + NOTES_RETRY_SECONDS;
	git_signature *sig = NULL;
	unsigned cap = 4;
	int r;

	if (notes_signature(&sig, repo))
		return -1;
	for (;;) {
		r = try_update(repo, fn, payload, sig, reflog);
		if (r != GIT_EMODIFIED && r != GIT_ELOCKED && r != GIT_EEXISTS)
			break;
		if (now_monotonic() > deadline) {
			err_hint("other processes kept %s busy for %.0f seconds; try again",
				 NOTES_REF, NOTES_RETRY_SECONDS);
			break;
		}
		backoff(cap);
		if (cap < 200)
			cap *= 2;
	}
	git_signature_free(sig);
	return r < 0 ? -1 : r;
}

struct append {
	const git_oid *commit;
	const char *line;
};

static int append_line(git_oid *out, git_repository *repo, git_commit *tip,
		       const git_signature *sig, void *payload)
{
	struct append *a = payload;
	struct buf text = BUF_INIT;
	git_oid blob;
	int r = new_note_text(&text, repo, tip, a->commit, a->line);

	if (!r &&
	    git_note_commit_create(out, &blob, repo, tip, sig, sig, a->commit, text.ptr, 1) < 0)
		r = err_git("cannot write the notes commit");
	buf_release(&text);
	return r;
}

int notes_append(git_repository *repo, const git_oid *commit, const char *line)
{
	struct append a = { commit, line };
	const char *sp = strchr(line, ' ');
	char *reflog;
	int r;

	if (strchr(line, '\n'))
		return err_set("a note line cannot hold a newline");
	reflog = xstrfmt("git-train: run %.*s", sp ? (int)(sp - line) : (int)strlen(line), line);
	r = notes_update(repo, append_line, &a, reflog);
	free(reflog);
	return r;
}

struct replace {
	const git_oid *commit;
	const char *run_id;
	const char *line;
};

static int replace_line(git_oid *out, git_repository *repo, git_commit *tip,
			const git_signature *sig, void *payload)
{
	struct replace *x = payload;
	struct buf old = BUF_INIT, text = BUF_INIT;
	size_t n = strlen(x->run_id);
	const char *p;
	git_oid blob;
	int r = new_note_text(&old, repo, tip, x->commit, "");

	for (p = buf_cstr(&old); !r && *p;) {
		size_t len = strcspn(p, "\n");

		if (len && !(!strncmp(p, x->run_id, n) && (p[n] == ' ' || len == n))) {
			buf_add(&text, p, len);
			buf_putc(&text, '\n');
		}
		p += len + (p[len] == '\n');
	}
	buf_puts(&text, x->line);
	buf_putc(&text, '\n');
	if (!r &&
	    git_note_commit_create(out, &blob, repo, tip, sig, sig, x->commit, text.ptr, 1) < 0)
		r = err_git("cannot write the notes commit");
	buf_release(&old);
	buf_release(&text);
	return r;
}

int notes_replace_run(git_repository *repo, const git_oid *commit, const char *run_id,
		      const char *line)
{
	struct replace x = { commit, run_id, line };
	char *reflog;
	int r;

	if (strchr(line, '\n'))
		return err_set("a note line cannot hold a newline");
	if (!*run_id || strchr(run_id, ' ') || strchr(run_id, '\n'))
		return err_set("bad run id '%s'", run_id);
	reflog = xstrfmt("git-train: run %s again", run_id);
	r = notes_update(repo, replace_line, &x, reflog);
	free(reflog);
	return r;
}

int notes_read(char **out, git_repository *repo, const git_oid *commit)
{
	git_note *note = NULL;
	int r = git_note_read(&note, repo, NOTES_REF, commit);

	*out = NULL;
	if (r == GIT_ENOTFOUND)
		return 1;
	if (r < 0)
		return err_git("cannot read the note on %s", git_oid_tostr_s(commit));
	*out = xstrdup(git_note_message(note));
	git_note_free(note);
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return git_oid_cmp(&((const struct notes_entry *)a)->commit,
			   &((const struct notes_entry *)b)->commit);
}

int notes_index_load_commit(struct notes_index *out, git_commit *notes)
{
	git_note_iterator *it = NULL;
	git_oid blob, commit;
	int r;

	memset(out, 0, sizeof(*out));
	if (git_note_commit_iterator_new(&it, notes) < 0)
		return err_git("cannot read the notes commit %s",
			       git_oid_tostr_s(git_commit_id(notes)));
	while ((r = git_note_next(&blob, &commit, it)) == 0) {
		out->entries = xrealloc(out->entries, (out->nr + 1) * sizeof(*out->entries));
		git_oid_cpy(&out->entries[out->nr].commit, &commit);
		git_oid_cpy(&out->entries[out->nr].blob, &blob);
		out->nr++;
	}
	git_note_iterator_free(it);
	if (r != GIT_ITEROVER) {
		notes_index_release(out);
		return err_git("cannot read the notes commit %s",
			       git_oid_tostr_s(git_commit_id(notes)));
	}
	if (out->nr)
		qsort(out->entries, out->nr, sizeof(*out->entries), entry_cmp);
	return 0;
}

int notes_index_load(struct notes_index *out, git_repository *repo)
{
	git_commit *tip = NULL;
	git_oid id;
	int r;

	memset(out, 0, sizeof(*out));
	r = read_tip(&id, repo);
	if (r)
		return r < 0 ? -1 : 0;
	if (git_commit_lookup(&tip, repo, &id) < 0)
		return err_git("%s does not point at a commit", NOTES_REF);
	r = notes_index_load_commit(out, tip);
	git_commit_free(tip);
	return r;
}

int notes_index_read(char **out, git_repository *repo, const struct notes_index *idx,
		     const git_oid *commit)
{
	struct notes_entry key, *e;
	git_blob *blob = NULL;
	size_t size;

	*out = NULL;
	if (!idx->nr)
		return 1;
	git_oid_cpy(&key.commit, commit);
	e = bsearch(&key, idx->entries, idx->nr, sizeof(*idx->entries), entry_cmp);
	if (!e)
		return 1;
	if (git_blob_lookup(&blob, repo, &e->blob) < 0)
		return err_git("cannot read the note on %s", git_oid_tostr_s(commit));
	size = (size_t)git_blob_rawsize(blob);
	*out = xstrndup(git_blob_rawcontent(blob), size);
	git_blob_free(blob);
	return 0;
}

void notes_index_release(struct notes_index *idx)
{
	free(idx->entries);
	memset(idx, 0, sizeof(*idx));
}
