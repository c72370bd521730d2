/*
 * credential_process, and the JSON credential documents that it, the
 * instance metadata and our AssumeRole cache all use.
 *
 * The process's output holds secrets: no message ever quotes it (nor the
 * command, which may embed one); its stderr goes to the user's terminal as
 * the AWS CLI shows it.
 */
#include "aws/creds/internal.h"
#include "util/json.h"
#include "util/time.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

extern char **environ;

/* Output beyond this is not credentials; stop reading and fail. */
#define MAX_PROCESS_OUTPUT (1024 * 1024)

void aws_creds_wipe_json(cJSON *item)
{
	for (; item; item = item->next) {
		if (item->valuestring)
			OPENSSL_cleanse(item->valuestring, strlen(item->valuestring));
		aws_creds_wipe_json(item->child);
	}
}

int aws_creds_from_json(struct aws_credentials *out, const cJSON *obj, const char *token_key,
			const char *what, char *source)
{
	const char *id = json_string(obj, "AccessKeyId");
	const char *secret = json_string(obj, "SecretAccessKey");
	const char *token = json_string(obj, token_key);
	const char *exp = json_string(obj, "Expiration");
	time_t expiration = 0;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj))
		err_set("%s: expected a JSON object", what);
	else if (!id || !*id)
		err_set("%s: no AccessKeyId", what);
	else if (!secret || !*secret)
		err_set("%s: no SecretAccessKey", what);
	else if (exp && time_parse_iso8601(&expiration, exp))
		err_set("%s: bad Expiration '%s': expected a time like 2024-05-01T12:00:00Z", what,
			exp);
	else
		ret = 0;
	if (ret) {
		free(source);
		return ret;
	}
	aws_creds_fill(out, id, secret, token, expiration, source);
	return 0;
}

/* Runs command with its stdout into out. 0 with *status, or -1 with err_set. */
static int run(struct buf *out, int *status, const char *command, const char *what)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "sh", "-c", (char *)command, NULL };
	char chunk[4096];
	int fds[2], err, ret = -1;
	pid_t pid;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC))
		return err_set("cannot run the %s: %s", what, strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	err = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		return err_set("cannot run the %s: %s", what, strerror(err));
	}
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || out->len + (size_t)n > MAX_PROCESS_OUTPUT)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (n != 0) {
		err_set("the %s printed more than %d bytes, which cannot be credentials", what,
			MAX_PROCESS_OUTPUT);
		kill(pid, SIGTERM);
	}
	close(fds[0]);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			err_set("cannot wait for the %s: %s", what, strerror(errno));
			return -1;
		}
	}
	if (n == 0)
		ret = 0;
	return ret;
}

static int parse_output(struct aws_credentials *out, const struct buf *output, const char *what)
{
	cJSON *doc = cJSON_ParseWithLength(output->ptr ? output->ptr : "", output->len);
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "Version");
	int ret = -1;

	if (!doc) {
		err_set("the %s printed something that is not JSON", what);
		err_hint("it must print {\"Version\": 1, \"AccessKeyId\": ..., "
			 "\"SecretAccessKey\": ..., \"SessionToken\": ..., \"Expiration\": ...}");
		goto out;
	}
	if (!cJSON_IsNumber(version) || version->valuedouble != 1) {
		err_set("the %s printed an unsupported Version (git-train, like the AWS CLI, "
			"reads Version 1)",
			what);
		goto out;
	}
	if (aws_creds_from_json(out, doc, "SessionToken", what, xstrfmt("the %s", what)))
		goto out;
	if (out->expiration && out->expiration <= time(NULL)) {
		aws_creds_release(out);
		err_set("the %s returned credentials that have already expired", what);
		goto out;
	}
	ret = 0;
out:
	if (doc) {
		aws_creds_wipe_json(doc);
		cJSON_Delete(doc);
	}
	return ret;
}

int aws_creds_from_process(struct aws_credentials *out, const char *command, const char *profile)
{
	char *what = xstrfmt("credential_process of AWS profile '%s'", profile);
	struct buf output = BUF_INIT;
	int status = 0, ret = -1;

	memset(out, 0, sizeof(*out));
	if (run(&output, &status, command, what))
		goto out;
	if (WIFSIGNALED(status)) {
		err_set("the %s was killed by signal %d", what, WTERMSIG(status));
		goto out;
	}
	if (WEXITSTATUS(status)) {
		/* Its stdout is not shown: it may hold half a secret. */
		err_set("the %s failed with exit code %d", what, WEXITSTATUS(status));
		err_hint("run the command yourself to see why; it is set in the AWS config file");
		goto out;
	}
	ret = parse_output(out, &output, what);
out:
	if (output.ptr)
		OPENSSL_cleanse(output.ptr, output.len);
	buf_release(&output);
	free(what);
	return ret;
}
