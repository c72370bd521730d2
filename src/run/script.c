/*
 * script: see script.h.
 */
#include "run/script.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git/repo.h"
#include "util/util.h"

/* How many root entries the "script not found" error lists. */
#define MAX_LISTED 20

static const struct {
	const char *ext;
	const char *interpreter;
} interpreters[] = {
	{ ".py", "python3" }, { ".sh", "sh" },	 { ".bash", "bash" }, { ".pl", "perl" },
	{ ".rb", "ruby" },    { ".js", "node" }, { ".R", "Rscript" }, { ".jl", "julia" },
};

static void split_words(struct strvec *out, const char *s)
{
	const char *ws = " \t\n\r\v\f";

	for (;;) {
		size_t n;

		s += strspn(s, ws);
		n = strcspn(s, ws);
		if (!n)
			break;
		strvec_push_nodup(out, xstrndup(s, n));
		s += n;
	}
}

/*
 * No interpreter known: run the file itself if it starts with "#!", making
 * it executable first (a script committed as 644 would otherwise fail).
 */
static int use_shebang(struct strvec *out, const char *script, const char *work)
{
	char *path = xstrfmt("%s/%s", work, script);
	char magic[2] = { 0, 0 };
	struct stat st;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set("cannot open the script '%s': %s", script, strerror(errno));
		goto out;
	}
	if (read(fd, magic, 2) != 2 || memcmp(magic, "#!", 2)) {
		err_set("cannot tell how to run '%s': its extension is not known and it has no #! line",
			script);
		err_hint("name the interpreter: "
			 "git config train.interpreter <command> (for example python3)");
		goto out;
	}
	if (fstat(fd, &st) ||
	    (!(st.st_mode & S_IXUSR) && fchmod(fd, (st.st_mode & 07777) | S_IXUSR))) {
		err_set("cannot make '%s' executable: %s", script, strerror(errno));
		goto out;
	}
	strvec_push_nodup(out, xstrfmt("./%s", script));
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}

void script_interpreter(struct strvec *out, const struct script_settings *s)
{
	size_t i;

	if (s->interpreter)
		split_words(out, s->interpreter);
	for (i = 0; !out->nr && i < ARRAY_SIZE(interpreters); i++)
		if (ends_with(s->script, interpreters[i].ext))
			strvec_push(out, interpreters[i].interpreter);
}

int script_argv(struct strvec *out, const struct script_settings *s, const char *work,
		const char *const *args, int nr_args)
{
	const char *script = s->script;
	int k;

	script_interpreter(out, s);
	if (!out->nr) {
		if (use_shebang(out, script, work))
			return -1;
	} else if (script[0] == '-') {
		/* an interpreter would take it for an option */
		strvec_push_nodup(out, xstrfmt("./%s", script));
	} else {
		strvec_push(out, script);
	}
	for (k = 0; k < nr_args; k++)
		strvec_push(out, args[k]);
	return 0;
}

void script_launcher_argv(struct strvec *argv, const struct script_settings *s, int nproc)
{
	struct strvec words = STRVEC_INIT, out = STRVEC_INIT;
	const char *first;
	size_t i, skip;

	if (!s->launcher)
		return;
	script_interpreter(&words, s);
	first = words.nr ? words.v[0] : "";
	if (strchr(first, '/')) {
		char *beside = xstrfmt("%.*s/torchrun", (int)(strrchr(first, '/') - first), first);

		if (!access(beside, X_OK))
			strvec_push_nodup(&out, beside);
		else
			free(beside);
	}
	if (!out.nr)
		strvec_push(&out, "torchrun");
	strvec_push(&out, "--nproc_per_node");
	strvec_push_nodup(&out, xstrfmt("%d", nproc > 0 ? nproc : 1));
	if (!words.nr)
		strvec_push(&out, "--no-python");
	skip = words.nr;
	for (i = skip; i < argv->nr; i++)
		strvec_push(&out, argv->v[i]);
	strvec_clear(argv);
	*argv = out;
	strvec_clear(&words);
}

int script_check_outputs_dir(const char *dir)
{
	const char *p = dir;

	if (!*dir || *dir == '/')
		goto bad;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !strncmp(p, "..", 2))
			goto bad;
		p += n;
		p += strspn(p, "/");
	}
	return 0;
bad:
	err_set("train.outputsDir must be a relative path inside the script's directory, not '%s'",
		dir);
	err_hint("for example: git config train.outputsDir outputs");
	return -1;
}

const char *script_path(const char *path)
{
	while (path[0] == '.' && path[1] == '/')
		path += 2 + strspn(path + 2, "/");
	return path;
}

static void replace_setting(char **setting, const char *value)
{
	if (!value)
		return;
	free(*setting);
	*setting = xstrdup(value);
}

void script_settings_override(struct script_settings *s, const char *script, const char *setup)
{
	replace_setting(&s->script, script);
	replace_setting(&s->setup, setup);
	if (s->script != script_path(s->script)) {
		char *path = xstrdup(script_path(s->script));

		free(s->script);
		s->script = path;
	}
}

int script_settings_load(struct script_settings *out, const struct config *cfg)
{
	memset(out, 0, sizeof(*out));
	if (config_get_string_or(&out->script, cfg, "train.script", "train.py") ||
	    config_get_string_or(&out->interpreter, cfg, "train.interpreter", NULL) ||
	    config_get_string_or(&out->setup, cfg, "train.setup", NULL) ||
	    config_get_string_or(&out->outputs_dir, cfg, "train.outputsDir", "outputs") ||
	    config_get_string_or(&out->launcher, cfg, "train.launcher", NULL)) {
		script_settings_release(out);
		return -1;
	}
	if (out->launcher && (!*out->launcher || !strcmp(out->launcher, "none"))) {
		free(out->launcher);
		out->launcher = NULL;
	}
	if (out->launcher && strcmp(out->launcher, "torchrun")) {
		err_set("bad config value '%s' for 'train.launcher': use torchrun (or none)",
			out->launcher);
		script_settings_release(out);
		return -1;
	}
	script_settings_override(out, NULL, NULL);
	return 0;
}

void script_settings_release(struct script_settings *s)
{
	free(s->script);
	free(s->interpreter);
	free(s->setup);
	free(s->outputs_dir);
	free(s->launcher);
	memset(s, 0, sizeof(*s));
}

int script_check(git_commit *commit, const char *script)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	char *short_id = NULL;
	struct buf list = BUF_INIT;
	size_t i, n;
	int ret = 0;

	if (git_commit_tree(&tree, commit))
		return err_git("cannot read the tree of the commit");
	if (!git_tree_entry_bypath(&entry, tree, script) &&
	    git_tree_entry_type(entry) == GIT_OBJECT_BLOB)
		goto out;
	short_id = repo_short_id(git_commit_owner(commit), git_commit_id(commit));
	ret = err_set("the training script '%s' is not in commit %s (%s)", script, short_id,
		      git_commit_summary(commit) ? git_commit_summary(commit) : "");
	n = git_tree_entrycount(tree);
	for (i = 0; i < n && i < MAX_LISTED; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);

		buf_printf(&list, "%s%s%s", i ? ", " : "", git_tree_entry_name(e),
			   git_tree_entry_type(e) == GIT_OBJECT_TREE ? "/" : "");
	}
	if (n > MAX_LISTED)
		buf_printf(&list, ", ... (%zu more)", n - MAX_LISTED);
	if (n)
		err_hint("the commit's top directory has: %s", buf_cstr(&list));
	else
		err_hint("the commit's tree is empty");
	err_hint("name the script to run: git config train.script <path> (or --script <path>)");
out:
	buf_release(&list);
	free(short_id);
	git_tree_entry_free(entry);
	git_tree_free(tree);
	return ret;
}
