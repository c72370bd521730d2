/*
 * doctor: the instance profile, and whether its role lets the instance talk
 * to SSM (how commands reach it) and to the bucket (how code and logs move),
 * and, for spot runs that resume, cancel the run's spot request.
 */
#include "doctor/internal.h"

#include <stdlib.h>
#include <string.h>

#include "services/aws-checks.h"
#include "services/iam-policy.h"
#include "util/shell.h"

#define SSM_CORE "AmazonSSMManagedInstanceCore"

/* What the SSM agent needs for Run Command, as docs/ec2-runs.md shows it. */
#define AGENT_POLICY                                                                               \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":["            \
	"\"ssm:UpdateInstanceInformation\",\"ssmmessages:CreateControlChannel\","                  \
	"\"ssmmessages:CreateDataChannel\",\"ssmmessages:OpenControlChannel\","                    \
	"\"ssmmessages:OpenDataChannel\",\"ec2messages:*\"],\"Resource\":\"*\"}]}"

/*
 * What the runner needs to end a run that resumes: cancel its persistent
 * spot request before the instance terminates, and only requests that
 * git-train tagged (docs/ec2-runs.md).
 */
#define SPOT_POLICY                                                                                \
	"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","                        \
	"\"Action\":\"ec2:CancelSpotInstanceRequests\","                                           \
	"\"Resource\":\"arn:aws:ec2:*:*:spot-instances-request/*\","                               \
	"\"Condition\":{\"Null\":{\"aws:ResourceTag/git-train:run-id\":\"false\"}}}]}"

/* The role's policy documents: inline and attached managed ones. */
struct role_policies {
	cJSON **docs;
	size_t nr;
	int ssm_core; /* AmazonSSMManagedInstanceCore is attached */
};

static int is_aws_error(const char *code)
{
	const char *msg = err_msg();
	size_t n = strlen(code);

	return !strncmp(msg, code, n) && msg[n] == ':';
}

static char *iam_read_fix(const struct doctor_ctx *x)
{
	if (!is_aws_error("AccessDenied"))
		return NULL;
	return xstrfmt("allow iam:GetInstanceProfile, iam:ListAttachedRolePolicies, "
		       "iam:ListRolePolicies, iam:GetRolePolicy, iam:GetPolicy and "
		       "iam:GetPolicyVersion for %s",
		       x->caller_arn);
}

void doctor_check_instance_profile(struct doctor_ctx *x)
{
	struct strvec roles = STRVEC_INIT;
	const char *name = "instance profile";
	int r;

	if (!x->profile) {
		doctor_add(x, name, DOCTOR_FAILED, xstrdup("train.instanceProfile is not set"),
			   xstrdup("git config train.instanceProfile <name>\n"
				   "(an instance profile whose role can use SSM and the bucket: "
				   "docs/ec2-runs.md, \"The instance role\")"));
		return;
	}
	if (!x->have_creds) {
		doctor_skip(x, name, "no credentials");
		return;
	}
	r = aws_checks_instance_profile_roles(&roles, x->client, x->profile);
	if (r == AWS_CHECKS_NOT_FOUND) {
		err_clear();
		doctor_add(x, name, DOCTOR_FAILED,
			   xstrfmt("the instance profile '%s' does not exist", x->profile),
			   xstrfmt("aws iam create-instance-profile --instance-profile-name %s\n"
				   "aws iam add-role-to-instance-profile "
				   "--instance-profile-name %s --role-name <role>",
				   x->profile, x->profile));
	} else if (r) {
		char *fix = iam_read_fix(x);

		doctor_add(x, name, DOCTOR_FAILED, xstrdup(err_msg()), fix);
		err_clear();
	} else if (!roles.nr) {
		x->profile_found = 1;
		doctor_add(x, name, DOCTOR_FAILED,
			   xstrfmt("the instance profile '%s' has no role", x->profile),
			   xstrfmt("aws iam add-role-to-instance-profile "
				   "--instance-profile-name %s --role-name <role>",
				   x->profile));
	} else {
		x->profile_found = 1;
		x->role = xstrdup(roles.v[0]);
		doctor_add(x, name, DOCTOR_OK, xstrfmt("%s (role %s)", x->profile, x->role), NULL);
	}
	strvec_clear(&roles);
}

static void policies_release(struct role_policies *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		cJSON_Delete(p->docs[i]);
	free(p->docs);
	memset(p, 0, sizeof(*p));
}

static int add_document(struct role_policies *p, const char *text, const char *what)
{
	cJSON *doc;

	if (iam_policy_parse(&doc, text))
		return err_set("malformed policy document in %s", what);
	p->docs = xrealloc(p->docs, (p->nr + 1) * sizeof(*p->docs));
	p->docs[p->nr++] = doc;
	return 0;
}

static int load_policies(struct role_policies *out, struct doctor_ctx *x)
{
	struct strvec arns = STRVEC_INIT, names = STRVEC_INIT;
	char *text = NULL;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (aws_checks_attached_policies(&arns, x->client, x->role) ||
	    aws_checks_inline_policies(&names, x->client, x->role))
		goto out;
	for (i = 0; i < arns.nr; i++) {
		const char *slash = strrchr(arns.v[i], '/');

		if (slash && !strcmp(slash + 1, SSM_CORE) && strstr(arns.v[i], ":iam::aws:policy/"))
			out->ssm_core = 1;
		if (aws_checks_policy_document(&text, x->client, arns.v[i]) ||
		    add_document(out, text, arns.v[i]))
			goto out;
		free(text);
		text = NULL;
	}
	for (i = 0; i < names.nr; i++) {
		if (aws_checks_role_policy(&text, x->client, x->role, names.v[i]) ||
		    add_document(out, text, names.v[i]))
			goto out;
		free(text);
		text = NULL;
	}
	ret = 0;
out:
	free(text);
	strvec_clear(&arns);
	strvec_clear(&names);
	return ret;
}

static const char *decision_words(enum iam_decision d)
{
	return d == IAM_EXPLICIT_DENY ? "is denied" : "is allowed by no policy";
}

/* aws iam put-role-policy ... --policy-document '<doc>' */
static void put_role_policy(struct buf *out, const char *role, const char *name, const char *doc)
{
	buf_printf(out,
		   "aws iam put-role-policy --role-name %s --policy-name %s "
		   "--policy-document ",
		   role, name);
	shell_quote(out, doc, strlen(doc));
}

/*
 * The agent registers (ssm:UpdateInstanceInformation) and then takes commands
 * over ec2messages or, in newer agents, ssmmessages: what the agent needs for
 * Run Command, and nothing of Parameter Store (docs/ec2-runs.md).
 */
static char *agent_fix(const struct doctor_ctx *x)
{
	struct buf fix = BUF_INIT;

	put_role_policy(&fix, x->role, "git-train-agent", AGENT_POLICY);
	return buf_detach(&fix);
}

/*
 * AmazonSSMManagedInstanceCore, or anything else that grants
 * ssm:GetParameter(s) on every parameter, lets each training script read
 * every Parameter Store value of the account: it works, but is a warning.
 */
static const char *parameter_reader(const struct doctor_ctx *x, const struct role_policies *p)
{
	static const char *const actions[] = { "ssm:GetParameter", "ssm:GetParameters",
					       "ssm:GetParametersByPath" };
	const cJSON *const *docs = (const cJSON *const *)p->docs;
	char *param = xstrfmt("arn:%s:ssm:%s:%s:parameter/doctor-check/any-secret", x->partition,
			      x->region ? x->region : "us-east-1", x->account);
	const char *found = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(actions) && !found; i++)
		if (iam_policy_decide(docs, p->nr, actions[i], param) == IAM_ALLOW)
			found = actions[i];
	free(param);
	return found;
}

static void check_ssm(struct doctor_ctx *x, const struct role_policies *p)
{
	char *instance = xstrfmt("arn:%s:ec2:%s:%s:instance/i-0123456789abcdef0", x->partition,
				 x->region ? x->region : "us-east-1", x->account);
	const cJSON *const *docs = (const cJSON *const *)p->docs;
	enum iam_decision reg, msgs, ssmmsgs;
	const char *missing = NULL, *reader;
	enum iam_decision why = IAM_IMPLICIT_DENY;

	reg = iam_policy_decide(docs, p->nr, "ssm:UpdateInstanceInformation", instance);
	msgs = iam_policy_decide(docs, p->nr, "ec2messages:GetMessages", "*");
	ssmmsgs = iam_policy_decide(docs, p->nr, "ssmmessages:CreateControlChannel", "*");
	if (reg != IAM_ALLOW) {
		missing = "ssm:UpdateInstanceInformation";
		why = reg;
	} else if (msgs != IAM_ALLOW && ssmmsgs != IAM_ALLOW) {
		missing = "ec2messages:GetMessages (or ssmmessages:CreateControlChannel)";
		why = msgs == IAM_EXPLICIT_DENY ? msgs : ssmmsgs;
	}
	reader = missing ? NULL : parameter_reader(x, p);
	if (missing) {
		doctor_add(x, "role ssm access", DOCTOR_FAILED,
			   xstrfmt("role %s cannot use SSM: %s %s", x->role, missing,
				   decision_words(why)),
			   agent_fix(x));
	} else if (reader) {
		struct buf fix = BUF_INIT;

		put_role_policy(&fix, x->role, "git-train-agent", AGENT_POLICY);
		if (p->ssm_core)
			buf_printf(&fix,
				   "\naws iam detach-role-policy --role-name %s "
				   "--policy-arn arn:%s:iam::aws:policy/" SSM_CORE,
				   x->role, x->partition);
		buf_puts(&fix, "\n(the SSM agent needs no Parameter Store access: "
			       "docs/ec2-runs.md, \"The instance role\")");
		doctor_add(x, "role ssm access", DOCTOR_WARNING,
			   p->ssm_core ? xstrfmt("role %s has " SSM_CORE ", whose %s on * lets "
						 "every training script read every Parameter "
						 "Store value of the account",
						 x->role, reader)
				       : xstrfmt("role %s allows %s on every parameter: every "
						 "training script may read every Parameter Store "
						 "value of the account",
						 x->role, reader),
			   buf_detach(&fix));
	} else {
		doctor_add(x, "role ssm access", DOCTOR_OK,
			   xstrfmt("role %s allows ssm:UpdateInstanceInformation and its messages",
				   x->role),
			   NULL);
	}
	free(instance);
}

/*
 * The bucket statements of the instance role: the runner writes only under
 * a run's prefix and reads only code archives (see run/layout.h), so that no
 * training script can replace another commit's code, and what a run
 * continues from: checkpoints (listed, for `aws s3 sync`), attempts.json
 * and the log, of its own run or of the run it resumes from; on several
 * instances, the nodes' results and the run's (listed, then read) that end
 * every node when one ends; and it reads and
 * writes the repository's dependency cache (run/deps.h).
 */
static char *bucket_fix(const struct doctor_ctx *x, const char *objects)
{
	struct buf fix = BUF_INIT, doc = BUF_INIT;
	char *bucket_arn = xstrfmt("arn:%s:s3:::%s", x->partition, x->bucket);
	const char *key_prefix = objects + strlen(bucket_arn) + 1;

	buf_printf(
		&doc,
		"{\"Version\":\"2012-10-17\",\"Statement\":["
		"{\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\",\"Resource\":\"%s*/*/runs/*\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
		"\"Resource\":\"%s*/*/code.tar.gz\"},"
		"{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":["
		"\"%s*/*/runs/*/checkpoints/*\",\"%s*/*/runs/*/attempts.json\","
		"\"%s*/*/runs/*/log\",\"%s*/*/runs/*/nodes/*/result.json\"]},"
		"{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"%s\","
		"\"Condition\":{\"StringLike\":{\"s3:prefix\":[\"%s*/*/runs/*/checkpoints/*\","
		"\"%s*/*/runs/*/nodes/*\",\"%s*/*/runs/*/result.json\"]}}},"
		"{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
		"\"Resource\":\"%s*/envs/*\"}]}",
		objects, objects, objects, objects, objects, objects, bucket_arn, key_prefix,
		key_prefix, key_prefix, objects);
	put_role_policy(&fix, x->role, "git-train-bucket", buf_cstr(&doc));
	buf_release(&doc);
	free(bucket_arn);
	return buf_detach(&fix);
}

/*
 * The keys a run really uses, as in run/layout.h, with a made-up repository,
 * commit and run: <prefix>/<repo>/<sha>/code.tar.gz and .../runs/<run-id>/...
 */
#define PROBE_COMMIT "doctor-check/0000000000000000000000000000000000000000/"
#define PROBE_RUN    PROBE_COMMIT "runs/20260101-000000-doctor/"

static void check_bucket_access(struct doctor_ctx *x, const struct role_policies *p)
{
	static const struct {
		const char *action, *key;
	} needs[] = {
		{ "s3:GetObject", PROBE_COMMIT "code.tar.gz" },
		{ "s3:PutObject", PROBE_RUN "log" },
		{ "s3:PutObject", PROBE_RUN "result.json" },
		{ "s3:PutObject", PROBE_RUN "outputs/model.bin" },
		{ "s3:GetObject", PROBE_RUN "checkpoints/model.pt" },
		{ "s3:GetObject", PROBE_RUN "attempts.json" },
		{ "s3:GetObject", PROBE_RUN "log" },
		{ "s3:GetObject", PROBE_RUN "nodes/1/result.json" },
		{ "s3:ListBucket", NULL },
	};
	const cJSON *const *docs = (const cJSON *const *)p->docs;
	char *objects = xstrfmt("arn:%s:s3:::%s/%s%s", x->partition, x->bucket, x->prefix,
				*x->prefix ? "/" : "");
	char *object = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(needs); i++) {
		enum iam_decision d;

		free(object);
		/* a key, or the bucket itself (ListBucket, whose prefix condition cannot be told)
		 */
		object = needs[i].key ? xstrfmt("%s%s", objects, needs[i].key)
				      : xstrfmt("arn:%s:s3:::%s", x->partition, x->bucket);
		d = iam_policy_decide(docs, p->nr, needs[i].action, object);
		if (d == IAM_ALLOW)
			continue;
		doctor_add(x, "role bucket access", DOCTOR_FAILED,
			   xstrfmt("role %s cannot reach the bucket: %s on %s %s", x->role,
				   needs[i].action, object, decision_words(d)),
			   bucket_fix(x, objects));
		goto out;
	}
	free(object);
	object = xstrfmt("%s" PROBE_COMMIT "code.tar.gz", objects);
	if (iam_policy_decide(docs, p->nr, "s3:PutObject", object) == IAM_ALLOW) {
		struct buf fix = BUF_INIT;
		char *narrow = bucket_fix(x, objects);

		buf_printf(&fix,
			   "%s\n(and remove the statement that allows s3:PutObject on code "
			   "archives: docs/ec2-runs.md, \"The instance role\")",
			   narrow);
		free(narrow);
		doctor_add(x, "role bucket access", DOCTOR_WARNING,
			   xstrfmt("role %s may put objects on code archives (s3:PutObject on "
				   "%s*/*/code.tar.gz): a training script could replace the "
				   "code of other commits",
				   x->role, objects),
			   buf_detach(&fix));
		goto out;
	}
	doctor_add(x, "role bucket access", DOCTOR_OK,
		   xstrfmt("role %s may read code archives and write runs in s3://%s/%s%s", x->role,
			   x->bucket, x->prefix, *x->prefix ? "/" : ""),
		   NULL);
out:
	free(objects);
	free(object);
}

/*
 * A run that resumes after a spot interruption has a persistent request,
 * which its runner cancels at the end (else terminating the instance
 * would make EC2 start another): the role must allow that.
 */
static void check_spot_requests(struct doctor_ctx *x, const struct role_policies *p)
{
	const cJSON *const *docs = (const cJSON *const *)p->docs;
	char *request = xstrfmt("arn:%s:ec2:%s:%s:spot-instances-request/sir-00000000",
				x->partition, x->region ? x->region : "us-east-1", x->account);
	enum iam_decision d =
		iam_policy_decide(docs, p->nr, "ec2:CancelSpotInstanceRequests", request);

	if (d == IAM_ALLOW) {
		doctor_add(x, "role spot requests", DOCTOR_OK,
			   xstrfmt("role %s may cancel the run's spot request", x->role), NULL);
	} else {
		struct buf fix = BUF_INIT;

		put_role_policy(&fix, x->role, "git-train-spot", SPOT_POLICY);
		buf_puts(&fix, "\n(or git config train.maxInterruptions 0: spot runs that do not "
			       "resume)");
		doctor_add(x, "role spot requests", DOCTOR_FAILED,
			   xstrfmt("role %s cannot end a run that resumes: "
				   "ec2:CancelSpotInstanceRequests on %s %s",
				   x->role, request, decision_words(d)),
			   buf_detach(&fix));
	}
	free(request);
}

void doctor_check_role(struct doctor_ctx *x)
{
	struct role_policies p;
	const char *why = x->profile_found ? "no role" : "no instance profile";

	if (!x->role) {
		doctor_skip(x, "role ssm access", why);
		doctor_skip(x, "role bucket access", why);
		if (x->persistent)
			doctor_skip(x, "role spot requests", why);
		doctor_skip_inputs_access(x, why);
		return;
	}
	if (load_policies(&p, x)) {
		char *fix = iam_read_fix(x);
		char *e = xstrfmt("cannot read the policies of role %s: %s", x->role, err_msg());

		err_clear();
		doctor_add(x, "role ssm access", DOCTOR_FAILED, e, fix);
		doctor_add(x, "role bucket access", DOCTOR_FAILED, xstrdup(e),
			   fix ? xstrdup(fix) : NULL);
		if (x->persistent)
			doctor_add(x, "role spot requests", DOCTOR_FAILED, xstrdup(e),
				   fix ? xstrdup(fix) : NULL);
		doctor_skip_inputs_access(x, "its policies cannot be read");
		policies_release(&p);
		return;
	}
	check_ssm(x, &p);
	if (x->bucket_usable)
		check_bucket_access(x, &p);
	else
		doctor_skip(x, "role bucket access", "no bucket");
	if (x->persistent)
		check_spot_requests(x, &p);
	doctor_check_inputs_access(x, (const cJSON *const *)p.docs, p.nr);
	policies_release(&p);
}
