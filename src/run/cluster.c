/*
 * cluster: the placement group and the security group of a run on several
 * instances (cluster.h). Both carry the run's tags plus git-train:created
 * (seconds since the epoch), which `git train gc` reads to leave alone the
 * groups of a run that is still launching.
 */
#include "run/cluster.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run/remote-run.h"
#include "util/time.h"
#include "util/util.h"

/* How long a deletion is retried while EC2 still counts a terminated instance in. */
#define SETTLE_SECONDS 90

static char *group_name(const char *run_id)
{
	return xstrfmt("git-train-%s", run_id);
}

/* tags, plus the run id (when tags lack it) and the creation time; ours own their strings. */
static struct ec2_tag *cluster_tags(size_t *out_nr, size_t *out_own, const char *run_id,
				    const struct ec2_tag *tags, size_t nr_tags)
{
	struct ec2_tag *v = xcalloc(nr_tags + 2, sizeof(*v));
	size_t i, n = nr_tags;
	int has_run = 0;

	for (i = 0; i < nr_tags; i++) {
		v[i] = tags[i]; /* borrowed */
		if (!strcmp(tags[i].key, REMOTE_TAG_RUN_ID))
			has_run = 1;
	}
	if (!has_run) {
		v[n].key = xstrdup(REMOTE_TAG_RUN_ID);
		v[n++].value = xstrdup(run_id);
	}
	v[n].key = xstrdup(CLUSTER_TAG_CREATED);
	v[n++].value = xstrfmt("%lld", (long long)time(NULL));
	*out_nr = n;
	*out_own = n - nr_tags;
	return v;
}

static void cluster_tags_free(struct ec2_tag *v, size_t nr, size_t own)
{
	size_t i;

	for (i = nr - own; i < nr; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

int cluster_create(struct cluster *out, struct aws_client *c, const char *run_id,
		   const char *subnet, const struct ec2_tag *tags, size_t nr_tags)
{
	struct ec2_tag *all;
	size_t nr, own;
	char *name = group_name(run_id), *vpc = NULL, *desc = NULL, *e;
	int ret = -1, made_pg = 0;

	memset(out, 0, sizeof(*out));
	all = cluster_tags(&nr, &own, run_id, tags, nr_tags);
	if (ec2_create_placement_group(NULL, c, name, all, nr)) {
		e = xstrdup(err_msg());
		err_set("cannot create placement group %s: %s", name, e);
		free(e);
		goto out;
	}
	made_pg = 1;
	if (ec2_vpc_of(&vpc, c, subnet)) {
		e = xstrdup(err_msg());
		err_set("cannot find the VPC for the security group of run %s: %s", run_id, e);
		free(e);
		goto out;
	}
	desc = xstrfmt("git-train run %s: its instances reach each other", run_id);
	if (ec2_create_security_group(&out->security_group, NULL, c, name, desc, vpc, all, nr)) {
		e = xstrdup(err_msg());
		err_set("cannot create security group %s in %s: %s", name, vpc, e);
		free(e);
		goto out;
	}
	if (ec2_authorize_group_ingress(c, out->security_group)) {
		e = xstrdup(err_msg());
		err_set("cannot let security group %s (%s) reach itself: %s", name,
			out->security_group, e);
		free(e);
		goto out;
	}
	out->placement_group = name;
	name = NULL;
	ret = 0;
out:
	if (ret) {
		/* nothing uses them yet: they go at once; the error is the news */
		int sg_left, pg_left;

		e = xstrdup(err_msg());
		sg_left = out->security_group &&
			  ec2_delete_security_group(NULL, c, out->security_group);
		pg_left = made_pg && ec2_delete_placement_group(NULL, c, name);
		err_set("%s", e);
		if (sg_left)
			err_hint("security group %s is left: git train gc removes it",
				 out->security_group);
		if (pg_left)
			err_hint("placement group %s is left: git train gc removes it", name);
		free(e);
		free(out->security_group);
		out->security_group = NULL;
	}
	cluster_tags_free(all, nr, own);
	free(name);
	free(vpc);
	free(desc);
	return ret;
}

/* The run's instances that are not terminated yet; -1 on error. */
static int left_instances(struct strvec *out, struct aws_client *c, const char *run_id)
{
	struct ec2_tag f = { (char *)"tag:" REMOTE_TAG_RUN_ID, (char *)run_id };
	struct ec2_instance *v = NULL;
	size_t n = 0, i;

	strvec_clear(out);
	if (ec2_describe_instances(&v, &n, c, NULL, 0, &f, 1))
		return -1;
	for (i = 0; i < n; i++)
		if (v[i].state && strcmp(v[i].state, "terminated"))
			strvec_push(out, v[i].id);
	ec2_instances_free(v, n);
	return 0;
}

static int wait_instances_gone(struct aws_client *c, const char *run_id, const struct ui *ui,
			       long timeout)
{
	double start = now_monotonic();
	struct strvec left = STRVEC_INIT;
	struct buf b = BUF_INIT;
	int ret = -1, shown = 0;

	for (;;) {
		if (left_instances(&left, c, run_id))
			goto out;
		if (!left.nr)
			break;
		if (now_monotonic() - start >= (double)timeout) {
			size_t i;

			buf_reset(&b);
			for (i = 0; i < left.nr; i++)
				buf_printf(&b, "%s%s", i ? ", " : "", left.v[i]);
			err_set("run %s still has instances not terminated (%s): its placement "
				"group and security group stay",
				run_id, b.ptr);
			err_hint("git train gc removes them once the instances are gone");
			goto out;
		}
		buf_reset(&b);
		time_format_elapsed(&b, (long)(now_monotonic() - start));
		ui_status(ui, shown ? 0 : UI_STATUS_KEEP,
			  "waiting for %zu instance%s of run %s to terminate (%s)", left.nr,
			  left.nr == 1 ? "" : "s", run_id, b.ptr);
		shown = 1;
		sleep_unless_cancelled(NULL, 2);
	}
	ret = 0;
out:
	if (shown)
		ui_status_done(ui, UI_STATUS_END);
	strvec_clear(&left);
	buf_release(&b);
	return ret;
}

/* delete(), retried while EC2 says the group is still in use (busy, its code). */
static int delete_settled(int (*del)(char **, struct aws_client *, const char *),
			  struct aws_client *c, const char *what, const char *busy)
{
	double until = now_monotonic() + SETTLE_SECONDS;
	char *code = NULL;
	int r;

	for (;;) {
		free(code);
		code = NULL;
		r = del(&code, c, what);
		if (!r || !code || strcmp(code, busy) || now_monotonic() >= until)
			break;
		err_clear();
		sleep_unless_cancelled(NULL, 2);
	}
	free(code);
	return r;
}

int cluster_delete(struct aws_client *c, const char *run_id, const struct ui *ui, long timeout)
{
	struct ec2_tag f = { (char *)"tag:" REMOTE_TAG_RUN_ID, (char *)run_id };
	struct ec2_group *pg = NULL, *sg = NULL;
	size_t nr_pg = 0, nr_sg = 0, i;
	char *name = group_name(run_id);
	int ret = -1;

	if (wait_instances_gone(c, run_id, ui, timeout) ||
	    ec2_describe_placement_groups(&pg, &nr_pg, c, &f, 1) ||
	    ec2_describe_security_groups(&sg, &nr_sg, c, &f, 1))
		goto out;
	/* by tag and name: a group of that name that is not the run's is not ours */
	for (i = 0; i < nr_pg; i++) {
		if (!pg[i].name || strcmp(pg[i].name, name))
			continue;
		if (delete_settled(ec2_delete_placement_group, c, pg[i].name,
				   "InvalidPlacementGroup.InUse"))
			goto failed;
	}
	for (i = 0; i < nr_sg; i++) {
		if (!sg[i].id || !sg[i].name || strcmp(sg[i].name, name))
			continue;
		if (delete_settled(ec2_delete_security_group, c, sg[i].id, "DependencyViolation"))
			goto failed;
	}
	ret = 0;
	goto out;
failed : {
	char *e = xstrdup(err_msg());

	err_set("cannot delete the groups of run %s: %s", run_id, e);
	err_hint("git train gc removes them later");
	free(e);
}
out:
	ec2_groups_free(pg, nr_pg);
	ec2_groups_free(sg, nr_sg);
	free(name);
	return ret;
}

void cluster_release(struct cluster *cl)
{
	free(cl->placement_group);
	free(cl->security_group);
	memset(cl, 0, sizeof(*cl));
}
