/*
 * filter: see filter.h. The process protocol is git's
 * Documentation/gitattributes.txt ("Long Running Filter Process"): pkt-lines
 * (four hex digits of length, 0000 a flush), a handshake, then per file a
 * command, its content, a status, the result and a final status.
 */
#include "archive/filter.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

#define PKT_DATA_MAX 65516
#define CHUNK	     (64u << 10)

extern char **environ;

void filters_init(struct filters *f, git_repository *repo, const struct config *cfg,
		  const char *treeish)
{
	const char *wd = git_repository_workdir(repo);

	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	f->dir = xstrdup(wd ? wd : git_repository_path(repo));
	f->treeish = treeish;
}

static void reap(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

/* Ends d's process: its stdin closed, it exits; killed first when kill_it. */
static void process_stop(struct filter_driver *d, int kill_it)
{
	int status;

	if (d->pid <= 0)
		return;
	if (kill_it)
		kill(d->pid, SIGTERM);
	close(d->in);
	close(d->out);
	reap(d->pid, &status);
	d->pid = 0;
}

void filters_release(struct filters *f)
{
	size_t i;

	for (i = 0; i < f->nr; i++) {
		struct filter_driver *d = f->drivers[i];

		process_stop(d, 0);
		free(d->name);
		free(d->smudge);
		free(d->process);
		free(d);
	}
	free(f->drivers);
	free(f->dir);
	memset(f, 0, sizeof(*f));
}

static int driver_setting(char **out, struct filters *f, const char *name, const char *what)
{
	char *key = xstrfmt("filter.%s.%s", name, what);
	int r = config_get_string_or(out, f->cfg, key, NULL);

	free(key);
	return r;
}

int filters_get(struct filter_driver **out, struct filters *f, const char *name)
{
	struct filter_driver *d;
	char *key;
	size_t i;
	int r;

	for (i = 0; i < f->nr; i++)
		if (!strcmp(f->drivers[i]->name, name)) {
			*out = f->drivers[i];
			return 0;
		}
	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	key = xstrfmt("filter.%s.required", name);
	r = config_get_bool(&d->required, f->cfg, key);
	free(key);
	if (r == 1)
		d->required = 0;
	if (r < 0 || driver_setting(&d->smudge, f, name, "smudge") ||
	    driver_setting(&d->process, f, name, "process")) {
		free(d->smudge);
		free(d->process);
		free(d->name);
		free(d);
		return -1;
	}
	if (f->nr == f->alloc) {
		f->alloc = f->alloc ? 2 * f->alloc : 4;
		f->drivers = xrealloc(f->drivers, f->alloc * sizeof(*f->drivers));
	}
	f->drivers[f->nr++] = d;
	*out = d;
	return 0;
}

/* sh -c cmd in f->dir, stdin a socket (*in), stdout a pipe (*out). */
static int spawn(pid_t *pid, int *in, int *out, struct filters *f, const char *cmd)
{
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	int sv[2], p[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return err_set("cannot create a socket: %s", strerror(errno));
	if (pipe2(p, O_CLOEXEC)) {
		close(sv[0]);
		close(sv[1]);
		return err_set("cannot create a pipe: %s", strerror(errno));
	}
	/* the filter's end is only read */
	shutdown(sv[1], SHUT_WR);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_addchdir_np(&fa, f->dir);
	r = posix_spawn(pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	close(p[1]);
	if (r) {
		close(sv[0]);
		close(p[0]);
		return err_set("cannot run the filter '%s': %s", cmd, strerror(r));
	}
	*in = sv[0];
	*out = p[0];
	return 0;
}

/* Every byte, or -1 (errno set; EPIPE when the reader is gone). */
static int send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_full(int fd, void *data, size_t len)
{
	char *p = data;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* pkt-lines */

static int pkt_write(int fd, const void *data, size_t len)
{
	char head[5];

	snprintf(head, sizeof(head), "%04x", (unsigned)(len + 4));
	return send_all(fd, head, 4) || send_all(fd, data, len) ? -1 : 0;
}

static int pkt_text(int fd, const char *line)
{
	char *s = xstrfmt("%s\n", line);
	int r = pkt_write(fd, s, strlen(s));

	free(s);
	return r;
}

static int pkt_flush(int fd)
{
	return send_all(fd, "0000", 4);
}

/* One packet into buf (len in *len): 0, 1 for a flush, -1 on a bad stream. */
static int pkt_read(int fd, char *buf, size_t *len)
{
	char head[5] = { 0 };
	unsigned n = 0;
	int i;

	if (read_full(fd, head, 4))
		return -1;
	for (i = 0; i < 4; i++) {
		int v = hex_value((unsigned char)head[i]);

		if (v < 0)
			return -1;
		n = n * 16 + (unsigned)v;
	}
	if (n == 0)
		return 1;
	if (n <= 4 || n - 4 > PKT_DATA_MAX)
		return -1;
	*len = n - 4;
	return read_full(fd, buf, *len);
}

/* A text packet, its newline dropped, NUL-terminated; 1 for a flush. */
static int pkt_read_line(int fd, char *buf)
{
	size_t len = 0;
	int r = pkt_read(fd, buf, &len);

	if (r)
		return r;
	if (len && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	return 0;
}

/* A list of key=value up to a flush: status=<value> copied into status. */
static int read_status(int fd, char *buf, char *status, size_t size)
{
	const char *v;
	int r;

	while (!(r = pkt_read_line(fd, buf)))
		if (skip_prefix(buf, "status=", &v))
			snprintf(status, size, "%s", v);
	return r == 1 ? 0 : -1;
}

static int handshake(struct filter_driver *d, char *buf)
{
	const char *v;
	int r, version = 0;

	if (pkt_text(d->in, "git-filter-client") || pkt_text(d->in, "version=2") ||
	    pkt_flush(d->in))
		return -1;
	if (pkt_read_line(d->out, buf) || strcmp(buf, "git-filter-server"))
		return -1;
	while (!(r = pkt_read_line(d->out, buf)))
		if (!strcmp(buf, "version=2"))
			version = 2;
	if (r != 1 || version != 2)
		return -1;
	/* what git offers (Git LFS refuses less); only smudge is used, never a delay */
	if (pkt_text(d->in, "capability=clean") || pkt_text(d->in, "capability=smudge") ||
	    pkt_text(d->in, "capability=delay") || pkt_flush(d->in))
		return -1;
	while (!(r = pkt_read_line(d->out, buf)))
		if (skip_prefix(buf, "capability=", &v) && !strcmp(v, "smudge"))
			d->smudges = 1;
	return r == 1 ? 0 : -1;
}

static int process_start(struct filters *f, struct filter_driver *d, char *buf)
{
	if (spawn(&d->pid, &d->in, &d->out, f, d->process)) {
		err_clear();
		return -1;
	}
	if (handshake(d, buf)) {
		process_stop(d, 1);
		return -1;
	}
	return 0;
}

static int send_content(int fd, const char *data, size_t len)
{
	while (len) {
		size_t n = len < PKT_DATA_MAX ? len : PKT_DATA_MAX;

		if (pkt_write(fd, data, n))
			return -1;
		data += n;
		len -= n;
	}
	return pkt_flush(fd);
}

/* The result's packets into out. 0, -1 on a bad stream, -2 (err_set) when out fails. */
static int receive_content(struct spool *out, int fd, char *buf)
{
	size_t len;
	int r;

	while (!(r = pkt_read(fd, buf, &len)))
		if (spool_write(out, buf, len))
			return -2;
	return r == 1 ? 0 : -1;
}

static int smudge_process(struct spool *out, struct filters *f, struct filter_driver *d,
			  const char *path, const git_oid *blob, const void *data, size_t len)
{
	char *buf = xmalloc(PKT_DATA_MAX + 1), hex[GIT_OID_HEXSZ + 1], status[64] = "";
	char *line = NULL;
	int r = 1;

	if (d->broken || strlen(path) > PKT_DATA_MAX - 16 ||
	    (!d->pid && process_start(f, d, buf)) || !d->smudges)
		goto out;
	git_oid_tostr(hex, sizeof(hex), blob);
	line = xstrfmt("pathname=%s", path);
	if (pkt_text(d->in, "command=smudge") || pkt_text(d->in, line))
		goto broken;
	free(line);
	line = xstrfmt("treeish=%s", f->treeish);
	if (pkt_text(d->in, line))
		goto broken;
	free(line);
	line = xstrfmt("blob=%s", hex);
	if (pkt_text(d->in, line) || pkt_flush(d->in) || send_content(d->in, data, len) ||
	    read_status(d->out, buf, status, sizeof(status)))
		goto broken;
	if (!strcmp(status, "success")) {
		int c = receive_content(out, d->out, buf);

		if (c == -2) {
			r = -1;
			process_stop(d, 1);
			d->broken = 1;
			goto out;
		}
		if (c || read_status(d->out, buf, status, sizeof(status)))
			goto broken;
		if (!strcmp(status, "success")) {
			r = 0;
			goto out;
		}
	}
	/* "error": this file only; "abort": no more smudging by this process */
	if (!strcmp(status, "abort"))
		d->broken = 1;
	else if (strcmp(status, "error"))
		goto broken;
	goto out;
broken:
	/* a broken protocol: git stops the process and would start it again; once is enough */
	process_stop(d, 1);
	d->broken = 1;
out:
	if (r == 1)
		spool_reset(out);
	free(line);
	free(buf);
	return r;
}

/* Feeds data to the command while taking its output, so neither side blocks. */
static int pump(struct spool *out, int in, int outfd, const char *data, size_t len)
{
	char *chunk = xmalloc(CHUNK);
	int ret = 0, writing = 1;

	fcntl(in, F_SETFL, fcntl(in, F_GETFL) | O_NONBLOCK);
	if (!len) {
		close(in);
		writing = 0;
	}
	for (;;) {
		struct pollfd pf[2] = { { outfd, POLLIN, 0 }, { in, POLLOUT, 0 } };
		int r = poll(pf, writing ? 2 : 1, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = 1;
			break;
		}
		if (writing && pf[1].revents) {
			ssize_t n = send(in, data, len < CHUNK ? len : CHUNK, MSG_NOSIGNAL);

			if (n < 0 && errno != EAGAIN && errno != EINTR)
				len = 0; /* EPIPE: it read what it wanted, as git allows */
			else if (n > 0) {
				data += n;
				len -= (size_t)n;
			}
			if (!len) {
				close(in);
				writing = 0;
			}
		}
		if (pf[0].revents) {
			ssize_t n = read(outfd, chunk, CHUNK);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				ret = n < 0;
				break;
			}
			if (spool_write(out, chunk, (size_t)n)) {
				ret = -1;
				break;
			}
		}
	}
	if (writing)
		close(in);
	free(chunk);
	return ret;
}

/* %f as git expands it: the path in single quotes; %% is a percent sign. */
static char *expand_command(const char *cmd, const char *path)
{
	struct buf b = BUF_INIT;
	const char *p;

	for (p = cmd; *p; p++) {
		if (*p != '%' || (p[1] != 'f' && p[1] != '%')) {
			buf_putc(&b, *p);
			continue;
		}
		if (*++p == '%') {
			buf_putc(&b, '%');
			continue;
		}
		buf_putc(&b, '\'');
		for (const char *q = path; *q; q++) {
			if (*q == '\'' || *q == '!') {
				buf_puts(&b, "'\\");
				buf_putc(&b, *q);
				buf_putc(&b, '\'');
			} else {
				buf_putc(&b, *q);
			}
		}
		buf_putc(&b, '\'');
	}
	return buf_detach(&b);
}

static int smudge_command(struct spool *out, struct filters *f, struct filter_driver *d,
			  const char *path, const void *data, size_t len)
{
	char *cmd = expand_command(d->smudge, path);
	int in, outfd, status, r;
	pid_t pid;

	if (spawn(&pid, &in, &outfd, f, cmd)) {
		err_clear();
		free(cmd);
		return 1;
	}
	free(cmd);
	r = pump(out, in, outfd, data, len);
	if (r)
		kill(pid, SIGTERM);
	close(outfd);
	reap(pid, &status);
	if (!r && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = 1;
	if (r == 1)
		spool_reset(out);
	return r;
}

int filter_smudge(struct spool *out, struct filters *f, struct filter_driver *d, const char *path,
		  const git_oid *blob, const void *data, size_t len)
{
	spool_reset(out);
	if (d->process)
		return smudge_process(out, f, d, path, blob, data, len);
	if (d->smudge)
		return smudge_command(out, f, d, path, data, len);
	return 1;
}

static int on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;
	int found = 0;

	for (p = path ? path : ""; !found && *p; p = *end ? end + 1 : end) {
		char *full;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		full = xstrfmt("%.*s%s%s", (int)(end - p), end == p ? "." : p, "/", name);
		found = !stat(full, &st) && S_ISREG(st.st_mode) && !access(full, X_OK);
		free(full);
	}
	return found;
}

int filter_check(struct filter_driver *d, const char *path)
{
	const char *cmd = d->process ? d->process : d->smudge;

	if (d->checked || strcmp(d->name, "lfs"))
		return 0;
	if (cmd) {
		cmd += strspn(cmd, " \t");
		if ((strncmp(cmd, "git-lfs", 7) && strncmp(cmd, "git lfs", 7)) ||
		    on_path("git-lfs")) {
			d->checked = 1;
			return 0;
		}
		err_set("'%s' is stored with Git LFS (filter=lfs), but git-lfs is not installed",
			path);
	} else {
		err_set("'%s' is stored with Git LFS (filter=lfs), but Git LFS is not set up "
			"(filter.lfs.process is not set)",
			path);
	}
	err_hint("install Git LFS (Debian/Ubuntu: sudo apt-get install git-lfs; macOS: brew "
		 "install git-lfs; or https://git-lfs.com), then run: git lfs install");
	return -1;
}
