/*
 * doctor: the data and the secrets a run brings in (train.data,
 * train.secret): that they are there, and that the instance role may read
 * them (see internal.h).
 */
#include "doctor/internal.h"

#include <stdlib.h>
#include <string.h>

#include "services/iam-policy.h"
#include "services/s3-objects.h"
#include "util/shell.h"

static int wanted(const struct doctor_ctx *x)
{
	return x->inputs.nr_data || x->inputs.nr_secrets;
}

static void check_data(struct doctor_ctx *x)
{
	struct buf ok = BUF_INIT;
	size_t i;

	for (i = 0; i < x->inputs.nr_data; i++) {
		const struct inputs_data *d = &x->inputs.data[i];
		char *uri = inputs_data_uri(d);
		struct s3_listed *v = NULL;
		size_t nr = 0;

		int r = s3_list_objects(&v, &nr, x->client, d->bucket, d->prefix);

		if (r || !nr) {
			char *detail = r ? xstrfmt("cannot list the data '%s' at %s: %s", d->name,
						   uri, err_msg())
					 : xstrfmt("the data '%s' at %s is empty or does not exist",
						   d->name, uri);

			err_clear();
			doctor_add(x, "data", DOCTOR_FAILED, detail,
				   xstrfmt("aws s3 ls %s\n(train.data takes "
					   "<name>=s3://<bucket>/<prefix>/: a prefix with objects)",
					   uri));
			s3_listed_free(v, nr);
			free(uri);
			buf_release(&ok);
			return;
		}
		buf_printf(&ok, "%s%s %s (%zu object%s)", i ? ", " : "", d->name, uri, nr,
			   nr == 1 ? "" : "s");
		s3_listed_free(v, nr);
		free(uri);
	}
	doctor_add(x, "data", DOCTOR_OK, buf_detach(&ok), NULL);
}

static void check_secrets(struct doctor_ctx *x)
{
	struct buf ok = BUF_INIT;
	size_t i;

	x->secret_info = xcalloc(x->inputs.nr_secrets, sizeof(*x->secret_info));
	for (i = 0; i < x->inputs.nr_secrets; i++) {
		const struct inputs_secret *s = &x->inputs.secrets[i];
		const char *kind = s->manager ? "secretsmanager" : "ssm";
		int r = secrets_describe(&x->secret_info[i], x->client,
					 s->manager ? SECRETS_MANAGER : SECRETS_SSM, s->ref);

		if (r) {
			char *detail = xstrfmt("%s: %s", s->name, err_msg());

			err_clear();
			doctor_add(
				x, "secrets", DOCTOR_FAILED, detail,
				r == 1 ? xstrfmt(s->manager
							 ? "aws secretsmanager create-secret "
							   "--name %s --secret-string <value>"
							 : "aws ssm put-parameter --name %s --type "
							   "SecureString --value <value>",
						 s->ref)
				       : NULL);
			buf_release(&ok);
			return;
		}
		buf_printf(&ok, "%s%s (%s:%s)", i ? ", " : "", s->name, kind, s->ref);
	}
	doctor_add(x, "secrets", DOCTOR_OK,
		   xstrfmt("%s exist%s", buf_cstr(&ok), x->inputs.nr_secrets == 1 ? "s" : ""),
		   NULL);
	buf_release(&ok);
}

void doctor_check_inputs(struct doctor_ctx *x)
{
	if (x->inputs.nr_data) {
		if (x->have_creds)
			check_data(x);
		else
			doctor_skip(x, "data", "no credentials");
	}
	if (x->inputs.nr_secrets) {
		if (x->have_creds)
			check_secrets(x);
		else
			doctor_skip(x, "secrets", "no credentials");
	}
}

void doctor_skip_inputs_access(struct doctor_ctx *x, const char *why)
{
	if (x->inputs.nr_data)
		doctor_skip(x, "role data access", why);
	if (x->inputs.nr_secrets)
		doctor_skip(x, "role secret access", why);
}

/* aws iam put-role-policy ... allowing action on resource (and the condition). */
static char *allow_fix(const struct doctor_ctx *x, const char *name, const char *action,
		       const char *resource, const char *condition)
{
	struct buf fix = BUF_INIT, doc = BUF_INIT;

	buf_printf(&doc,
		   "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
		   "\"Action\":\"%s\",\"Resource\":\"%s\"%s%s}]}",
		   action, resource, condition ? "," : "", condition ? condition : "");
	buf_printf(&fix,
		   "aws iam put-role-policy --role-name %s --policy-name %s --policy-document ",
		   x->role, name);
	shell_quote(&fix, buf_cstr(&doc), doc.len);
	buf_release(&doc);
	return buf_detach(&fix);
}

static const char *decision_words(enum iam_decision d)
{
	return d == IAM_EXPLICIT_DENY ? "is denied" : "is allowed by no policy";
}

static void check_data_access(struct doctor_ctx *x, const cJSON *const *docs, size_t nr)
{
	size_t i;

	for (i = 0; i < x->inputs.nr_data; i++) {
		const struct inputs_data *d = &x->inputs.data[i];
		char *bucket = xstrfmt("arn:%s:s3:::%s", x->partition, d->bucket);
		char *objects = xstrfmt("%s/%s*", bucket, d->prefix);
		char *probe = xstrfmt("%s/%sany-object", bucket, d->prefix);
		enum iam_decision list = iam_policy_decide(docs, nr, "s3:ListBucket", bucket);
		enum iam_decision get = iam_policy_decide(docs, nr, "s3:GetObject", probe);
		int failed = list != IAM_ALLOW || get != IAM_ALLOW;

		if (list != IAM_ALLOW) {
			char *cond =
				xstrfmt("\"Condition\":{\"StringLike\":{\"s3:prefix\":\"%s*\"}}",
					d->prefix);

			doctor_add(
				x, "role data access", DOCTOR_FAILED,
				xstrfmt("role %s cannot list the data '%s': s3:ListBucket on %s "
					"%s",
					x->role, d->name, bucket, decision_words(list)),
				allow_fix(x, "git-train-data-list", "s3:ListBucket", bucket, cond));
			free(cond);
		} else if (get != IAM_ALLOW) {
			doctor_add(
				x, "role data access", DOCTOR_FAILED,
				xstrfmt("role %s cannot read the data '%s': s3:GetObject on %s "
					"%s",
					x->role, d->name, objects, decision_words(get)),
				allow_fix(x, "git-train-data-get", "s3:GetObject", objects, NULL));
		}
		free(bucket);
		free(objects);
		free(probe);
		if (failed)
			return;
	}
	doctor_add(x, "role data access", DOCTOR_OK,
		   xstrfmt("role %s may list and read the data", x->role), NULL);
}

/* The parameter's ARN: names with or without their leading '/', or an ARN already. */
static char *parameter_arn(const struct doctor_ctx *x, const char *ref)
{
	if (!strncmp(ref, "arn:", 4))
		return xstrdup(ref);
	return xstrfmt("arn:%s:ssm:%s:%s:parameter/%s", x->partition,
		       x->region ? x->region : "us-east-1", x->account ? x->account : "*",
		       ref + (*ref == '/'));
}

/* The KMS key's ARN when the secret names a customer managed key; NULL when it cannot tell. */
static char *key_arn(const struct doctor_ctx *x, const char *key_id)
{
	size_t n;

	if (!key_id || !*key_id || strstr(key_id, "alias/"))
		return NULL; /* AWS managed (alias/aws/ssm), or an alias: not decidable here */
	if (!strncmp(key_id, "arn:", 4))
		return strstr(key_id, ":key/") ? xstrdup(key_id) : NULL;
	n = strspn(key_id, "0123456789abcdef-");
	if (key_id[n] || n != 36)
		return NULL;
	return xstrfmt("arn:%s:kms:%s:%s:key/%s", x->partition, x->region ? x->region : "us-east-1",
		       x->account ? x->account : "*", key_id);
}

static void check_secret_access(struct doctor_ctx *x, const cJSON *const *docs, size_t nr)
{
	size_t i;

	for (i = 0; i < x->inputs.nr_secrets; i++) {
		const struct inputs_secret *s = &x->inputs.secrets[i];
		const struct secrets_info *info = x->secret_info ? &x->secret_info[i] : NULL;
		const char *action =
			s->manager ? "secretsmanager:GetSecretValue" : "ssm:GetParameter";
		char *arn, *key;
		enum iam_decision d;

		if (s->manager)
			arn = info && info->arn ? xstrdup(info->arn) : NULL;
		else
			arn = parameter_arn(x, s->ref);
		if (!arn)
			continue; /* not described: "secrets" says why */
		d = iam_policy_decide(docs, nr, action, arn);
		if (d != IAM_ALLOW) {
			doctor_add(x, "role secret access", DOCTOR_FAILED,
				   xstrfmt("role %s cannot read the secret %s (%s:%s): %s on %s %s",
					   x->role, s->name, s->manager ? "secretsmanager" : "ssm",
					   s->ref, action, arn, decision_words(d)),
				   allow_fix(x, "git-train-secret", action, arn, NULL));
			free(arn);
			return;
		}
		free(arn);
		key = key_arn(x, info ? info->key_id : NULL);
		d = key ? iam_policy_decide(docs, nr, "kms:Decrypt", key) : IAM_ALLOW;
		if (d != IAM_ALLOW) {
			doctor_add(
				x, "role secret access", DOCTOR_FAILED,
				xstrfmt("role %s cannot decrypt the secret %s: kms:Decrypt on %s %s",
					x->role, s->name, key, decision_words(d)),
				allow_fix(x, "git-train-secret-key", "kms:Decrypt", key, NULL));
			free(key);
			return;
		}
		free(key);
	}
	doctor_add(x, "role secret access", DOCTOR_OK,
		   xstrfmt("role %s may read the secrets", x->role), NULL);
}

void doctor_check_inputs_access(struct doctor_ctx *x, const cJSON *const *docs, size_t nr)
{
	if (!wanted(x))
		return;
	if (x->inputs.nr_data)
		check_data_access(x, docs, nr);
	if (x->inputs.nr_secrets)
		check_secret_access(x, docs, nr);
}
