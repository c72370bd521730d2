/* launch: the pure parts, texts and schedules (see launch-internal.h). */
#include "run/launch-internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "services/quotas.h"
#include "util/time.h"

char *launch_user_data(long max_runtime, long idle_timeout)
{
	long first = idle_timeout > 0 && idle_timeout < max_runtime ? idle_timeout : max_runtime;
	long minutes = first > 0 ? (first + 59) / 60 : 1;

	/*
	 * Only the watchdog: cloud-init runs this as root at first boot, and
	 * shutdown(8) with the instance's terminate behaviour ends it for good.
	 * Its first stage is short: a runner that never starts (no client left
	 * to start it) leaves no instance running for long. The runner moves
	 * it on while it lives (runner.sh), never past the max runtime.
	 * By name, so that a stand-in on PATH can take its place in tests.
	 */
	return xstrfmt("#!/bin/sh\n"
		       "# git-train: the watchdog, until the runner takes it over;\n"
		       "# no instance outlives its max runtime (%lds)\n"
		       "shutdown -h +%ld\n",
		       max_runtime, minutes < 1 ? 1 : minutes);
}

char *launch_client_token(const char *run_id, int spot, int attempt)
{
	char suffix[24];
	size_t len = strlen(run_id), keep, i;
	char *token;

	snprintf(suffix, sizeof(suffix), "-%c%d", spot ? 's' : 'o', attempt);
	keep = LAUNCH_TOKEN_MAX - strlen(suffix);
	/* a run id ends in its random part: that is the part to keep */
	if (len > keep)
		run_id += len - keep;
	token = xstrfmt("%s%s", run_id, suffix);
	for (i = 0; token[i]; i++)
		if (!isgraph((unsigned char)token[i]) || (unsigned char)token[i] > 0x7e)
			token[i] = '_';
	return token;
}

void launch_spot_wait_text(struct buf *out, const char *type, const char *region, int attempt,
			   long elapsed, long timeout, long next_try)
{
	buf_printf(out, "waiting for spot capacity: %s in %s (attempt %d, ", type, region, attempt);
	time_format_elapsed(out, elapsed);
	buf_puts(out, " of ");
	time_format_elapsed(out, timeout);
	buf_printf(out, ", next try in %lds)", next_try);
}

long launch_spot_delay(int round, long remaining)
{
	long delay = round <= 1 ? 5 : round == 2 ? 10 : 15;

	if (remaining < 0)
		return 0;
	return delay < remaining ? delay : remaining;
}

int launch_price_ratio(char *out, size_t size, const struct pricing_quote *p)
{
	if (!p || p->spot <= 0 || p->on_demand < 0) {
		if (size)
			*out = '\0';
		return 0;
	}
	snprintf(out, size, "%.1fx", p->on_demand / p->spot);
	return 1;
}

void launch_fallback_text(struct buf *out, const char *type, const struct pricing_quote *p)
{
	double spot = p ? p->spot : -1, on_demand = p ? p->on_demand : -1;
	char ratio[32];

	buf_printf(out, "spot capacity unavailable: on-demand %s is ", type);
	pricing_format(out, on_demand); /* "unknown" when < 0 */
	buf_puts(out, ", spot was ");
	pricing_format(out, spot);
	if (launch_price_ratio(ratio, sizeof(ratio), p))
		buf_printf(out, " (%s)", ratio);
}

void launch_on_demand_text(struct buf *out, const char *type, const struct pricing_quote *p)
{
	char ratio[32];

	buf_printf(out, "launching ON-DEMAND %s at ", type);
	if (!p || p->on_demand < 0) {
		buf_puts(out, "an unknown price");
		return;
	}
	pricing_format(out, p->on_demand);
	if (launch_price_ratio(ratio, sizeof(ratio), p))
		buf_printf(out, " (%s the spot price)", ratio);
}

const char *launch_quota_name(const char **out_code, const char *type, int spot)
{
	return quotas_ec2_vcpu(out_code, type, spot);
}
