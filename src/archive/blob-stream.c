#include "archive/blob-stream.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

#define CHUNK (256u << 10)

extern char **environ;

static int short_blob(const char *path, const git_oid *id, size_t got, size_t size)
{
	char hex[GIT_OID_HEXSZ + 1];

	git_oid_tostr(hex, sizeof(hex), id);
	return err_set("cannot archive '%s': blob %s gave %zu of its %zu bytes", path, hex, got,
		       size);
}

static int stream_loose(git_odb_stream *st, const git_oid *id, const char *path, size_t size,
			blob_stream_fn fn, void *ctx)
{
	char *chunk = xmalloc(CHUNK);
	size_t done = 0;
	int ret = -1;

	while (done < size) {
		int n = git_odb_stream_read(st, chunk, CHUNK);

		if (n < 0) {
			err_git("cannot read '%s'", path);
			goto out;
		}
		if (n == 0 || done + (size_t)n > size) {
			short_blob(path, id, done + (size_t)n, size);
			goto out;
		}
		if (fn(ctx, chunk, (size_t)n))
			goto out;
		done += (size_t)n;
	}
	ret = 0;
out:
	free(chunk);
	return ret;
}

static int spawn_cat_file(pid_t *out, int *out_fd, git_repository *repo, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	char *gitdir = xstrfmt("--git-dir=%s", git_repository_path(repo));
	/* below core.bigFileThreshold git itself would load the whole blob */
	char *argv[] = { "git", "-c", "core.bigFileThreshold=1m", gitdir, "cat-file", "blob",
			 hex,	NULL };
	posix_spawn_file_actions_t fa;
	int p[2], r;

	git_oid_tostr(hex, sizeof(hex), id);
	if (pipe2(p, O_CLOEXEC)) {
		free(gitdir);
		return err_set("cannot create a pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = posix_spawnp(out, "git", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	free(gitdir);
	if (r) {
		close(p[0]);
		return err_set("cannot run 'git cat-file': %s", strerror(r));
	}
	*out_fd = p[0];
	return 0;
}

/* libgit2 cannot stream packed objects; git can. */
static int stream_child(git_repository *repo, const git_oid *id, const char *path, size_t size,
			blob_stream_fn fn, void *ctx)
{
	char *chunk = NULL;
	size_t done = 0;
	pid_t pid;
	int fd = -1, status, ret = -1;

	if (spawn_cat_file(&pid, &fd, repo, id))
		return -1;
	chunk = xmalloc(CHUNK);
	for (;;) {
		ssize_t n = read(fd, chunk, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set("cannot read '%s' from 'git cat-file': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (done + (size_t)n > size)
			break;
		if (fn(ctx, chunk, (size_t)n))
			goto out;
		done += (size_t)n;
	}
	if (done != size) {
		short_blob(path, id, done, size);
		goto out;
	}
	ret = 0;
out:
	if (ret)
		kill(pid, SIGTERM);
	close(fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!ret && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		ret = err_set("cannot archive '%s': 'git cat-file' failed", path);
	free(chunk);
	return ret;
}

int blob_stream(git_repository *repo, const git_oid *id, const char *path, size_t size,
		blob_stream_fn fn, void *ctx)
{
	git_odb *odb = NULL;
	git_odb_stream *st = NULL;
	git_object_t type;
	size_t len;
	int r;

	if (git_repository_odb(&odb, repo) < 0)
		return err_git("cannot open the object database");
	if (git_odb_open_rstream(&st, &len, &type, odb, id) == 0) {
		r = len == size ? stream_loose(st, id, path, size, fn, ctx)
				: short_blob(path, id, len, size);
		git_odb_stream_free(st);
	} else {
		r = stream_child(repo, id, path, size, fn, ctx);
	}
	git_odb_free(odb);
	return r;
}
