#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char empty_buf[1];

void buf_grow(struct buf *b, size_t extra)
{
	size_t want = b->len + extra + 1;

	if (want <= b->alloc)
		return;
	if (want < b->alloc * 2)
		want = b->alloc * 2;
	if (want < 64)
		want = 64;
	b->ptr = xrealloc(b->alloc ? b->ptr : NULL, want);
	if (!b->alloc)
		b->ptr[0] = '\0';
	b->alloc = want;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	/* gcc 12 with -fsanitize=undefined sees a NULL-format path without this */
	if (!fmt)
		abort();
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		abort();
	buf_grow(b, (size_t)n);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->ptr[0] = '\0';
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->ptr);
	b->ptr = NULL;
	b->len = b->alloc = 0;
}

char *buf_detach(struct buf *b)
{
	char *s = b->alloc ? b->ptr : xstrdup("");

	b->ptr = NULL;
	b->len = b->alloc = 0;
	return s;
}

const char *buf_cstr(struct buf *b)
{
	return b->alloc ? b->ptr : empty_buf;
}

void buf_rtrim(struct buf *b)
{
	while (b->len && (b->ptr[b->len - 1] == '\n' || b->ptr[b->len - 1] == ' ' ||
			  b->ptr[b->len - 1] == '\t' || b->ptr[b->len - 1] == '\r'))
		b->ptr[--b->len] = '\0';
}

void buf_uri_encode(struct buf *out, const char *s, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	buf_grow(out, len);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
		    (ch == '/' && keep_slash)) {
			buf_putc(out, (char)ch);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[ch >> 4]);
			buf_putc(out, hex[ch & 15]);
		}
	}
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("fatal: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p) {
		fputs("fatal: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("fatal: out of memory\n", stderr);
		abort();
	}
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrfmt(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}

void secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static _Thread_local struct buf err_buf;
static _Thread_local struct buf hint_buf;

/*
 * Worker threads (parallel uploads, compression) set errors too; a key with
 * a destructor frees their buffers when such a thread ends.
 */
static pthread_key_t err_key;
static pthread_once_t err_key_once = PTHREAD_ONCE_INIT;

static void err_thread_exit(void *unused)
{
	(void)unused;
	err_clear();
}

static void err_make_key(void)
{
	pthread_key_create(&err_key, err_thread_exit);
}

static void err_track_thread(void)
{
	pthread_once(&err_key_once, err_make_key);
	if (!pthread_getspecific(err_key))
		pthread_setspecific(err_key, &err_key);
}

/* a new error, in place of the last one and its hint */
static void err_vset(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);
static void err_vset(const char *fmt, va_list ap)
{
	err_track_thread();
	buf_reset(&err_buf);
	buf_reset(&hint_buf);
	buf_vprintf(&err_buf, fmt, ap);
}

int err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(fmt, ap);
	va_end(ap);
	return -1;
}

int err_git(const char *fmt, ...)
{
	const git_error *e = git_error_last();
	va_list ap;

	va_start(ap, fmt);
	err_vset(fmt, ap);
	va_end(ap);
	if (e && e->message)
		buf_printf(&err_buf, ": %s", e->message);
	return -1;
}

void err_hint(const char *fmt, ...)
{
	va_list ap;

	err_track_thread();
	va_start(ap, fmt);
	buf_vprintf(&hint_buf, fmt, ap);
	va_end(ap);
	buf_putc(&hint_buf, '\n');
}

const char *err_msg(void)
{
	return buf_cstr(&err_buf);
}

void err_clear(void)
{
	buf_release(&err_buf);
	buf_release(&hint_buf);
}

void err_report(void)
{
	const char *h, *nl;

	if (err_buf.len)
		fprintf(stderr, "error: %s\n", err_buf.ptr);
	for (h = buf_cstr(&hint_buf); *h; h = nl + 1) {
		nl = strchr(h, '\n');
		fprintf(stderr, "hint: %.*s\n", (int)(nl - h), h);
	}
	err_clear();
}

void err_save(struct err_saved *out)
{
	out->msg = xstrdup(buf_cstr(&err_buf));
	out->hints = xstrdup(buf_cstr(&hint_buf));
}

void err_restore(struct err_saved *saved)
{
	err_track_thread();
	buf_reset(&err_buf);
	buf_reset(&hint_buf);
	buf_puts(&err_buf, saved->msg);
	buf_puts(&hint_buf, saved->hints);
	free(saved->msg);
	free(saved->hints);
	saved->msg = saved->hints = NULL;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, prefix);
	buf_vprintf(&b, fmt, ap);
	buf_putc(&b, '\n');
	fflush(stdout);
	write_all(2, b.ptr, b.len);
	buf_release(&b);
}

void msg_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void msg_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void msg_hint(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("hint: ", fmt, ap);
	va_end(ap);
}

int skip_prefix(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n))
		return 0;
	if (rest)
		*rest = s + n;
	return 1;
}

int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !memcmp(s + a - b, suffix, b);
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = xstrfmt("%s.%ld.tmp", path, (long)getpid());
	int fd, ret = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		err_set("cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, data, len)) {
		err_set("cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) || rename(tmp, path)) {
		err_set("cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	return ret;
}

int read_file(struct buf *out, const char *path)
{
	char tmp[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return err_set("cannot open '%s': %s", path, strerror(errno));
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return err_set("cannot read '%s': %s", path, strerror(errno));
		}
		buf_add(out, tmp, (size_t)n);
	}
	buf_grow(out, 0);
	close(fd);
	return 0;
}

int mkdir_p(const char *path, int mode)
{
	char *p = xstrdup(path), *s;
	int ret = 0;

	for (s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) && errno != EEXIST) {
			ret = err_set("cannot create directory '%s': %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return ret;
}

int remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : err_set("cannot stat '%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path))
			return err_set("cannot remove '%s': %s", path, strerror(errno));
		return 0;
	}
	d = opendir(path);
	if (!d)
		return err_set("cannot open directory '%s': %s", path, strerror(errno));
	while (!ret && (de = readdir(d))) {
		char *child;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = xstrfmt("%s/%s", path, de->d_name);
		ret = remove_tree(child);
		free(child);
	}
	closedir(d);
	if (!ret && rmdir(path))
		ret = err_set("cannot remove directory '%s': %s", path, strerror(errno));
	return ret;
}

const char *getenv_nonempty(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void hex_encode(char *out, const unsigned char *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

size_t levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row = xcalloc(lb + 1, sizeof(*row)), res;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	res = row[lb];
	free(row);
	return res;
}

double now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void msg_warning_lines(const struct buf *lines)
{
	const char *p = lines->ptr;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		if (n)
			msg_warning("%.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

double poll_interval(double seconds)
{
	const char *env = getenv("GIT_TRAIN_POLL_SCALE");
	char *end;
	double scale;

	if (!env || !*env)
		return seconds;
	scale = strtod(env, &end);
	return !*end && scale >= 0.001 && scale <= 1 ? seconds * scale : seconds;
}

int sleep_unless_cancelled(const volatile sig_atomic_t *cancel, double seconds)
{
	double end = now_monotonic() + seconds, left;

	while (!(cancel && *cancel) && (left = end - now_monotonic()) > 0) {
		struct timespec ts;

		if (left > 0.2) /* a signal may come between the check and the sleep */
			left = 0.2;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
	return cancel && *cancel ? -1 : 0;
}
