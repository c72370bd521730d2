/*
 * deps: the commit's dependencies, installed once into a virtual environment
 * and then taken from a cache. src/run/deps.sh does it, the same script
 * wherever the run is: embedded in the binary (deps_sh), run by the local
 * backend before the setup command, and written beside the runner on EC2,
 * which runs it there (runner.h).
 *
 * What it installs, by the files at the top of the commit (the first that
 * applies): pyproject.toml with uv.lock (uv sync --frozen), pyproject.toml
 * with poetry.lock (poetry install --no-root), requirements.txt (pip
 * install -r, or uv pip install -r), environment.yml (conda, mamba or
 * micromamba; a machine with none fails the run at stage "setup"). Without
 * uv (poetry), a uv.lock (poetry.lock) project is installed by pip from
 * pyproject.toml, its lock unused, and the log says so. The environment is
 * made over the run's interpreter with its packages visible
 * (--system-site-packages: the image's PyTorch is not installed again), by
 * uv when the machine has it, else by the interpreter's venv and pip.
 *
 * The cache key (16 hex digits, the note's deps=): the SHA-256 of those
 * files' contents, the image (the AMI id on EC2), the interpreter's real
 * path and version, and the machine's architecture. The environment of key
 * K lives at <root>/K, a path of the key alone: it is used at the path it
 * was built at. Locally <root> is ${XDG_CACHE_HOME:-$HOME/.cache}/git-train/envs
 * and the environment stays there; on EC2 it is /var/lib/git-train/envs,
 * and the environment is packed into S3 (layout.h: <repo prefix>envs/K.tar.gz).
 * Entries appear whole or not at all: built or unpacked into a temporary
 * directory, then renamed.
 */
#ifndef RUN_DEPS_H
#define RUN_DEPS_H

#include "util/strvec.h"

extern const char deps_sh[];

/* The length of a key. */
#define DEPS_KEY_LEN 16

/* Whether s is a cache key: DEPS_KEY_LEN lower-case hex digits. */
int deps_valid_key(const char *s);

/* Whether the command word names a Python interpreter: its last component is python, python3,
 * python3.11... */
int deps_is_python(const char *word);

/* The local environments' root, ${XDG_CACHE_HOME:-$HOME/.cache}/git-train/envs. Caller frees; NULL
 * with err_set when neither variable is an absolute path. */
char *deps_local_root(void);

/* What deps.sh wrote into its DEPS_OUT file. */
struct deps_result {
	char *key;  /* NULL: nothing was installed */
	char *venv; /* the environment's absolute path */
};

/* Reads it from path: 0 (both fields NULL when the file is absent), or -1 with err_set. */
int deps_read_result(struct deps_result *out, const char *path);
void deps_result_release(struct deps_result *r);

/*
 * Runs argv and its environment envp in the virtual environment venv:
 * VIRTUAL_ENV set, its bin first on PATH, and a Python interpreter, or a
 * bare command the environment has, as argv[0] replaced by the
 * environment's.
 */
void deps_apply(struct strvec *argv, struct strvec *envp, const char *venv);

#endif
