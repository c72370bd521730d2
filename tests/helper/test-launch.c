/*
 * test-tool launch: launch_instance() from the command line, for
 * tests/t0560-launch.sh. AWS settings come from the environment as for
 * git-train. SIGINT and SIGTERM set the cancel flag, as git-train's run
 * does; --cancel-after N sends the SIGINT itself after N seconds.
 *
 * Prints "instance <id>", "market spot|on-demand", "az <zone>",
 * "price <USD/h>|unknown", "ami <id>" on stdout. Exit: 0 launched, 1 an
 * error, 3 no spot capacity and no fallback, 130 cancelled.
 *
 * Several instances (issue 14): --count=N launches N; --cluster first makes
 * the run's placement group and security group (cluster_create(), printed
 * as "placement_group <name>" and "security_group <id>") and launches into
 * them, deleting them again when the launch fails; each instance is printed
 * as "node <rank> <id> <private ip> <zone> <persistent spot request|none>".
 * --cluster-delete=SECONDS does
 * only cluster_delete() of the run, waiting that long for its instances.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-tool.h"
#include "cmd/ui.h"
#include "run/cluster.h"
#include "run/launch.h"

static volatile sig_atomic_t cancel;
static struct ec2_tag *tags;
static size_t nr_tags;

static void on_signal(int sig)
{
	(void)sig;
	cancel = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	raise(SIGINT);
}

static void catch_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn; /* no SA_RESTART: a sleep or a read is cut short */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int usage(void)
{
	fputs("usage: test-tool launch [--on-demand] [--fail-if-no-spot] [--yes]\n"
	      "       [--spot-timeout=N] [--max-runtime=N] [--ready-timeout=N]\n"
	      "       [--idle-timeout=N]\n"
	      "       [--spot-price=X] [--on-demand-price=X] [--spot-az=AZ] [--ami=ID]\n"
	      "       [--subnet=ID] [--profile=NAME] [--run-id=ID] [--tag=K=V]...\n"
	      "       [--cancel-after=N] [--persistent] [--avoid-az=AZ]\n"
	      "       [--count=N] [--cluster] [--placement-group=NAME] <instance-type>\n"
	      "   or: test-tool launch [--run-id=ID] --cluster-delete=SECONDS\n",
	      stderr);
	return 129;
}

static void add_tag(const char *kv)
{
	const char *eq = strchr(kv, '=');

	tags = xrealloc(tags, (nr_tags + 1) * sizeof(*tags));
	tags[nr_tags].key = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	tags[nr_tags].value = xstrdup(eq ? eq + 1 : "");
	nr_tags++;
}

static int with_cluster;
static long cluster_delete_timeout = -1;

static int parse(struct launch_opts *o, struct pricing_quote *q, long *cancel_after, int argc,
		 char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;

		if (!strcmp(a, "--on-demand"))
			o->on_demand = 1;
		else if (!strcmp(a, "--fail-if-no-spot"))
			o->fail_if_no_spot = 1;
		else if (!strcmp(a, "--yes"))
			o->yes = 1;
		else if (skip_prefix(a, "--spot-timeout=", &v))
			o->spot_timeout = atol(v);
		else if (skip_prefix(a, "--max-runtime=", &v))
			o->max_runtime = atol(v);
		else if (skip_prefix(a, "--ready-timeout=", &v))
			o->ready_timeout = atol(v);
		else if (skip_prefix(a, "--idle-timeout=", &v))
			o->idle_timeout = atol(v);
		else if (skip_prefix(a, "--spot-price=", &v))
			q->spot = atof(v);
		else if (skip_prefix(a, "--on-demand-price=", &v))
			q->on_demand = atof(v);
		else if (skip_prefix(a, "--spot-az=", &v))
			q->spot_az = (char *)v;
		else if (skip_prefix(a, "--ami=", &v))
			o->ami = v;
		else if (skip_prefix(a, "--subnet=", &v))
			o->subnet = v;
		else if (skip_prefix(a, "--profile=", &v))
			o->instance_profile = v;
		else if (skip_prefix(a, "--run-id=", &v))
			o->run_id = v;
		else if (skip_prefix(a, "--tag=", &v))
			add_tag(v);
		else if (skip_prefix(a, "--cancel-after=", &v))
			*cancel_after = atol(v);
		else if (!strcmp(a, "--persistent"))
			o->persistent = 1;
		else if (skip_prefix(a, "--avoid-az=", &v))
			o->avoid_az = v;
		else if (skip_prefix(a, "--count=", &v))
			o->count = atoi(v);
		else if (!strcmp(a, "--cluster"))
			with_cluster = 1;
		else if (skip_prefix(a, "--placement-group=", &v))
			o->placement_group = v;
		else if (skip_prefix(a, "--cluster-delete=", &v))
			cluster_delete_timeout = atol(v);
		else if (a[0] == '-' || o->instance_type)
			return -1;
		else
			o->instance_type = a;
	}
	return o->instance_type || cluster_delete_timeout >= 0 ? 0 : -1;
}

static void print_result(const struct launch_result *res)
{
	size_t i;

	printf("instance %s\nmarket %s\naz %s\n", res->instance.id,
	       res->spot ? "spot" : "on-demand", res->instance.az ? res->instance.az : "unknown");
	if (res->price < 0)
		printf("price unknown\n");
	else
		printf("price %g\n", res->price);
	printf("ami %s\n", res->ami ? res->ami : "unknown");
	printf("spot_request %s\n",
	       res->instance.spot_request ? res->instance.spot_request : "none");
	for (i = 0; i < res->nr_nodes; i++)
		printf("node %zu %s %s %s %s\n", i, res->nodes[i].id,
		       res->nodes[i].private_ip ? res->nodes[i].private_ip : "none",
		       res->nodes[i].az ? res->nodes[i].az : "unknown",
		       res->nodes[i].spot_request ? res->nodes[i].spot_request : "none");
}

int cmd__launch(int argc, char **argv)
{
	struct pricing_quote q = { -1, NULL, -1 };
	struct launch_opts o;
	struct launch_result res;
	struct aws_client c;
	struct cmd_ui ui;
	struct cluster cl;
	long cancel_after = 0;
	size_t i;
	int r;

	memset(&o, 0, sizeof(o));
	o.run_id = "20261129-000000-abc1234-0000";
	o.short_sha = "abc1234";
	o.spot_timeout = 0;
	o.max_runtime = 3600;
	o.ready_timeout = 60;
	o.prices = &q;
	o.cancel = &cancel;
	cmd_ui_init(&ui, 0, &cancel);
	o.ui = &ui.ui;
	if (parse(&o, &q, &cancel_after, argc, argv))
		return usage();
	o.tags = tags;
	o.nr_tags = nr_tags;
	catch_signal(SIGINT, on_signal);
	catch_signal(SIGTERM, on_signal);
	if (cancel_after > 0) {
		catch_signal(SIGALRM, on_alarm);
		alarm((unsigned)cancel_after);
	}
	if (aws_client_init(&c, NULL)) {
		err_report();
		return 1;
	}
	if (cluster_delete_timeout >= 0) {
		r = cluster_delete(&c, o.run_id, o.ui, cluster_delete_timeout) ? RC_ERROR : 0;
		if (r)
			err_report();
		goto out;
	}
	memset(&cl, 0, sizeof(cl));
	if (with_cluster) {
		if (cluster_create(&cl, &c, o.run_id, o.subnet, tags, nr_tags)) {
			err_report();
			r = RC_ERROR;
			goto out;
		}
		printf("placement_group %s\nsecurity_group %s\n", cl.placement_group,
		       cl.security_group);
		fflush(stdout);
		o.placement_group = cl.placement_group;
		o.cluster_security_group = cl.security_group;
	}
	r = launch_instance(&res, &c, &o);
	if (!r) {
		print_result(&res);
		launch_result_release(&res);
	} else if (r != RC_CANCELLED) {
		err_report();
	} else {
		fprintf(stderr, "cancelled\n");
	}
	/* nothing of the run is left running: its groups go too */
	if (r && with_cluster && cluster_delete(&c, o.run_id, NULL, 60))
		err_report();
	cluster_release(&cl);
out:
	aws_client_release(&c);
	cmd_ui_release(&ui);
	for (i = 0; i < nr_tags; i++) {
		free(tags[i].key);
		free(tags[i].value);
	}
	free(tags);
	return r == RC_OK ? 0 : r == RC_NO_SPOT ? 3 : r == RC_CANCELLED ? 130 : 1;
}
