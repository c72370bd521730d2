/* doctor: the default AMI and the instance type, both per region. */
#include "doctor/internal.h"

#include <stdlib.h>
#include <string.h>

#include "services/aws-checks.h"
#include "services/image.h"
#include "services/quotas.h"

#define AMI_PARAMETER	"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-"
#define MAX_SUGGESTIONS 4

struct candidate {
	const char *name;
	int other_family;
	int typo;     /* a letter or two away: what was most likely meant */
	size_t order; /* typos by distance, the others by size */
};

static int candidate_cmp(const void *pa, const void *pb)
{
	const struct candidate *a = pa, *b = pb;

	if (a->other_family != b->other_family)
		return a->other_family - b->other_family;
	if (a->typo != b->typo)
		return b->typo - a->typo;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* nano < micro < small < medium < large < xlarge < 2xlarge < ... < metal */
static size_t size_rank(const char *type)
{
	static const char *const named[] = {
		"nano", "micro", "small", "medium", "large", "xlarge",
	};
	const char *size = strchr(type, '.');
	char *end;
	long n;
	size_t i;

	if (!size)
		return 1000;
	size++;
	for (i = 0; i < ARRAY_SIZE(named); i++)
		if (!strcmp(size, named[i]))
			return i;
	n = strtol(size, &end, 10);
	if (end != size && !strcmp(end, "xlarge") && n > 0 && n < 900)
		return 5 + (size_t)n;
	return 1000;
}

/*
 * ", "-separated types offered in the region: the same family first, a likely
 * typo before the rest, the smallest (cheapest) sizes before bigger ones.
 */
static void suggest_types(struct buf *out, struct doctor_ctx *x)
{
	struct strvec offered = STRVEC_INIT;
	struct candidate *c;
	size_t i, family = strcspn(x->instance_type, ".");

	if (aws_checks_offered_types(&offered, x->client, NULL) || !offered.nr) {
		err_clear(); /* only a suggestion */
		strvec_clear(&offered);
		return;
	}
	c = xcalloc(offered.nr, sizeof(*c));
	for (i = 0; i < offered.nr; i++) {
		c[i].name = offered.v[i];
		c[i].other_family = strncmp(offered.v[i], x->instance_type, family) ||
				    offered.v[i][family] != '.';
		c[i].order = levenshtein(x->instance_type, offered.v[i]);
		c[i].typo = c[i].order <= 2;
		if (!c[i].typo && !c[i].other_family)
			c[i].order = size_rank(offered.v[i]);
	}
	qsort(c, offered.nr, sizeof(*c), candidate_cmp);
	for (i = 0; i < offered.nr && i < MAX_SUGGESTIONS; i++)
		buf_printf(out, "%s%s", i ? ", " : "", c[i].name);
	free(c);
	strvec_clear(&offered);
}

static char *type_fix(struct doctor_ctx *x)
{
	struct buf fix = BUF_INIT, types = BUF_INIT;

	suggest_types(&types, x);
	if (types.len)
		buf_printf(&fix, "offered in %s and close to it: %s\n", x->region,
			   buf_cstr(&types));
	buf_puts(&fix, "git config train.instanceType <type>");
	buf_release(&types);
	return buf_detach(&fix);
}

static void check_ami(struct doctor_ctx *x, const char *arch)
{
	char *name = xstrfmt(AMI_PARAMETER "%s", arch);
	char *ami = NULL;
	int r = aws_checks_ssm_parameter(&ami, x->client, name);

	if (!r) {
		doctor_add(x, "ami", DOCTOR_OK, xstrfmt("%s (Amazon Linux 2023, %s)", ami, arch),
			   NULL);
	} else if (r == AWS_CHECKS_NOT_FOUND) {
		err_clear();
		doctor_add(x, "ami", DOCTOR_FAILED,
			   xstrfmt("the public parameter %s does not exist in %s", name, x->region),
			   xstrdup("use a region where Amazon Linux 2023 is published: "
				   "git config train.region <region>"));
	} else {
		char *e = xstrdup(err_msg());
		int denied = !strncmp(e, "AccessDenied", 12);

		err_clear();
		doctor_add(x, "ami", DOCTOR_FAILED,
			   xstrfmt("cannot read the public parameter %s: %s", name, e),
			   denied ? xstrfmt("allow ssm:GetParameter on "
					    "arn:%s:ssm:%s::parameter/aws/service/* for %s",
					    x->partition, x->region, x->caller_arn)
				  : NULL);
		free(e);
	}
	free(ami);
	free(name);
}

/*
 * The image the launch will boot when it is not the AL2023 default:
 * train.image, or the Deep Learning AMI of a type with NVIDIA GPUs.
 */
static void check_image(struct doctor_ctx *x, const struct aws_instance_type *t)
{
	struct image im;

	if (!image_resolve(&im, x->client, x->image, t)) {
		doctor_add(x, "ami", DOCTOR_OK, xstrfmt("%s (%s)", im.ami, im.name), NULL);
	} else {
		char *e = xstrdup(err_msg());
		int denied = !!strstr(e, "AccessDenied");

		err_clear();
		doctor_add(
			x, "ami", DOCTOR_FAILED, e,
			denied ? xstrfmt("allow ssm:GetParameter and ssm:GetParametersByPath on "
					 "arn:%s:ssm:%s::parameter/aws/service/* for %s",
					 x->partition, x->region, x->caller_arn)
			       : xstrdup("name an AMI instead: git config train.image <ami-id>"));
	}
	image_release(&im);
}

/* r and archs: what DescribeInstanceTypes said; the error is still in err_msg(). */
static int check_type(struct doctor_ctx *x, int r, const struct strvec *archs)
{
	struct strvec offered = STRVEC_INIT;
	struct buf list = BUF_INIT;
	size_t i;
	int ret = -1;

	if (r == AWS_CHECKS_NOT_FOUND) {
		char *e = xstrdup(err_msg());

		err_clear();
		doctor_add(x, "instance type", DOCTOR_FAILED, e, type_fix(x));
		return -1;
	}
	if (r || aws_checks_offered_types(&offered, x->client, x->instance_type)) {
		char *e = xstrdup(err_msg());
		int denied =
			!strncmp(e, "UnauthorizedOperation", 21) || !strncmp(e, "AccessDenied", 12);

		err_clear();
		doctor_add(x, "instance type", DOCTOR_FAILED, e,
			   denied ? xstrfmt("allow ec2:DescribeInstanceTypes and "
					    "ec2:DescribeInstanceTypeOfferings for %s",
					    x->caller_arn)
				  : NULL);
		goto out;
	}
	if (!offered.nr) {
		doctor_add(x, "instance type", DOCTOR_FAILED,
			   xstrfmt("%s is not offered in %s", x->instance_type, x->region),
			   type_fix(x));
		goto out;
	}
	for (i = 0; i < archs->nr; i++)
		buf_printf(&list, "%s%s", i ? ", " : "", archs->v[i]);
	doctor_add(x, "instance type", DOCTOR_OK,
		   xstrfmt("%s (%s, offered in %s)", x->instance_type,
			   list.len ? buf_cstr(&list) : "unknown architecture", x->region),
		   NULL);
	ret = 0;
out:
	buf_release(&list);
	strvec_clear(&offered);
	return ret;
}

/* One market's quota: 0 known (*out its vCPUs), 1 not known here, -1 failed (err_msg). */
static int read_quota(double *out, char **out_code, struct doctor_ctx *x, const char *code)
{
	if (!code)
		return 1;
	return quotas_get(out, out_code, x->client, "ec2", code);
}

static char *quota_fix(struct doctor_ctx *x, const char *name, const char *code, int vcpus,
		       int other_fits)
{
	struct buf fix = BUF_INIT;

	if (code) {
		buf_printf(&fix,
			   "ask for at least %d vCPUs of \"%s\": "
			   "https://%s.console.aws.amazon.com/servicequotas/home/services/ec2/"
			   "quotas/%s\n",
			   vcpus, name, x->region, code);
		buf_printf(&fix,
			   "or: aws service-quotas request-service-quota-increase --region %s "
			   "--service-code ec2 --quota-code %s --desired-value %d",
			   x->region, code, vcpus);
	} else {
		buf_printf(&fix,
			   "ask for at least %d vCPUs of \"%s\" in the Service Quotas console",
			   vcpus, name);
	}
	if (other_fits)
		buf_printf(&fix, "\nor train %s: %s", x->on_demand ? "on spot" : "on-demand",
			   x->on_demand ? "git config train.spot true" : "--on-demand");
	return buf_detach(&fix);
}

/*
 * The vCPU quota of the type's family for the market a launch uses (spot,
 * or on-demand with train.spot false): EC2 refuses a launch past it.
 */
static void check_quota(struct doctor_ctx *x, const struct aws_instance_type *t)
{
	const char *code[2], *name[2];
	double value[2] = { 0, 0 };
	char *aws_code = NULL, *e = NULL;
	int r[2], m, use = x->on_demand ? 0 : 1; /* [0] on-demand, [1] spot */
	int vcpus = t->vcpus * (x->nodes > 1 ? x->nodes : 1);
	char *what = x->nodes > 1 ? xstrfmt("%d x %s", x->nodes, x->instance_type)
				  : xstrdup(x->instance_type);

	for (m = 0; m < 2; m++) {
		name[m] = quotas_ec2_vcpu(&code[m], x->instance_type, m);
		r[m] = read_quota(&value[m], &aws_code, x, code[m]);
		if (r[m] < 0 && m == use) {
			int denied = aws_code && (strstr(aws_code, "AccessDenied") ||
						  strstr(aws_code, "Unauthorized"));

			e = xstrdup(err_msg());
			err_clear();
			doctor_add(x, "vcpu quota", DOCTOR_WARNING,
				   xstrfmt("cannot read the quota \"%s\": %s", name[m], e),
				   denied ? xstrfmt("allow servicequotas:GetServiceQuota for %s",
						    x->caller_arn)
					  : NULL);
			goto out;
		}
		err_clear();
		free(aws_code);
		aws_code = NULL;
	}
	if (!t->vcpus || r[use]) {
		doctor_add(x, "vcpu quota", DOCTOR_OK,
			   xstrfmt("%s needs %d vCPUs; the quota \"%s\" is not known here", what,
				   vcpus, name[use]),
			   NULL);
	} else if (vcpus > value[use]) {
		doctor_add(x, "vcpu quota", DOCTOR_FAILED,
			   xstrfmt("%s needs %d vCPUs, more than the %s quota \"%s\" (%s) allows "
				   "in %s: %.0f",
				   what, vcpus, use ? "spot" : "on-demand", name[use],
				   code[use] ? code[use] : "no code known", x->region, value[use]),
			   quota_fix(x, name[use], code[use], vcpus,
				     !r[!use] && vcpus <= value[!use]));
	} else {
		doctor_add(x, "vcpu quota", DOCTOR_OK,
			   xstrfmt("%s needs %d vCPUs of %.0f (%s quota \"%s\")", what, vcpus,
				   value[use], use ? "spot" : "on-demand", name[use]),
			   NULL);
	}
out:
	free(what);
	free(aws_code);
	free(e);
}

/* Graviton types run arm64 only: their AMI is the arm64 one. */
static const char *ami_arch(const struct strvec *archs)
{
	size_t i;

	for (i = 0; i < archs->nr; i++)
		if (!strcmp(archs->v[i], "x86_64"))
			return "x86_64";
	for (i = 0; i < archs->nr; i++)
		if (!strcmp(archs->v[i], "arm64"))
			return "arm64";
	return "x86_64";
}

void doctor_check_ami_and_type(struct doctor_ctx *x)
{
	struct aws_instance_type t;
	char *type_error = NULL;
	int r;

	if (!x->have_creds || !x->region) {
		const char *why = !x->have_creds ? "no credentials" : "no region";

		doctor_skip(x, "ami", why);
		doctor_skip(x, "instance type", why);
		doctor_skip(x, "vcpu quota", why);
		return;
	}
	/* the type decides the AMI's architecture, so it is asked first */
	r = aws_checks_instance_type_info(&t, x->client, x->instance_type);
	if (r)
		type_error = xstrdup(err_msg());
	err_clear();
	if (x->image || t.gpus > 0)
		check_image(x, &t);
	else
		check_ami(x, ami_arch(&t.archs));
	if (type_error)
		err_set("%s", type_error);
	if (!check_type(x, r, &t.archs))
		check_quota(x, &t);
	else
		doctor_skip(x, "vcpu quota", "no instance type");
	free(type_error);
	aws_instance_type_release(&t);
}
