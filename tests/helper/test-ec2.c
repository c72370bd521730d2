/*
 * test-tool ec2: the ec2 and pricing modules from the command line, for
 * tests/t0550-ec2.sh (built by `make check`, never installed). AWS settings
 * come from the environment, as git-train's do.
 *
 *   test-tool ec2 run <type> <ami> [--spot] [--az <az>] [--subnet <id>] [--sg <id>]
 *                [--profile <name>] [--user-data <text>] [--token <token>]
 *                [--volume <GiB>] [--tag <key>=<value>]...
 *   test-tool ec2 describe [--id <id>]... [--filter <name>=<value>]...
 *   test-tool ec2 terminate <id>...
 *   test-tool ec2 zones
 *   test-tool ec2 spot-price <type>
 *   test-tool ec2 on-demand <region> <type>
 *   test-tool ec2 quote <git-dir> <region> <type>
 *
 * Instances print as "<field> <value>" lines (tags as "tag <key>=<value>"),
 * one blank line after each. A failed call prints its error on stderr, and
 * for run "code <Code>" on stdout; the exit code is 1 (2 for usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-tool.h"
#include "aws/client.h"
#include "services/ec2.h"
#include "services/pricing.h"
#include "util/util.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: test-tool ec2 run|describe|terminate|zones|spot-price|on-demand|quote "
		"[<args>...]\n");
	return 2;
}

/* "key=value" into a tag (pointing into arg, which it modifies). */
static int split_tag(struct ec2_tag *out, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq)
		return -1;
	*eq = '\0';
	out->key = arg;
	out->value = eq + 1;
	return 0;
}

static void print_instance(const struct ec2_instance *i)
{
	char when[32] = "";
	size_t n;

	if (i->launched) {
		struct tm tm;

		gmtime_r(&i->launched, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	printf("id %s\ntype %s\nstate %s\naz %s\nlifecycle %s\n", i->id, i->type ? i->type : "",
	       i->state ? i->state : "", i->az ? i->az : "",
	       i->lifecycle ? i->lifecycle : "on-demand");
	printf("launched %s\n", when);
	if (i->state_reason)
		printf("reason %s\n", i->state_reason);
	for (n = 0; n < i->nr_tags; n++)
		printf("tag %s=%s\n", i->tags[n].key, i->tags[n].value);
	printf("\n");
}

static int opt(const char *name, int *i, int argc, char **argv, const char **out)
{
	if (strcmp(argv[*i], name) || *i + 1 >= argc)
		return 0;
	*out = argv[++*i];
	return 1;
}

static int cmd_run(struct aws_client *c, int argc, char **argv)
{
	struct ec2_launch l;
	struct ec2_instance inst;
	struct ec2_tag *tags = xcalloc(argc, sizeof(*tags));
	const char *volume = NULL, *tag;
	char *code = NULL;
	int i, ret = 1;

	if (argc < 2)
		return usage();
	memset(&l, 0, sizeof(l));
	l.instance_type = argv[0];
	l.ami = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--spot"))
			l.spot = 1;
		else if (opt("--az", &i, argc, argv, &l.az) ||
			 opt("--subnet", &i, argc, argv, &l.subnet) ||
			 opt("--sg", &i, argc, argv, &l.security_group) ||
			 opt("--profile", &i, argc, argv, &l.instance_profile) ||
			 opt("--user-data", &i, argc, argv, &l.user_data) ||
			 opt("--token", &i, argc, argv, &l.client_token) ||
			 opt("--volume", &i, argc, argv, &volume))
			;
		else if (opt("--tag", &i, argc, argv, &tag) &&
			 !split_tag(&tags[l.nr_tags], (char *)tag))
			l.nr_tags++;
		else
			return usage();
	}
	l.volume_size_gib = volume ? atoi(volume) : 0;
	l.tags = tags;
	if (ec2_run_instance(&inst, &code, c, &l)) {
		err_report();
		if (code)
			printf("code %s\n", code);
		goto out;
	}
	print_instance(&inst);
	ec2_instance_release(&inst);
	ret = 0;
out:
	free(code);
	free(tags);
	return ret;
}

static int cmd_describe(struct aws_client *c, int argc, char **argv)
{
	const char **ids = xcalloc(argc + 1, sizeof(*ids));
	struct ec2_tag *filters = xcalloc(argc + 1, sizeof(*filters));
	struct ec2_instance *v = NULL;
	size_t nr_ids = 0, nr_filters = 0, nr = 0, n;
	const char *arg;
	int i, ret = 1;

	for (i = 0; i < argc; i++) {
		if (opt("--id", &i, argc, argv, &ids[nr_ids]))
			nr_ids++;
		else if (opt("--filter", &i, argc, argv, &arg) &&
			 !split_tag(&filters[nr_filters], (char *)arg))
			nr_filters++;
		else
			goto out;
	}
	if (ec2_describe_instances(&v, &nr, c, ids, nr_ids, filters, nr_filters)) {
		err_report();
		goto out;
	}
	for (n = 0; n < nr; n++)
		print_instance(&v[n]);
	ec2_instances_free(v, nr);
	ret = 0;
out:
	free(ids);
	free(filters);
	return ret;
}

static int cmd_zones(struct aws_client *c)
{
	struct strvec zones = STRVEC_INIT;
	size_t i;

	if (ec2_availability_zones(&zones, c)) {
		err_report();
		return 1;
	}
	for (i = 0; i < zones.nr; i++)
		printf("%s\n", zones.v[i]);
	strvec_clear(&zones);
	return 0;
}

static int cmd_spot_price(struct aws_client *c, const char *type)
{
	char *az = NULL;
	double price;
	int r = ec2_spot_price(&price, &az, c, type);

	if (r < 0) {
		err_report();
		return 1;
	}
	if (r > 0)
		printf("none\n");
	else
		printf("%.6f %s\n", price, az);
	free(az);
	return 0;
}

static int cmd_on_demand(struct aws_client *c, const char *region, const char *type)
{
	double price;
	int r = pricing_on_demand(&price, c, region, type);

	if (r < 0) {
		err_report();
		return 1;
	}
	if (r > 0)
		printf("none\n");
	else
		printf("%.6f\n", price);
	return 0;
}

static int cmd_quote(struct aws_client *c, const char *git_dir, const char *region,
		     const char *type)
{
	struct pricing_quote q;
	struct buf warnings = BUF_INIT, s = BUF_INIT;

	pricing_quote(&q, &warnings, c, git_dir, region, type);
	pricing_format(&s, q.spot);
	printf("spot %s %s\n", buf_cstr(&s), q.spot_az ? q.spot_az : "-");
	buf_reset(&s);
	pricing_format(&s, q.on_demand);
	printf("on-demand %s\n", buf_cstr(&s));
	fputs(buf_cstr(&warnings), stderr);
	buf_release(&s);
	buf_release(&warnings);
	pricing_quote_release(&q);
	return 0;
}

static int dispatch(struct aws_client *c, int argc, char **argv)
{
	const char *cmd = argv[0];

	argc--;
	argv++;
	if (!strcmp(cmd, "run"))
		return cmd_run(c, argc, argv);
	if (!strcmp(cmd, "describe"))
		return cmd_describe(c, argc, argv);
	if (!strcmp(cmd, "terminate")) {
		if (ec2_terminate_instances(c, (const char *const *)argv, argc)) {
			err_report();
			return 1;
		}
		return 0;
	}
	if (!strcmp(cmd, "zones") && !argc)
		return cmd_zones(c);
	if (!strcmp(cmd, "spot-price") && argc == 1)
		return cmd_spot_price(c, argv[0]);
	if (!strcmp(cmd, "on-demand") && argc == 2)
		return cmd_on_demand(c, argv[0], argv[1]);
	if (!strcmp(cmd, "quote") && argc == 3)
		return cmd_quote(c, argv[0], argv[1], argv[2]);
	return usage();
}

int cmd__ec2(int argc, char **argv)
{
	struct aws_client c;
	int ret;

	if (argc < 2)
		return usage();
	if (aws_client_init(&c, NULL)) {
		err_report();
		return 1;
	}
	ret = dispatch(&c, argc - 1, argv + 1);
	aws_client_release(&c);
	return ret;
}
