#include "cmd/ui.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/time.h"

/* The terminal's width; 0 when it does not say (a pty nobody sized): then nothing is cut. */
static size_t terminal_columns(void)
{
	struct winsize ws;

	return !ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) ? ws.ws_col : 0;
}

/* Columns of UTF-8 text, one per character: what the status line pads and cuts by. */
static size_t columns(const char *s, size_t len)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* At most max columns of text, never cutting a UTF-8 character in two. */
static size_t cut(const char *text, size_t max)
{
	size_t i, n = 0;

	for (i = 0; text[i]; i++) {
		if (((unsigned char)text[i] & 0xc0) != 0x80 && n++ == max)
			break;
	}
	return i;
}

static void put(const struct buf *b)
{
	fflush(stdout);
	write_all(STDERR_FILENO, b->ptr, b->len);
}

/* With the lock held: a status line still shown stays, and the cursor moves below it. */
static void finish_locked(struct cmd_ui *u)
{
	if (u->shown)
		write_all(STDERR_FILENO, "\n", 1);
	u->shown = 0;
}

static void say(void *ctx, enum ui_kind kind, const char *text)
{
	static const char *const prefix[] = {
		[UI_PROGRESS] = "",	[UI_INFO] = "",	      [UI_WARNING] = "warning: ",
		[UI_ERROR] = "error: ", [UI_HINT] = "hint: ",
	};
	struct cmd_ui *u = ctx;
	struct buf b = BUF_INIT;

	if (kind == UI_PROGRESS && (u->flags & CMD_UI_STAMP)) {
		buf_putc(&b, '[');
		cmd_ui_elapsed(&b, u);
		buf_puts(&b, "] ");
	}
	buf_puts(&b, prefix[kind]);
	buf_puts(&b, text);
	buf_putc(&b, '\n');
	pthread_mutex_lock(&u->lock);
	finish_locked(u);
	put(&b);
	pthread_mutex_unlock(&u->lock);
	buf_release(&b);
}

static void status(void *ctx, const char *text, unsigned flags)
{
	struct cmd_ui *u = ctx;
	struct buf b = BUF_INIT;

	pthread_mutex_lock(&u->lock);
	if (!u->tty) {
		if (text && (flags & UI_STATUS_KEEP)) {
			buf_puts(&b, text);
			buf_putc(&b, '\n');
			put(&b);
		}
		goto out;
	}
	if (flags & UI_STATUS_CLEAR) {
		if (u->shown)
			buf_puts(&b, "\r\033[K");
		u->shown = 0;
	} else if (text) {
		size_t cols = terminal_columns();
		size_t n = cols ? cut(text, cols - 1) : strlen(text), width = columns(text, n);

		buf_add(&b, text, n);
		while (width + (b.len - n) < u->shown) /* wipe what a longer line left */
			buf_putc(&b, ' ');
		buf_putc(&b, '\r');
		u->shown = width ? width : 1;
	}
	put(&b);
	if (flags & UI_STATUS_END)
		finish_locked(u);
out:
	pthread_mutex_unlock(&u->lock);
	buf_release(&b);
}

static int ask(void *ctx, const char *question)
{
	struct cmd_ui *u = ctx;
	struct buf q = BUF_INIT;
	char answer[16];
	size_t len = 0;
	ssize_t n;
	char ch;

	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return UI_CANNOT_ASK;
	pthread_mutex_lock(&u->lock);
	finish_locked(u);
	pthread_mutex_unlock(&u->lock);
	buf_puts(&q, question);
	put(&q);
	buf_release(&q);
	while ((n = read(STDIN_FILENO, &ch, 1)) != 0) {
		if (u->cancel && *u->cancel) {
			write_all(STDERR_FILENO, "\n", 1);
			return RC_CANCELLED;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || ch == '\n')
			break;
		if (len < sizeof(answer) - 1)
			answer[len++] = ch;
	}
	answer[len] = '\0';
	while (len &&
	       (answer[len - 1] == ' ' || answer[len - 1] == '\r' || answer[len - 1] == '\t'))
		answer[--len] = '\0';
	return !strcasecmp(answer, "y") || !strcasecmp(answer, "yes");
}

void cmd_ui_init(struct cmd_ui *out, unsigned flags, const volatile sig_atomic_t *cancel)
{
	memset(out, 0, sizeof(*out));
	out->flags = flags;
	out->tty = isatty(STDERR_FILENO);
	out->t0 = now_monotonic();
	out->cancel = cancel;
	pthread_mutex_init(&out->lock, NULL);
	out->ui.say = say;
	out->ui.status = status;
	out->ui.ask = ask;
	out->ui.live = out->tty;
	out->ui.interactive = out->tty && isatty(STDIN_FILENO);
	out->ui.ctx = out;
}

void cmd_ui_release(struct cmd_ui *u)
{
	pthread_mutex_lock(&u->lock);
	finish_locked(u);
	pthread_mutex_unlock(&u->lock);
	pthread_mutex_destroy(&u->lock);
}

void cmd_ui_elapsed(struct buf *out, const struct cmd_ui *u)
{
	time_format_elapsed(out, now_monotonic() - u->t0);
}
