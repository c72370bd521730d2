/*
 * git train aws-call: one AWS API call through git-train's own AWS layer
 * (credentials, endpoint, signature, retries), the response body on stdout.
 * Plumbing for tests and debugging; not listed in the usage.
 *
 *   git train aws-call sts GetCallerIdentity
 *   git train aws-call ec2 DescribeRegions RegionName.1=us-east-1
 *   git train aws-call ssm GetParameter Name=/aws/service/...   (a JSON object of strings)
 *   git train aws-call ssm GetParameter '{"Name": "..."}'        (or the JSON itself)
 *   git train aws-call s3 --method PUT --path /bucket/key --data hello
 *   git train aws-call s3 --method PUT --path /bucket/key --upload-file big.tar.gz
 *   git train aws-call s3 --path /bucket/key -o big.tar.gz
 *   git train aws-call s3 --bucket bucket --path /key
 *
 * --bucket names the bucket apart, as git-train's own S3 calls do: it is
 * then addressed as they address it (virtual-hosted or path-style) and
 * followed to its region; --path is within it. Without it, --path is sent
 * as given.
 *
 * --upload-file streams the file (UNSIGNED-PAYLOAD, rewound for a retry) and
 * -o streams a successful response body into a file: the paths that S3
 * uploads and downloads take. --jobs sends the request from that many
 * threads at once over one client, as parallel part uploads do.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "cmd/builtin.h"
#include "git/config.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "util/util.h"

static const char *const aws_call_usage[] = {
	"git train aws-call [--region <region>] <service> <action> [<name>=<value>...]",
	"git train aws-call s3 [--method <method>] [--bucket <bucket>] [--path <path>]\n"
	"                       [--query <query>] [--data <body> | --upload-file <file>]\n"
	"                       [-o <file>]",
	NULL,
};

struct service_info {
	const char *name;
	enum aws_protocol protocol;
	const char *version_or_prefix; /* Query: API version; JSON: target prefix */
};

static const struct service_info services[] = {
	{ "sts", AWS_PROTOCOL_QUERY, "2011-06-15" },
	{ "iam", AWS_PROTOCOL_QUERY, "2010-05-08" },
	{ "ec2", AWS_PROTOCOL_QUERY, "2016-11-15" },
	{ "ssm", AWS_PROTOCOL_JSON, "AmazonSSM" },
	{ "pricing", AWS_PROTOCOL_JSON, "AWSPriceListService" },
	{ "s3", AWS_PROTOCOL_REST_XML, NULL },
	{ "secretsmanager", AWS_PROTOCOL_JSON, "secretsmanager" },
};

struct aws_call_opts {
	const char *region;
	const char *method;
	const char *bucket;
	const char *path;
	const char *query;
	const char *data;
	const char *upload_file;
	const char *output;
	int jobs;
};

struct file_body {
	FILE *fp;
	const char *name;
};

static long long file_read(void *ctx, void *dst, size_t len)
{
	struct file_body *f = ctx;
	size_t n = fread(dst, 1, len, f->fp);

	if (n < len && ferror(f->fp))
		return err_set("cannot read '%s': %s", f->name, strerror(errno));
	return (long long)n;
}

static int file_rewind(void *ctx)
{
	struct file_body *f = ctx;

	if (fseek(f->fp, 0, SEEK_SET))
		return err_set("cannot rewind '%s': %s", f->name, strerror(errno));
	return 0;
}

static int file_write(void *ctx, const void *data, size_t len)
{
	struct file_body *f = ctx;

	if (fwrite(data, 1, len, f->fp) != len)
		return err_set("cannot write '%s': %s", f->name, strerror(errno));
	return 0;
}

static const struct service_info *find_service(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(services); i++)
		if (!strcmp(services[i].name, name))
			return &services[i];
	return NULL;
}

/* "&Name=Value..." for the Query protocol, each side percent-encoded. */
static int form_params(struct buf *out, const char **args, int nr)
{
	int i;

	for (i = 0; i < nr; i++) {
		const char *eq = strchr(args[i], '=');

		if (!eq || eq == args[i])
			return err_set("bad parameter '%s': expected <name>=<value>", args[i]);
		buf_putc(out, '&');
		buf_uri_encode(out, args[i], (size_t)(eq - args[i]), 0);
		buf_putc(out, '=');
		buf_uri_encode(out, eq + 1, strlen(eq + 1), 0);
	}
	return 0;
}

/* The JSON document: given as is, or an object of string values. */
static int json_params(char **out, const char **args, int nr)
{
	cJSON *obj;
	int i;

	*out = NULL;
	if (nr == 1 && args[0][0] == '{') {
		*out = xstrdup(args[0]);
		return 0;
	}
	obj = cJSON_CreateObject();
	for (i = 0; i < nr; i++) {
		const char *eq = strchr(args[i], '=');
		char *name;

		if (!eq || eq == args[i]) {
			cJSON_Delete(obj);
			return err_set(
				"bad parameter '%s': expected <name>=<value> or a JSON object",
				args[i]);
		}
		name = xstrndup(args[i], (size_t)(eq - args[i]));
		cJSON_AddStringToObject(obj, name, eq + 1);
		free(name);
	}
	*out = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	return *out ? 0 : err_set("cannot build the JSON request: out of memory");
}

static int build_request(struct aws_request *req, struct buf *body, const struct service_info *svc,
			 const struct aws_call_opts *o, const char **args, int nr)
{
	char *json = NULL;

	req->protocol = svc->protocol;
	req->service = svc->name;
	req->region = o->region;
	if (svc->protocol == AWS_PROTOCOL_REST_XML) {
		req->method = o->method ? o->method : "GET";
		req->bucket = o->bucket;
		req->path = o->path ? o->path : o->bucket ? NULL : "/";
		req->query = o->query;
		if (nr)
			return err_set("s3 takes --method, --bucket, --path, --query and --data, "
				       "not '%s'",
				       args[0]);
		if (o->data && o->upload_file)
			return err_set("--data and --upload-file cannot be used together");
		if (o->data)
			buf_puts(body, o->data);
	} else if (o->upload_file || o->output || o->bucket) {
		return err_set("--bucket, --upload-file and -o are for s3 only");
	} else if (!nr) {
		return err_set("name the %s action to call, e.g. %s", svc->name,
			       svc->protocol == AWS_PROTOCOL_JSON ? "GetParameter"
								  : "GetCallerIdentity");
	} else if (svc->protocol == AWS_PROTOCOL_QUERY) {
		buf_puts(body, "Action=");
		buf_uri_encode(body, args[0], strlen(args[0]), 0);
		buf_printf(body, "&Version=%s", svc->version_or_prefix);
		if (form_params(body, args + 1, nr - 1))
			return -1;
	} else {
		if (json_params(&json, args + 1, nr - 1))
			return -1;
		buf_puts(body, json);
		free(json);
	}
	req->body = body->ptr;
	req->body_len = body->len;
	return 0;
}

static int open_upload(struct file_body *f, struct aws_body_reader *r, const char *path)
{
	long size;

	f->name = path;
	f->fp = fopen(path, "rb");
	if (!f->fp)
		return err_set("cannot open '%s': %s", path, strerror(errno));
	if (fseek(f->fp, 0, SEEK_END) || (size = ftell(f->fp)) < 0 || fseek(f->fp, 0, SEEK_SET))
		return err_set("cannot read '%s': %s", path, strerror(errno));
	r->read = file_read;
	r->rewind = file_rewind;
	r->ctx = f;
	r->length = size;
	return 0;
}

struct job {
	pthread_t thread;
	struct aws_client *client;
	const struct aws_request *req;
	struct aws_response res;
	char *error; /* the worker's message: messages are per thread */
};

static void *job_run(void *arg)
{
	struct job *j = arg;

	if (aws_send(&j->res, j->client, j->req))
		j->error = xstrdup(err_msg());
	return NULL;
}

/* The same request from jobs threads at once; *out is the first one's response. */
static int send_parallel(struct aws_response *out, struct aws_client *c,
			 const struct aws_request *req, int jobs)
{
	struct job *v = xcalloc((size_t)jobs, sizeof(*v));
	int i, started = 0, ret = 0;

	for (i = 0; i < jobs; i++, started++) {
		v[i].client = c;
		v[i].req = req;
		if (pthread_create(&v[i].thread, NULL, job_run, &v[i])) {
			ret = err_set("cannot start a thread: %s", strerror(errno));
			break;
		}
	}
	for (i = 0; i < started; i++)
		pthread_join(v[i].thread, NULL);
	for (i = 0; i < started; i++) {
		if (v[i].error && !ret)
			ret = err_set("%s", v[i].error);
		free(v[i].error);
		if (i)
			aws_response_release(&v[i].res);
	}
	*out = v[0].res;
	free(v);
	return ret;
}

static int call(const struct service_info *svc, const struct aws_call_opts *o, const char **args,
		int nr)
{
	struct aws_client client;
	struct aws_response res = { 0 };
	struct aws_request req = { 0 };
	struct config cfg = { 0 };
	struct buf body = BUF_INIT;
	struct file_body upload = { 0 }, download = { 0 };
	struct aws_body_reader reader = { 0 };
	git_repository *repo = NULL;
	char *target = NULL;
	int ret = -1, have_client = 0;

	if (repo_open(&repo))
		err_clear(); /* outside a repository: global settings only */
	if (config_load(&cfg, repo) || build_request(&req, &body, svc, o, args, nr))
		goto out;
	if (svc->protocol == AWS_PROTOCOL_JSON) {
		target = xstrfmt("%s.%s", svc->version_or_prefix, args[0]);
		req.target = target;
	}
	if (o->upload_file) {
		if (open_upload(&upload, &reader, o->upload_file))
			goto out;
		req.reader = &reader;
	}
	if (o->output) {
		download.name = o->output;
		download.fp = fopen(o->output, "wb");
		if (!download.fp) {
			err_set("cannot create '%s': %s", o->output, strerror(errno));
			goto out;
		}
		req.on_body = file_write;
		req.on_body_ctx = &download;
	}
	if (aws_client_init(&client, &cfg))
		goto out;
	have_client = 1;
	if (o->jobs > 1 ? send_parallel(&res, &client, &req, o->jobs)
			: aws_send(&res, &client, &req))
		goto out;
	if (download.fp && fclose(download.fp)) {
		download.fp = NULL;
		err_set("cannot write '%s': %s", o->output, strerror(errno));
		goto out;
	}
	download.fp = NULL;
	fwrite(res.body.ptr ? res.body.ptr : "", 1, res.body.len, stdout);
	if (res.body.len && res.body.ptr[res.body.len - 1] != '\n')
		putchar('\n');
	ret = 0;
out:
	aws_response_release(&res);
	if (have_client)
		aws_client_release(&client);
	config_release(&cfg);
	git_repository_free(repo);
	buf_release(&body);
	free(target);
	if (upload.fp)
		fclose(upload.fp);
	if (download.fp)
		fclose(download.fp);
	return ret;
}

int cmd_aws_call(int argc, const char **argv)
{
	struct aws_call_opts o = { 0 };
	struct option options[] = {
		OPT_STRING(0, "region", &o.region, "region", "sign for this region"),
		OPT_STRING(0, "method", &o.method, "method", "s3: the HTTP method (default GET)"),
		OPT_STRING(0, "bucket", &o.bucket, "bucket",
			   "s3: the bucket, addressed as git-train does; --path within it"),
		OPT_STRING(0, "path", &o.path, "path", "s3: the request path, percent-encoded"),
		OPT_STRING(0, "query", &o.query, "query", "s3: the query string, percent-encoded"),
		OPT_STRING(0, "data", &o.data, "body", "s3: the request body"),
		OPT_STRING(0, "upload-file", &o.upload_file, "file",
			   "s3: stream the body from <file>"),
		OPT_INT(0, "jobs", &o.jobs, "n", "send the request from <n> threads at once"),
		OPT_STRING('o', "output", &o.output, "file",
			   "s3: stream the response body to <file>"),
		OPT_END(),
	};
	struct parsed_args pa = { 0 };
	const struct service_info *svc;
	int ret = EXIT_USAGE;

	if (parse_options(&pa, argc, argv, options, aws_call_usage) != PARSE_OPT_OK)
		goto out;
	if (pa.nr_args < 1) {
		msg_error("name the service to call: sts, iam, ec2, ssm, pricing or s3");
		parse_options_usage(stderr, aws_call_usage, options);
		goto out;
	}
	svc = find_service(pa.args[0]);
	if (!svc) {
		msg_error("unknown service '%s': expected sts, iam, ec2, ssm, pricing or s3",
			  pa.args[0]);
		goto out;
	}
	if (o.jobs > 1 && (o.upload_file || o.output)) {
		msg_error("--jobs cannot be used with --upload-file or -o");
		goto out;
	}
	ret = EXIT_OK;
	if (call(svc, &o, pa.args + 1, pa.nr_args - 1)) {
		err_report();
		ret = EXIT_FAILED;
	}
out:
	parse_options_release(&pa);
	return ret;
}
