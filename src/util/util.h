/*
 * util: the small things every module needs.
 *
 * - struct buf: a growable, always NUL-terminated byte buffer (like git's strbuf).
 * - x*alloc: allocation that aborts on out-of-memory; callers never check.
 * - err_*: modules never print or exit. They record what failed with err_set()
 *   (and optionally hints with err_hint()) and return a negative code; the
 *   command that called them prints it with err_report(). The message is
 *   per-thread and replaced by each err_set().
 * - msg_*: git-style lines on stderr ("error: ...", "warning: ...", "hint: ...").
 */
#ifndef UTIL_UTIL_H
#define UTIL_UTIL_H

#include <stdarg.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

struct buf {
	char *ptr; /* never NULL after buf_grow; "" for an empty buffer */
	size_t len;
	size_t alloc;
};
#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
void buf_reset(struct buf *b);
void buf_release(struct buf *b);
/* Returns the string (caller frees) and leaves the buffer empty. */
char *buf_detach(struct buf *b);
/* Returns the buffer's string, "" if nothing was ever added; borrowed. */
const char *buf_cstr(struct buf *b);
void buf_rtrim(struct buf *b);
/* Appends s percent-encoded for a URI (RFC 3986 unreserved kept; '/' kept if keep_slash). */
void buf_uri_encode(struct buf *b, const char *s, size_t len, int keep_slash);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xstrfmt(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Overwrites a string that held a secret, then frees it; NULL is fine. */
void secret_free(char *s);

/*
 * What a function returns when it can end in more ways than success and
 * error. One set for the whole program, so that a code means one thing
 * wherever it comes from.
 */
enum {
	RC_OK = 0,
	RC_ERROR = -1,	   /* err_set */
	RC_NOT_READY = -2, /* a prerequisite failed; the report says which and how to fix it */
	RC_NO_SPOT = -3,   /* no spot capacity, and no fallback to on-demand allowed; err_set */
	RC_CANCELLED = -4, /* interrupted, and what was started is cleaned up; err_set says what */
	RC_DETACHED = -5,  /* interrupted while following a run: the run goes on */
};

/* Records the error message; always returns -1 so that `return err_set(...)` reads well. */
int err_set(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Records an error from libgit2's last error: "<what>: <libgit2 message>". Returns -1. */
int err_git(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Adds a hint line to the current error (printed after it). */
void err_hint(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* The current error message, "" if none; borrowed. */
const char *err_msg(void);
void err_clear(void);
/* Prints the current error and its hints to stderr, then clears them. */
void err_report(void);
/*
 * The current error and its hints, kept aside while a cleanup that may set
 * (or clear) its own runs, and put back after: err_restore() frees them.
 */
struct err_saved {
	char *msg, *hints;
};
void err_save(struct err_saved *out);
void err_restore(struct err_saved *saved);

void msg_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
void msg_warning(const char *fmt, ...) PRINTF_LIKE(1, 2);
void msg_hint(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Each non-empty line of lines as a "warning: " line. */
void msg_warning_lines(const struct buf *lines);

/* True when s starts with prefix; *rest (if not NULL) points past it. */
int skip_prefix(const char *s, const char *prefix, const char **rest);
int ends_with(const char *s, const char *suffix);

/* Writes all of data to fd, retrying on EINTR and short writes. 0 or -1 (errno set). */
int write_all(int fd, const void *data, size_t len);
/*
 * Replaces path with data (mode before the umask): written whole to a
 * temporary file beside it, then renamed, so a reader never sees half a file.
 * 0, or -1 with err_set (the temporary file is gone).
 */
int write_file_atomic(const char *path, const void *data, size_t len, int mode);
/* Reads a whole file into out. 0, or -1 with err_set. */
int read_file(struct buf *out, const char *path);
/* mkdir -p. 0, or -1 with err_set. */
int mkdir_p(const char *path, int mode);
/* rm -rf. 0, or -1 with err_set. Never follows symlinks. */
int remove_tree(const char *path);

/* An environment variable's value; NULL when it is unset or empty. */
const char *getenv_nonempty(const char *name);

/* The value of a hex digit, -1 for anything else. */
int hex_value(int c);
/* len bytes as 2 * len lowercase hex digits and a NUL, in out. */
void hex_encode(char *out, const unsigned char *in, size_t len);

/* Edit distance, for "did you mean" suggestions. */
size_t levenshtein(const char *a, const char *b);

/* Monotonic seconds, for durations. */
double now_monotonic(void);
/* Sleeps seconds, waking at least every 0.2 s to check *cancel (may be NULL). -1 when cancelled. */
int sleep_unless_cancelled(const volatile sig_atomic_t *cancel, double seconds);
/*
 * The interval of a fixed poll (following a log, waiting for an instance or
 * for the runner to start): seconds, times GIT_TRAIN_POLL_SCALE when that is
 * a number between 0.001 and 1 (the tests shorten every poll with it, as
 * GIT_TRAIN_RETRY_BASE_MS shortens retries); seconds otherwise.
 */
double poll_interval(double seconds);

#endif
