/*
 * git train doctor [--json] [--instance-type <type>]: is this repository and
 * AWS account ready to train? One line per check, and the fix for each failure
 * or warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <git2.h>

#include "aws/client.h"
#include "cmd/builtin.h"
#include "cmd/common.h"
#include "git/config.h"
#include "doctor/doctor.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "util/util.h"

static const char *const doctor_usage[] = {
	"git train doctor [--json] [--instance-type <type>]",
	NULL,
};

/* AWS's messages are not ours: keep them from moving the cursor. */
static void put_clean(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i]; i++)
		buf_putc(out, ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i]);
}

/*
 *   ok   credentials: arn:aws:iam::123456789012:user/alice (account 123456789012)
 *   FAIL bucket: train.bucket is not set
 *        fix: git config train.bucket <name>
 *             your buckets: ...
 *   --   bucket exists: skipped (no bucket)
 *   warn role ssm access: role r has AmazonSSMManagedInstanceCore, ...
 *        fix: ...
 */
static void print_text(const struct doctor_report *r)
{
	static const char *const marks[] = { "ok  ", "FAIL", "--  ", "warn" };
	struct buf line = BUF_INIT;
	size_t i;

	for (i = 0; i < r->nr; i++) {
		const struct doctor_check *chk = &r->checks[i];
		const char *p = chk->fix;

		buf_reset(&line);
		buf_printf(&line, "%s %s: ", marks[chk->state], chk->name);
		put_clean(&line, chk->detail, strlen(chk->detail));
		puts(buf_cstr(&line));
		while (p && *p) {
			size_t n = strcspn(p, "\n");

			buf_reset(&line);
			buf_puts(&line, p == chk->fix ? "     fix: " : "          ");
			put_clean(&line, p, n);
			puts(buf_cstr(&line));
			p += n + (p[n] == '\n');
		}
	}
	buf_release(&line);
}

static void print_json(const struct doctor_report *r)
{
	cJSON *arr = doctor_report_json(r);
	char *text = cJSON_Print(arr);

	if (text)
		puts(text);
	free(text);
	cJSON_Delete(arr);
}

static int run_doctor(struct doctor_report *out, const char *instance_type)
{
	git_repository *repo = NULL;
	struct config cfg;
	struct aws_client client;
	int have_client = 0, ret = -1;

	memset(&cfg, 0, sizeof(cfg));
	if (repo_open(&repo) || config_load(&cfg, repo))
		goto out;
	if (instance_type && cmd_config_override(&cfg, "train.instanceType", instance_type))
		goto out;
	if (aws_client_init(&client, &cfg))
		goto out;
	have_client = 1;
	ret = doctor_run(out, &client, &cfg, 0);
out:
	if (have_client)
		aws_client_release(&client);
	config_release(&cfg);
	git_repository_free(repo);
	return ret;
}

int cmd_doctor(int argc, const char **argv)
{
	int json = 0, ret;
	const char *instance_type = NULL;
	struct doctor_report report;
	struct parsed_args pa;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print the checks as a JSON array, for scripts"),
		OPT_STRING(0, "instance-type", &instance_type, "type",
			   "check this instance type instead of train.instanceType"),
		OPT_END(),
	};

	memset(&report, 0, sizeof(report));
	if (parse_options(&pa, argc, argv, opts, doctor_usage) != PARSE_OPT_OK) {
		parse_options_release(&pa);
		return EXIT_USAGE;
	}
	if (pa.nr_args || pa.dashdash) {
		msg_error("'git train doctor' takes no arguments: '%s'",
			  pa.nr_args ? pa.args[0] : "--");
		parse_options_usage(stderr, doctor_usage, opts);
		ret = EXIT_USAGE;
		goto out;
	}
	if (instance_type && !*instance_type) {
		msg_error("--instance-type needs a type, such as t3.micro");
		ret = EXIT_USAGE;
		goto out;
	}
	if (run_doctor(&report, instance_type)) {
		err_report();
		ret = EXIT_FATAL;
		goto out;
	}
	if (json)
		print_json(&report);
	else
		print_text(&report);
	ret = doctor_report_ok(&report) ? EXIT_OK : EXIT_FAILED;
out:
	doctor_report_release(&report);
	parse_options_release(&pa);
	return ret;
}
