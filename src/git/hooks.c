#include "git/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

/* "~/x" and "~user/x" as git's config pathnames expand them. */
static int expand_tilde(char **out, const char *path)
{
	const char *rest = path + 1 + strcspn(path + 1, "/");
	const char *home;
	char *user;

	if (rest == path + 1) {
		home = getenv("HOME");
		if (!home)
			return err_set("cannot expand '%s': HOME is not set", path);
	} else {
		struct passwd *pw;

		user = xstrndup(path + 1, (size_t)(rest - path - 1));
		pw = getpwnam(user);
		free(user);
		if (!pw)
			return err_set("cannot expand '%s': no such user", path);
		home = pw->pw_dir;
	}
	*out = xstrfmt("%s%s", home, rest);
	return 0;
}

/* Where git runs hooks, and so where a relative core.hooksPath starts. */
static const char *hooks_base(git_repository *repo)
{
	const char *work = git_repository_workdir(repo);

	return work ? work : git_repository_path(repo);
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	return xstrfmt("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

int hooks_dir(char **out, git_repository *repo, const struct config *cfg)
{
	char *value = NULL;
	int r;

	*out = NULL;
	r = config_get_string(&value, cfg, "core.hooksPath");
	if (r < 0)
		return -1;
	if (r == 1 || !*value) {
		free(value);
		*out = join(git_repository_commondir(repo), "hooks");
		return 0;
	}
	if (value[0] == '~')
		r = expand_tilde(out, value);
	else if (value[0] == '/')
		*out = xstrdup(value);
	else
		*out = join(hooks_base(repo), value);
	free(value);
	return r;
}

/* 0 with *out the file's text ("" when unreadable), 1 when there is no file, -1. */
static int read_hook(struct buf *out, const char *path)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 1;
		return err_set("cannot read '%s': %s", path, strerror(errno));
	}
	if (read_file(out, path))
		err_clear(); /* a dangling symlink, say: someone else's all the same */
	return 0;
}

static int exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* Written beside it and renamed: git never runs half a hook. */
static int write_hook(const char *path)
{
	if (write_file_atomic(path, hook_pre_push, strlen(hook_pre_push), 0755))
		return err_set("cannot install '%s': %s", path, err_msg());
	return 0;
}

static int refuse_foreign(const char *path)
{
	err_set("'%s' is another pre-push hook, not git-train's: not replacing it", path);
	err_hint("keep it, run before git-train's: git train hooks install --chain");
	err_hint("or remove it first: rm '%s'", path);
	return HOOKS_REFUSED;
}

static int chain_foreign(const char *path, const char *chained)
{
	if (exists(chained)) {
		err_set("cannot chain '%s': '%s' already exists", path, chained);
		err_hint("merge the two hooks into '%s', remove '%s', then run this again", chained,
			 path);
		return HOOKS_REFUSED;
	}
	if (rename(path, chained))
		return err_set("cannot rename '%s' to '%s': %s", path, chained, strerror(errno));
	return 0;
}

int hooks_install(enum hooks_action *out, const char *dir, int chain)
{
	struct buf old = BUF_INIT;
	char *path = join(dir, HOOKS_FILE), *chained = join(dir, HOOKS_CHAINED_FILE);
	int r, ret = -1;

	if (mkdir_p(dir, 0777))
		goto out;
	r = read_hook(&old, path);
	if (r < 0)
		goto out;
	if (r == 1) {
		*out = HOOKS_INSTALLED;
	} else if (strstr(buf_cstr(&old), HOOKS_MARKER)) {
		*out = strcmp(buf_cstr(&old), hook_pre_push) ? HOOKS_UPDATED : HOOKS_UP_TO_DATE;
	} else if (!chain) {
		ret = refuse_foreign(path);
		goto out;
	} else {
		ret = chain_foreign(path, chained);
		if (ret)
			goto out;
		*out = HOOKS_CHAINED;
	}
	ret = *out == HOOKS_UP_TO_DATE ? 0 : write_hook(path);
	if (ret && *out == HOOKS_CHAINED && rename(chained, path))
		err_hint("the other hook is now '%s'", chained);
out:
	buf_release(&old);
	free(path);
	free(chained);
	return ret;
}

int hooks_uninstall(enum hooks_action *out, const char *dir)
{
	struct buf old = BUF_INIT;
	char *path = join(dir, HOOKS_FILE), *chained = join(dir, HOOKS_CHAINED_FILE);
	int r, ret = -1;

	r = read_hook(&old, path);
	if (r < 0)
		goto out;
	if (r == 1) {
		*out = HOOKS_ABSENT;
		ret = 0;
		goto out;
	}
	if (!strstr(buf_cstr(&old), HOOKS_MARKER)) {
		err_set("'%s' is not git-train's pre-push hook: leaving it", path);
		ret = HOOKS_REFUSED;
		goto out;
	}
	if (unlink(path)) {
		err_set("cannot remove '%s': %s", path, strerror(errno));
		goto out;
	}
	*out = HOOKS_REMOVED;
	if (exists(chained)) {
		if (rename(chained, path)) {
			err_set("cannot rename '%s' back to '%s': %s", chained, path,
				strerror(errno));
			goto out;
		}
		*out = HOOKS_RESTORED;
	}
	ret = 0;
out:
	buf_release(&old);
	free(path);
	free(chained);
	return ret;
}
