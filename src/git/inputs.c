#include "git/inputs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/strvec.h"

/* Names the runner and the script's start rely on (inputs.h). */
static const char *const reserved[] = {
	"PATH",
	"HOME",
	"PWD",
	"IFS",
	"GIT_DIR",
	"GIT_WORK_TREE",
	"GIT_INDEX_FILE",
	"GIT_OBJECT_DIRECTORY",
	"GIT_ALTERNATE_OBJECT_DIRECTORIES",
	"GIT_COMMON_DIR",
	"GIT_CEILING_DIRECTORIES",
};

static int check_var_name(const char *name, const char *setting, const char *entry)
{
	const char *p = name;
	size_t i;

	if (!isalpha((unsigned char)*p) && *p != '_')
		goto bad;
	for (p++; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			goto bad;
	if (!strncmp(name, "GIT_TRAIN_", 10))
		return err_set("%s '%s': the names GIT_TRAIN_* are git-train's own", setting,
			       entry);
	for (i = 0; i < ARRAY_SIZE(reserved); i++)
		if (!strcmp(name, reserved[i]))
			return err_set("%s '%s': git-train does not let a run set %s", setting,
				       entry, name);
	return 0;
bad:
	err_set("%s '%s': '%s' is not a variable name (letters, digits and '_', not "
		"starting with a digit)",
		setting, entry, name);
	err_hint("%s takes KEY=VALUE, e.g. git config --add %s WANDB_MODE=offline", setting,
		 setting);
	return -1;
}

/* Splits "name=value" at the first '='; -1 with err_set when there is none. */
static int split(char **name, const char **value, const char *entry, const char *setting,
		 const char *form)
{
	const char *eq = strchr(entry, '=');

	if (!eq || eq == entry) {
		err_set("%s '%s' is not %s", setting, entry, form);
		return -1;
	}
	*name = xstrndup(entry, (size_t)(eq - entry));
	*value = eq + 1;
	return 0;
}

static char *data_var(const char *name)
{
	char *v = xstrfmt("GIT_TRAIN_DATA_%s", name), *p;

	for (p = v + strlen("GIT_TRAIN_DATA_"); *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
	return v;
}

static int check_data_name(const char *name, const char *entry)
{
	const char *p = name;

	if (strlen(name) > 64 || !isalnum((unsigned char)*p))
		goto bad;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			goto bad;
	return 0;
bad:
	err_set("train.data '%s': '%s' is not a data source name (letters, digits, '_', '.' "
		"and '-', starting with a letter or digit, at most 64)",
		entry, name);
	err_hint("train.data takes <name>=s3://<bucket>/<prefix>/");
	return -1;
}

static int check_bucket(const char *b, size_t n)
{
	size_t i;

	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return -1;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '.' &&
		    b[i] != '-')
			return -1;
	return 0;
}

static int parse_data(struct inputs_data *d, const char *entry)
{
	const char *uri, *slash, *p;
	size_t n;

	memset(d, 0, sizeof(*d));
	if (split(&d->name, &uri, entry, "train.data", "<name>=s3://<bucket>/<prefix>/") ||
	    check_data_name(d->name, entry))
		goto bad;
	if (strncmp(uri, "s3://", 5)) {
		err_set("train.data '%s': '%s' is not an s3://<bucket>/<prefix>/ address", entry,
			uri);
		goto bad;
	}
	uri += 5;
	slash = strchr(uri, '/');
	n = slash ? (size_t)(slash - uri) : strlen(uri);
	if (check_bucket(uri, n)) {
		err_set("train.data '%s': '%.*s' is not a bucket name", entry, (int)n, uri);
		goto bad;
	}
	d->bucket = xstrndup(uri, n);
	p = slash ? slash + 1 : "";
	if (*p == '/') {
		err_set("train.data '%s': the prefix may not start with '/'", entry);
		goto bad;
	}
	for (n = 0; p[n]; n++)
		if ((unsigned char)p[n] < 0x20 || p[n] == 0x7f) {
			err_set("train.data '%s': the prefix holds a control character", entry);
			goto bad;
		}
	d->prefix = n && p[n - 1] != '/' ? xstrfmt("%s/", p) : xstrdup(p);
	d->var = data_var(d->name);
	return 0;
bad:
	free(d->name);
	free(d->bucket);
	memset(d, 0, sizeof(*d));
	return -1;
}

static int check_ref(const char *ref, const char *entry)
{
	const char *p;

	if (!*ref)
		goto bad;
	for (p = ref; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_.-:+=@", *p))
			goto bad;
	return 0;
bad:
	err_set("train.secret '%s': '%s' is not a parameter or secret name", entry, ref);
	return -1;
}

static int parse_secret(struct inputs_secret *s, const char *entry)
{
	const char *ref;

	memset(s, 0, sizeof(*s));
	if (split(&s->name, &ref, entry, "train.secret",
		  "KEY=ssm:<parameter> or KEY=secretsmanager:<secret>") ||
	    check_var_name(s->name, "train.secret", entry))
		goto bad;
	if (skip_prefix(ref, "ssm:", &ref)) {
		s->manager = 0;
	} else if (skip_prefix(ref, "secretsmanager:", &ref)) {
		s->manager = 1;
	} else {
		err_set("train.secret '%s': the reference must start with ssm: or secretsmanager:",
			entry);
		err_hint("a secret's value never goes into git config: "
			 "git config --add train.secret KEY=ssm:/path/to/parameter");
		goto bad;
	}
	if (check_ref(ref, entry))
		goto bad;
	s->ref = xstrdup(ref);
	return 0;
bad:
	free(s->name);
	memset(s, 0, sizeof(*s));
	return -1;
}

static void data_release(struct inputs_data *d)
{
	free(d->name);
	free(d->var);
	free(d->bucket);
	free(d->prefix);
	free(d->fingerprint);
}

/* Index of the entry named key in arr (whose structs start with char *name), or -1. */
static long find_name(const void *arr, size_t nr, size_t size, const char *key)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (!strcmp(*(char *const *)((const char *)arr + i * size), key))
			return (long)i;
	return -1;
}

#define FIND(arr, nr, key) find_name((arr), (nr), sizeof(*(arr)), (key))

static int load_data(struct run_inputs *in, const struct config *cfg)
{
	struct strvec v = STRVEC_INIT;
	size_t i, j;
	int ret = -1;

	if (config_get_all(&v, cfg, "train.data") < 0)
		goto out;
	for (i = 0; i < v.nr; i++) {
		struct inputs_data d;
		long at;

		if (parse_data(&d, v.v[i]))
			goto out;
		at = FIND(in->data, in->nr_data, d.name);
		if (at >= 0) {
			data_release(&in->data[at]);
			in->data[at] = d;
			continue;
		}
		in->data = xrealloc(in->data, (in->nr_data + 1) * sizeof(*in->data));
		in->data[in->nr_data++] = d;
	}
	for (i = 0; i < in->nr_data; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(in->data[i].var, in->data[j].var)) {
				err_set("train.data: the sources '%s' and '%s' would both be %s",
					in->data[j].name, in->data[i].name, in->data[i].var);
				goto out;
			}
	ret = 0;
out:
	strvec_clear(&v);
	return ret;
}

static int load_env(struct run_inputs *in, const struct config *cfg)
{
	struct strvec v = STRVEC_INIT;
	size_t i;
	int ret = -1;

	if (config_get_all(&v, cfg, "train.env") < 0)
		goto out;
	for (i = 0; i < v.nr; i++) {
		const char *value;
		char *name;
		long at;

		if (split(&name, &value, v.v[i], "train.env", "KEY=VALUE"))
			goto out;
		if (check_var_name(name, "train.env", v.v[i])) {
			free(name);
			goto out;
		}
		at = FIND(in->env, in->nr_env, name);
		if (at >= 0) {
			free(name);
			free(in->env[at].value);
			in->env[at].value = xstrdup(value);
			continue;
		}
		in->env = xrealloc(in->env, (in->nr_env + 1) * sizeof(*in->env));
		in->env[in->nr_env].name = name;
		in->env[in->nr_env++].value = xstrdup(value);
	}
	ret = 0;
out:
	strvec_clear(&v);
	return ret;
}

static int load_secrets(struct run_inputs *in, const struct config *cfg)
{
	struct strvec v = STRVEC_INIT;
	size_t i;
	int ret = -1;

	if (config_get_all(&v, cfg, "train.secret") < 0)
		goto out;
	for (i = 0; i < v.nr; i++) {
		struct inputs_secret s;
		long at;

		if (parse_secret(&s, v.v[i]))
			goto out;
		if (FIND(in->env, in->nr_env, s.name) >= 0) {
			err_set("%s is both a train.env and a train.secret: keep one", s.name);
			free(s.name);
			free(s.ref);
			goto out;
		}
		at = FIND(in->secrets, in->nr_secrets, s.name);
		if (at >= 0) {
			free(in->secrets[at].name);
			free(in->secrets[at].ref);
			in->secrets[at] = s;
			continue;
		}
		in->secrets = xrealloc(in->secrets, (in->nr_secrets + 1) * sizeof(*in->secrets));
		in->secrets[in->nr_secrets++] = s;
	}
	ret = 0;
out:
	strvec_clear(&v);
	return ret;
}

int inputs_load(struct run_inputs *out, const struct config *cfg)
{
	memset(out, 0, sizeof(*out));
	if (load_data(out, cfg) || load_env(out, cfg) || load_secrets(out, cfg)) {
		inputs_release(out);
		return -1;
	}
	return 0;
}

void inputs_release(struct run_inputs *in)
{
	size_t i;

	for (i = 0; i < in->nr_data; i++)
		data_release(&in->data[i]);
	for (i = 0; i < in->nr_env; i++) {
		free(in->env[i].name);
		free(in->env[i].value);
	}
	for (i = 0; i < in->nr_secrets; i++) {
		free(in->secrets[i].name);
		free(in->secrets[i].ref);
	}
	free(in->data);
	free(in->env);
	free(in->secrets);
	memset(in, 0, sizeof(*in));
}

char *inputs_data_uri(const struct inputs_data *d)
{
	return xstrfmt("s3://%s/%s", d->bucket, d->prefix);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "K1,K2": the names, sorted. */
static void add_names(struct run_record *rec, const char *key, const char **names, size_t nr)
{
	struct buf b = BUF_INIT;
	size_t i;

	if (!nr)
		return;
	qsort(names, nr, sizeof(*names), cmp_str);
	for (i = 0; i < nr; i++)
		buf_printf(&b, "%s%s", i ? "," : "", names[i]);
	run_record_add_extra(rec, key, b.ptr);
	buf_release(&b);
}

void inputs_note(struct run_record *rec, const struct run_inputs *in)
{
	const char **names;
	size_t i, n = in->nr_env > in->nr_secrets ? in->nr_env : in->nr_secrets;

	names = xcalloc(n ? n : 1, sizeof(*names));
	for (i = 0; i < in->nr_env; i++)
		names[i] = in->env[i].name;
	add_names(rec, "env", names, in->nr_env);
	for (i = 0; i < in->nr_secrets; i++)
		names[i] = in->secrets[i].name;
	add_names(rec, "secrets", names, in->nr_secrets);
	free(names);
	for (i = 0; i < in->nr_data; i++) {
		char *key;

		if (!in->data[i].fingerprint)
			continue;
		key = xstrfmt("data.%s", in->data[i].name);
		run_record_add_extra(rec, key, in->data[i].fingerprint);
		free(key);
	}
}
