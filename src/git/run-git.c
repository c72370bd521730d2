#include "git/run-git.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/strvec.h"

extern char **environ;

int run_git(struct buf *out, git_repository *repo, const char *const *args)
{
	struct strvec argv = STRVEC_INIT;
	posix_spawn_file_actions_t fa;
	int p[2] = { -1, -1 }, status = 0, err;
	char chunk[4096];
	ssize_t n;
	pid_t pid;

	strvec_push(&argv, "git");
	strvec_push_nodup(&argv, xstrfmt("--git-dir=%s", git_repository_path(repo)));
	for (; *args; args++)
		strvec_push(&argv, *args);
	if (out && pipe2(p, O_CLOEXEC)) {
		strvec_clear(&argv);
		return err_set("cannot create a pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out ? p[1] : 2, 1);
	if (out)
		posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	err = posix_spawnp(&pid, "git", &fa, NULL, argv.v, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out)
		close(p[1]);
	if (err) {
		if (out)
			close(p[0]);
		err_set("cannot run 'git %s': %s", argv.v[2] ? argv.v[2] : "", strerror(err));
		strvec_clear(&argv);
		return -1;
	}
	while (out && ((n = read(p[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			buf_add(out, chunk, (size_t)n);
	if (out)
		close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	strvec_clear(&argv);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
