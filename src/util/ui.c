#include "util/ui.h"

#include <stdarg.h>

void ui_say(const struct ui *ui, enum ui_kind kind, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (!ui || !ui->say)
		return;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	ui->say(ui->ctx, kind, buf_cstr(&b));
	buf_release(&b);
}

void ui_status(const struct ui *ui, unsigned flags, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	if (!ui || !ui->status)
		return;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	ui->status(ui->ctx, buf_cstr(&b), flags);
	buf_release(&b);
}

void ui_status_done(const struct ui *ui, unsigned flags)
{
	if (ui && ui->status)
		ui->status(ui->ctx, NULL, flags);
}

int ui_ask(const struct ui *ui, const char *question)
{
	if (!ui || !ui->ask)
		return UI_CANNOT_ASK;
	return ui->ask(ui->ctx, question);
}

int ui_interactive(const struct ui *ui)
{
	return ui && ui->ask && ui->interactive;
}

int ui_live(const struct ui *ui)
{
	return ui && ui->status && ui->live;
}
