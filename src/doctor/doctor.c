/* doctor: the order of the checks, the report, and the credential, region and bucket checks. */
#include "doctor/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "services/aws-checks.h"

void doctor_add(struct doctor_ctx *x, const char *name, enum doctor_state state, char *detail,
		char *fix)
{
	struct doctor_report *r = x->report;
	struct doctor_check *chk;

	r->checks = xrealloc(r->checks, (r->nr + 1) * sizeof(*r->checks));
	chk = &r->checks[r->nr++];
	chk->name = xstrdup(name);
	chk->state = state;
	chk->detail = detail ? detail : xstrdup("");
	chk->fix = fix;
}

void doctor_skip(struct doctor_ctx *x, const char *name, const char *why)
{
	doctor_add(x, name, DOCTOR_SKIPPED, xstrfmt("skipped (%s)", why), NULL);
}

int doctor_report_ok(const struct doctor_report *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (r->checks[i].state != DOCTOR_OK && r->checks[i].state != DOCTOR_WARNING)
			return 0;
	return r->nr > 0;
}

void doctor_report_release(struct doctor_report *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++) {
		free(r->checks[i].name);
		free(r->checks[i].detail);
		free(r->checks[i].fix);
	}
	free(r->checks);
	memset(r, 0, sizeof(*r));
}

/* The last error message, for a detail line; the error itself is consumed. */
static char *take_error(void)
{
	char *s = xstrdup(*err_msg() ? err_msg() : "unknown error");

	err_clear();
	return s;
}

static char *credentials_fix(const char *code)
{
	if (!code)
		return xstrdup("aws configure\n"
			       "or name a profile: git config train.profile <name> "
			       "(or AWS_PROFILE=<name>)");
	if (!strcmp(code, "InvalidClientTokenId") || !strcmp(code, "UnrecognizedClientException"))
		return xstrdup("the access key id is not known to AWS: aws configure");
	if (!strcmp(code, "SignatureDoesNotMatch"))
		return xstrdup("the secret access key does not belong to the key id: "
			       "aws configure");
	if (!strcmp(code, "ExpiredToken") || !strcmp(code, "ExpiredTokenException"))
		return xstrdup("the session has expired: renew it (aws sso login, or new keys)");
	return xstrdup("aws sts get-caller-identity shows what the AWS CLI sees");
}

static void check_credentials(struct doctor_ctx *x)
{
	struct aws_identity id;
	const char *p;

	if (aws_checks_identity(&id, x->client)) {
		doctor_add(x, "credentials", DOCTOR_FAILED, take_error(),
			   credentials_fix(id.error_code));
		aws_checks_identity_release(&id);
		return;
	}
	x->have_creds = 1;
	x->caller_arn = xstrdup(id.arn);
	x->account = xstrdup(id.account);
	/* arn:<partition>:...: China and GovCloud name their ARNs differently */
	if (skip_prefix(id.arn, "arn:", &p) && strchr(p, ':'))
		x->partition = xstrndup(p, strcspn(p, ":"));
	doctor_add(x, "credentials", DOCTOR_OK, xstrfmt("%s (account %s)", id.arn, id.account),
		   NULL);
	aws_checks_identity_release(&id);
}

static void check_region(struct doctor_ctx *x)
{
	const char *source = x->client->settings.region_source;

	if (!x->region) {
		doctor_add(x, "region", DOCTOR_FAILED,
			   xstrdup("no region is set (train.region, AWS_REGION, AWS_DEFAULT_REGION "
				   "or the profile's region)"),
			   xstrdup("git config train.region <region> (for example us-east-1)"));
		return;
	}
	doctor_add(x, "region", DOCTOR_OK,
		   source && *source ? xstrfmt("%s (from %s)", x->region, source)
				     : xstrdup(x->region),
		   NULL);
}

/* "your buckets: a, b, c" when the caller has any, to pick from. */
static void suggest_buckets(struct buf *fix, struct doctor_ctx *x)
{
	struct strvec names = STRVEC_INIT;
	size_t i;

	if (!x->have_creds)
		return;
	if (aws_checks_list_buckets(&names, x->client)) {
		err_clear(); /* only a suggestion */
		return;
	}
	if (!names.nr)
		buf_printf(fix, "\nor create one: aws s3 mb s3://<name> --region %s",
			   x->region ? x->region : "<region>");
	for (i = 0; i < names.nr && i < 10; i++)
		buf_printf(fix, "%s%s", i ? ", " : "\nyour buckets: ", names.v[i]);
	if (names.nr > 10)
		buf_printf(fix, " and %zu more", names.nr - 10);
	strvec_clear(&names);
}

static int check_bucket_set(struct doctor_ctx *x)
{
	struct buf fix = BUF_INIT;

	if (x->bucket) {
		doctor_add(x, "bucket", DOCTOR_OK,
			   xstrfmt("s3://%s/%s%s", x->bucket, x->prefix, *x->prefix ? "/" : ""),
			   NULL);
		return 0;
	}
	buf_puts(&fix, "git config train.bucket <name>");
	suggest_buckets(&fix, x);
	doctor_add(x, "bucket", DOCTOR_FAILED, xstrdup("train.bucket is not set"),
		   buf_detach(&fix));
	return -1;
}

/* 0 when the bucket exists; *region is where S3 said it is, if it said. */
static int check_bucket_exists(struct doctor_ctx *x, char **region)
{
	const char *where = x->region ? x->region : "<region>";
	int r = aws_checks_head_bucket(region, x->client, x->bucket);

	if (!r) {
		doctor_add(x, "bucket exists", DOCTOR_OK, xstrdup(x->bucket), NULL);
		return 0;
	}
	if (r == AWS_CHECKS_NOT_FOUND) {
		err_clear();
		doctor_add(x, "bucket exists", DOCTOR_FAILED,
			   xstrfmt("the bucket '%s' does not exist", x->bucket),
			   xstrfmt("aws s3 mb s3://%s --region %s", x->bucket, where));
	} else if (r == AWS_CHECKS_FORBIDDEN) {
		err_clear();
		doctor_add(x, "bucket exists", DOCTOR_FAILED,
			   xstrfmt("access to the bucket '%s' is denied: it belongs to another "
				   "account, or %s may not s3:ListBucket it",
				   x->bucket, x->caller_arn),
			   xstrfmt("git config train.bucket <a bucket of account %s>\n"
				   "or allow s3:ListBucket on arn:%s:s3:::%s for %s",
				   x->account, x->partition, x->bucket, x->caller_arn));
	} else {
		doctor_add(x, "bucket exists", DOCTOR_FAILED, take_error(), NULL);
	}
	return -1;
}

/* 0 in the region, 1 in another one, -1 when S3 would not say. */
static int check_bucket_region(struct doctor_ctx *x, const char *said)
{
	char *region = NULL;
	int ret = -1;

	if (aws_checks_bucket_region(&region, x->client, x->bucket)) {
		if (!said) {
			doctor_add(x, "bucket region", DOCTOR_FAILED, take_error(),
				   xstrfmt("allow s3:GetBucketLocation on arn:%s:s3:::%s for %s",
					   x->partition, x->bucket, x->caller_arn));
			return -1;
		}
		err_clear(); /* HeadBucket already said where it is */
		region = xstrdup(said);
	}
	if (!strcmp(region, x->region)) {
		doctor_add(x, "bucket region", DOCTOR_OK, xstrdup(region), NULL);
		ret = 0;
	} else {
		doctor_add(x, "bucket region", DOCTOR_FAILED,
			   xstrfmt("the bucket '%s' is in %s, the instances would be in %s",
				   x->bucket, region, x->region),
			   xstrfmt("git config train.region %s\n"
				   "or use a bucket in %s: git config train.bucket <name>",
				   region, x->region));
		ret = 1;
	}
	free(region);
	return ret;
}

static void check_bucket_writable(struct doctor_ctx *x)
{
	static const char probe[] =
		"git train doctor checks that it can write here; safe to delete\n";
	char *key = xstrfmt("%s%s.git-train-doctor-%ld-%ld", x->prefix, *x->prefix ? "/" : "",
			    (long)getpid(), (long)time(NULL));
	char *grant =
		xstrfmt("allow s3:PutObject and s3:DeleteObject on "
			"arn:%s:s3:::%s/%s%s* for %s",
			x->partition, x->bucket, x->prefix, *x->prefix ? "/" : "", x->caller_arn);

	if (aws_checks_put_object(x->client, x->bucket, key, probe, sizeof(probe) - 1)) {
		char *e = take_error();

		doctor_add(x, "bucket writable", DOCTOR_FAILED,
			   xstrfmt("cannot write s3://%s/%s: %s", x->bucket, key, e), grant);
		free(e);
	} else if (aws_checks_delete_object(x->client, x->bucket, key)) {
		char *e = take_error();

		doctor_add(x, "bucket writable", DOCTOR_FAILED,
			   xstrfmt("wrote but cannot delete s3://%s/%s: %s", x->bucket, key, e),
			   xstrfmt("%s\nthen: aws s3 rm s3://%s/%s", grant, x->bucket, key));
		free(grant);
		free(e);
	} else {
		doctor_add(x, "bucket writable", DOCTOR_OK,
			   xstrfmt("put and deleted a test object under s3://%s/%s%s", x->bucket,
				   x->prefix, *x->prefix ? "/" : ""),
			   NULL);
		free(grant);
	}
	free(key);
}

static void check_bucket(struct doctor_ctx *x)
{
	char *said = NULL;

	if (check_bucket_set(x)) {
		doctor_skip(x, "bucket exists", "no bucket");
		doctor_skip(x, "bucket region", "no bucket");
		doctor_skip(x, "bucket writable", "no bucket");
		return;
	}
	if (!x->have_creds || !x->region) {
		const char *why = !x->have_creds ? "no credentials" : "no region";

		doctor_skip(x, "bucket exists", why);
		doctor_skip(x, "bucket region", why);
		doctor_skip(x, "bucket writable", why);
		return;
	}
	if (check_bucket_exists(x, &said)) {
		doctor_skip(x, "bucket region", "no bucket");
		doctor_skip(x, "bucket writable", "no bucket");
		goto out;
	}
	x->bucket_usable = 1;
	/* a write to the wrong region's endpoint fails for that reason alone */
	if (check_bucket_region(x, said) != 1)
		check_bucket_writable(x);
	else
		doctor_skip(x, "bucket writable", "bucket in another region");
out:
	free(said);
}

/* A setting, NULL when unset or empty (an empty value is how one unsets it for one command). */
static int get_setting(char **out, const struct config *cfg, const char *key, const char *def)
{
	int r = config_get_string(out, cfg, key);

	if (r < 0)
		return -1;
	if (r == 1 || !**out) {
		if (r == 0)
			free(*out);
		*out = def ? xstrdup(def) : NULL;
	}
	return 0;
}

/*
 * Whether a launch would make a persistent spot request (spot, and
 * train.maxInterruptions above 0; a bad value is the launch's to report).
 */
static void persistent_setting(struct doctor_ctx *x, const struct config *cfg)
{
	char *v = NULL, *end;
	long n = 5;

	if (config_get_string(&v, cfg, "train.maxInterruptions") < 0)
		err_clear();
	if (v) {
		n = strtol(v, &end, 10);
		if (!*v || *end)
			n = 5;
	}
	free(v);
	x->persistent = !x->on_demand && n > 0;
}

/* train.nodes (issue 14): the launch needs the vCPUs of them all; a bad value is the launch's. */
static void nodes_setting(struct doctor_ctx *x, const struct config *cfg)
{
	char *v = NULL, *end;
	long n = 1;

	if (config_get_string(&v, cfg, "train.nodes") < 0)
		err_clear();
	if (v) {
		n = strtol(v, &end, 10);
		if (!*v || *end || n < 1 || n > 4096)
			n = 1;
	}
	free(v);
	x->nodes = (int)n;
}

static int load_settings(struct doctor_ctx *x, const struct config *cfg)
{
	size_t n;
	char *p;
	int r;

	if (get_setting(&x->bucket, cfg, "train.bucket", NULL) ||
	    get_setting(&x->profile, cfg, "train.instanceProfile", NULL) ||
	    get_setting(&x->instance_type, cfg, "train.instanceType", DOCTOR_DEFAULT_INSTANCE_TYPE))
		return -1;
	if (get_setting(&x->image, cfg, "train.image", NULL) ||
	    (!x->image && get_setting(&x->image, cfg, "train.ami", NULL)))
		return -1;
	r = config_get_bool(&x->on_demand, cfg, "train.spot");
	if (r < 0)
		return -1;
	x->on_demand = r == 0 && !x->on_demand;
	persistent_setting(x, cfg);
	nodes_setting(x, cfg);
	/* unlike the others, an empty prefix means something: the top of the bucket */
	r = config_get_string(&x->prefix, cfg, "train.prefix");
	if (r < 0)
		return -1;
	if (r == 1)
		x->prefix = xstrdup("git-train");
	/* "/a/b/" and "a/b" name the same place, as for upload */
	p = x->prefix + strspn(x->prefix, "/");
	memmove(x->prefix, p, strlen(p) + 1);
	n = strlen(x->prefix);
	while (n && x->prefix[n - 1] == '/')
		x->prefix[--n] = '\0';
	x->region = x->client->settings.region && *x->client->settings.region
			    ? x->client->settings.region
			    : NULL;
	return inputs_load(&x->inputs, cfg);
}

static void ctx_release(struct doctor_ctx *x)
{
	free(x->bucket);
	free(x->prefix);
	free(x->profile);
	free(x->instance_type);
	free(x->image);
	free(x->partition);
	free(x->caller_arn);
	free(x->account);
	free(x->role);
	if (x->secret_info) {
		size_t i;

		for (i = 0; i < x->inputs.nr_secrets; i++)
			secrets_info_release(&x->secret_info[i]);
		free(x->secret_info);
	}
	inputs_release(&x->inputs);
}

int doctor_run(struct doctor_report *out, struct aws_client *c, const struct config *cfg,
	       unsigned flags)
{
	struct doctor_ctx x;
	char *key = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	x.report = out;
	x.client = c;
	if (load_settings(&x, cfg))
		goto out;
	key = doctor_cache_key(&x);
	if ((flags & DOCTOR_USE_CACHE) && !doctor_cache_load(out, key)) {
		ret = 0;
		goto out;
	}
	check_credentials(&x);
	if (!x.partition)
		x.partition = xstrdup("aws");
	check_region(&x);
	check_bucket(&x);
	doctor_check_inputs(&x);
	doctor_check_instance_profile(&x);
	doctor_check_role(&x);
	doctor_check_ami_and_type(&x);
	doctor_cache_store(out, key);
	err_clear(); /* every failure is in the report */
	ret = 0;
out:
	free(key);
	ctx_release(&x);
	return ret;
}
