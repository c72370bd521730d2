#include "git/notes-merge.h"

#include <stdlib.h>
#include <string.h>

#include "git/notes.h"
#include "util/strvec.h"

struct line {
	const char *p;
	size_t n;
};

struct lines {
	struct line *v;
	size_t nr;
};

/* Byte order, as git's string_list_sort (strcmp) for lines without NUL. */
static int line_cmp(const void *pa, const void *pb)
{
	const struct line *a = pa, *b = pb;
	int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);

	if (c)
		return c;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* The non-empty lines of text, sorted, each once: cat_sort_uniq's view of a note. */
static void lines_split(struct lines *out, const char *text, size_t len)
{
	const char *end = text + len;
	size_t i, kept = 0;

	memset(out, 0, sizeof(*out));
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);

		if (n) {
			out->v = xrealloc(out->v, (out->nr + 1) * sizeof(*out->v));
			out->v[out->nr].p = text;
			out->v[out->nr++].n = n;
		}
		text += n;
		if (text < end)
			text++;
	}
	if (!out->nr)
		return;
	qsort(out->v, out->nr, sizeof(*out->v), line_cmp);
	for (i = 0; i < out->nr; i++)
		if (!kept || line_cmp(&out->v[kept - 1], &out->v[i]))
			out->v[kept++] = out->v[i];
	out->nr = kept;
}

/* How many lines of b a lacks; both sorted and unique. */
static size_t lines_missing(const struct lines *a, const struct lines *b)
{
	size_t i = 0, j = 0, missing = 0;

	while (j < b->nr) {
		int c = i < a->nr ? line_cmp(&a->v[i], &b->v[j]) : 1;

		if (c <= 0)
			i++;
		if (c >= 0) {
			missing += c > 0;
			j++;
		}
	}
	return missing;
}

static void put_line(struct buf *out, const struct line *l)
{
	buf_add(out, l->p, l->n);
	buf_putc(out, '\n');
}

static void lines_union(struct buf *out, const struct lines *a, const struct lines *b)
{
	size_t i = 0, j = 0;

	while (i < a->nr || j < b->nr) {
		int c = i == a->nr ? 1 : j == b->nr ? -1 : line_cmp(&a->v[i], &b->v[j]);

		put_line(out, c <= 0 ? &a->v[i] : &b->v[j]);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
}

enum notes_merge_pick notes_merge_text(struct buf *out, size_t *out_new, const char *ours,
				       size_t ours_len, const char *theirs, size_t theirs_len)
{
	struct lines o, t;
	enum notes_merge_pick pick = NOTES_MERGE_UNION;

	lines_split(&o, ours, ours_len);
	lines_split(&t, theirs, theirs_len);
	*out_new = lines_missing(&o, &t);
	if (!*out_new)
		pick = NOTES_MERGE_OURS;
	else if (!lines_missing(&t, &o))
		pick = NOTES_MERGE_THEIRS;
	else
		lines_union(out, &o, &t);
	free(o.v);
	free(t.v);
	return pick;
}

/* A walk over both sides' notes; builds the merged tree when tb is set. */
struct merge {
	git_repository *repo;
	git_treebuilder *tb; /* NULL: only count */
	size_t new_lines, commits;
};

static int put(struct merge *m, const git_oid *commit, const git_oid *blob)
{
	if (m->tb && git_treebuilder_insert(NULL, m->tb, git_oid_tostr_s(commit), blob,
					    GIT_FILEMODE_BLOB) < 0)
		return err_git("cannot build the merged notes tree");
	return 0;
}

static int note_blob(git_blob **out, git_repository *repo, const struct notes_entry *e)
{
	if (git_blob_lookup(out, repo, &e->blob) < 0)
		return err_git("cannot read the note on %s", git_oid_tostr_s(&e->commit));
	return 0;
}

/* A note only theirs has: taken as it is. */
static int take_theirs(struct merge *m, const struct notes_entry *e)
{
	git_blob *blob = NULL;
	struct lines l;

	if (note_blob(&blob, m->repo, e))
		return -1;
	lines_split(&l, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
	m->new_lines += l.nr;
	m->commits++;
	free(l.v);
	git_blob_free(blob);
	return put(m, &e->commit, &e->blob);
}

static int merge_one(struct merge *m, const struct notes_entry *ours,
		     const struct notes_entry *theirs)
{
	git_blob *a = NULL, *b = NULL;
	struct buf text = BUF_INIT;
	enum notes_merge_pick pick;
	git_oid id = ours->blob;
	size_t added;
	int r = -1;

	if (git_oid_equal(&ours->blob, &theirs->blob))
		return put(m, &ours->commit, &ours->blob);
	if (note_blob(&a, m->repo, ours) || note_blob(&b, m->repo, theirs))
		goto out;
	pick = notes_merge_text(&text, &added, git_blob_rawcontent(a), (size_t)git_blob_rawsize(a),
				git_blob_rawcontent(b), (size_t)git_blob_rawsize(b));
	if (pick == NOTES_MERGE_THEIRS)
		id = theirs->blob;
	if (pick == NOTES_MERGE_UNION && m->tb &&
	    git_blob_create_from_buffer(&id, m->repo, text.ptr, text.len) < 0) {
		err_git("cannot write the merged note on %s", git_oid_tostr_s(&ours->commit));
		goto out;
	}
	m->new_lines += added;
	m->commits += pick != NOTES_MERGE_OURS;
	r = put(m, &ours->commit, &id);
out:
	buf_release(&text);
	git_blob_free(a);
	git_blob_free(b);
	return r;
}

/* Whose next note comes first: < 0 ours, > 0 theirs, 0 both (the same commit). */
static int next_side(const struct notes_index *ours, size_t i, const struct notes_index *theirs,
		     size_t j)
{
	if (i == ours->nr)
		return 1;
	if (j == theirs->nr)
		return -1;
	return git_oid_cmp(&ours->entries[i].commit, &theirs->entries[j].commit);
}

/* Both indexes are sorted by commit: one pass, like a merge of two sorted lists. */
static int walk(struct merge *m, const struct notes_index *ours, const struct notes_index *theirs)
{
	size_t i = 0, j = 0;
	int r = 0;

	while (!r && (i < ours->nr || j < theirs->nr)) {
		int c = next_side(ours, i, theirs, j);

		if (c < 0) {
			r = put(m, &ours->entries[i].commit, &ours->entries[i].blob);
			i++;
		} else if (c > 0) {
			r = take_theirs(m, &theirs->entries[j++]);
		} else {
			r = merge_one(m, &ours->entries[i], &theirs->entries[j]);
			i++;
			j++;
		}
	}
	return r;
}

/* The notes of the notes commit id; an empty index for NULL. */
static int load(struct notes_index *out, git_repository *repo, const git_oid *id)
{
	git_commit *c = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (!id)
		return 0;
	if (git_commit_lookup(&c, repo, id) < 0)
		return err_git("%s is not a notes commit", git_oid_tostr_s(id));
	r = notes_index_load_commit(out, c);
	git_commit_free(c);
	return r;
}

int notes_merge_count(size_t *out_lines, size_t *out_commits, git_repository *repo,
		      const git_oid *from, const git_oid *to)
{
	struct merge m = { repo, NULL, 0, 0 };
	struct notes_index a, b;
	int r;

	memset(&b, 0, sizeof(b));
	r = load(&a, repo, from);
	if (!r)
		r = load(&b, repo, to);
	if (!r)
		r = walk(&m, &a, &b);
	*out_lines = m.new_lines;
	*out_commits = m.commits;
	notes_index_release(&a);
	notes_index_release(&b);
	return r;
}

struct merge_ctx {
	const git_oid *theirs;
	const char *name;
	struct notes_merge_result *res;
};

/* A merge commit of tip and theirs whose notes are the union of both. */
static int merge_commit(git_oid *out, struct merge_ctx *ctx, git_repository *repo, git_commit *tip,
			const git_signature *sig)
{
	struct merge m = { repo, NULL, 0, 0 };
	struct notes_index a, b;
	git_commit *theirs = NULL;
	git_tree *tree = NULL;
	git_oid tree_id;
	char *msg = NULL;
	int r = -1;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if (git_commit_lookup(&theirs, repo, ctx->theirs) < 0) {
		err_git("%s is not a notes commit", ctx->name);
		goto out;
	}
	if (git_treebuilder_new(&m.tb, repo, NULL) < 0) {
		err_git("cannot build the merged notes tree");
		goto out;
	}
	if (notes_index_load_commit(&a, tip) || notes_index_load_commit(&b, theirs) ||
	    walk(&m, &a, &b))
		goto out;
	if (git_treebuilder_write(&tree_id, m.tb) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		err_git("cannot write the merged notes tree");
		goto out;
	}
	msg = xstrfmt("notes: Merged notes from %s into %s\n", ctx->name, NOTES_REF);
	if (git_commit_create_v(out, repo, NULL, sig, sig, NULL, msg, tree, 2, tip, theirs) < 0) {
		err_git("cannot write the notes merge commit");
		goto out;
	}
	ctx->res->kind = NOTES_MERGE_MERGED;
	ctx->res->new_lines = m.new_lines;
	ctx->res->commits = m.commits;
	r = 0;
out:
	free(msg);
	git_tree_free(tree);
	git_treebuilder_free(m.tb);
	git_commit_free(theirs);
	notes_index_release(&a);
	notes_index_release(&b);
	return r;
}

/* notes_update_fn: decides between up to date, fast-forward and merge on the current tip. */
static int merge_step(git_oid *out, git_repository *repo, git_commit *tip, const git_signature *sig,
		      void *payload)
{
	struct merge_ctx *ctx = payload;
	struct notes_merge_result *res = ctx->res;
	const git_oid *ours = tip ? git_commit_id(tip) : NULL;
	int r;

	memset(res, 0, sizeof(*res));
	if (ours) {
		if (git_oid_equal(ours, ctx->theirs))
			return 1;
		r = git_graph_descendant_of(repo, ours, ctx->theirs);
		if (r == 1)
			return 1;
		if (r == 0)
			r = git_graph_descendant_of(repo, ctx->theirs, ours);
		if (r < 0)
			return err_git("cannot compare %s with %s", NOTES_REF, ctx->name);
		if (r == 0)
			return merge_commit(out, ctx, repo, tip, sig);
	}
	if (notes_merge_count(&res->new_lines, &res->commits, repo, ours, ctx->theirs))
		return -1;
	res->kind = NOTES_MERGE_FAST_FORWARD;
	git_oid_cpy(out, ctx->theirs);
	return 0;
}

int notes_merge(struct notes_merge_result *out, git_repository *repo, const git_oid *theirs,
		const char *theirs_name)
{
	struct merge_ctx ctx = { theirs, theirs_name, out };
	char *reflog = xstrfmt("git-train: merged runs from %s", theirs_name);
	int r = notes_update(repo, merge_step, &ctx, reflog);

	free(reflog);
	if (r == 1)
		out->kind = NOTES_MERGE_UP_TO_DATE;
	return r < 0 ? -1 : 0;
}

char *notes_merge_remote_ref(const char *remote)
{
	return xstrfmt("refs/notes/remotes/%s/train", remote);
}

char *notes_merge_refspec(const char *remote)
{
	return xstrfmt("+%s*:refs/notes/remotes/%s/train*", NOTES_REF, remote);
}

static int has_name(const struct strvec *names, const char *name)
{
	size_t i;

	for (i = 0; i < names->nr; i++)
		if (!strcmp(names->v[i], name))
			return 1;
	return 0;
}

static void hint_remotes(const struct strvec *names, const char *intro)
{
	struct buf list = BUF_INIT;
	size_t i;

	for (i = 0; i < names->nr; i++)
		buf_printf(&list, "%s%s", i ? ", " : "", names->v[i]);
	err_hint("%s%s", intro, buf_cstr(&list));
	buf_release(&list);
}

/* The current branch's upstream remote, when it is one of names; NULL otherwise. */
static char *upstream_remote(git_repository *repo, const struct strvec *names)
{
	git_reference *head = NULL;
	git_buf name = GIT_BUF_INIT;
	char *out = NULL;

	if (git_repository_head(&head, repo) == 0 && git_reference_is_branch(head) &&
	    git_branch_upstream_remote(&name, repo, git_reference_name(head)) == 0 &&
	    has_name(names, name.ptr))
		out = xstrdup(name.ptr);
	git_buf_dispose(&name);
	git_reference_free(head);
	git_error_clear();
	return out;
}

/*
 * The configured remotes, from remote.<name>.url and .pushurl, read entry by
 * entry: libgit2 1.5's git_remote_list() leaks in its regex matching.
 */
static int list_remotes(struct strvec *out, git_repository *repo)
{
	git_config *cfg = NULL;
	git_config_iterator *it = NULL;
	git_config_entry *e;
	int r;

	if (git_repository_config_snapshot(&cfg, repo) < 0 ||
	    git_config_iterator_new(&it, cfg) < 0) {
		git_config_free(cfg);
		return err_git("cannot list the remotes");
	}
	while ((r = git_config_next(&e, it)) == 0) {
		const char *name, *dot;
		char *remote;

		if (!skip_prefix(e->name, "remote.", &name) || !(dot = strrchr(name, '.')) ||
		    dot == name || (strcmp(dot, ".url") && strcmp(dot, ".pushurl")))
			continue;
		remote = xstrndup(name, (size_t)(dot - name));
		if (has_name(out, remote))
			free(remote);
		else
			strvec_push_nodup(out, remote);
	}
	git_config_iterator_free(it);
	git_config_free(cfg);
	return r == GIT_ITEROVER ? 0 : err_git("cannot list the remotes");
}

int notes_merge_remote(char **out, git_repository *repo, const char *given)
{
	struct strvec names = STRVEC_INIT;
	int r = -1;

	*out = NULL;
	if (list_remotes(&names, repo))
		goto out;
	if (given && has_name(&names, given)) {
		*out = xstrdup(given);
	} else if (given) {
		err_set("'%s' is not a remote of this repository", given);
		if (names.nr)
			hint_remotes(&names, "its remotes: ");
		else
			err_hint("add it first: git remote add %s <url>", given);
	} else if ((*out = upstream_remote(repo, &names))) {
		/* the remote git push and git pull use */
	} else if (has_name(&names, "origin")) {
		*out = xstrdup("origin");
	} else if (names.nr == 1) {
		*out = xstrdup(names.v[0]);
	} else if (!names.nr) {
		err_set("this repository has no remote to share runs with");
		err_hint("add one: git remote add origin <url>");
	} else {
		err_set("cannot tell which remote to use: no upstream branch, no 'origin'");
		hint_remotes(&names, "name one after pull or push: ");
	}
	if (*out)
		r = 0;
out:
	strvec_clear(&names);
	return r;
}
