/*
 * fuzz-creds: credentials as a credential_process prints them, as the
 * instance metadata service and the STS cache hold them (JSON), and as STS
 * AssumeRole answers (XML; assume-role.c's parser is static, so the file is
 * compiled into this harness). A failure's message never quotes the secret.
 */
#include "fuzz.h"

#include "aws/creds/assume-role.c"
#include "util/json.h"

static void check_no_secret(const char *secret, const char *expiration)
{
	/* (the Expiration is quoted when it is malformed: a secret equal to it is its own fault) */
	if (secret && strlen(secret) >= 8 && (!expiration || !strstr(expiration, secret)))
		FUZZ_CHECK(!strstr(err_msg(), secret), "the secret in a message: %s", err_msg());
}

static void from_json(const char *text)
{
	static const char *const token_keys[] = { "SessionToken", "Token" };
	cJSON *doc = cJSON_Parse(text);
	struct aws_credentials c;
	size_t i;

	if (!doc)
		return;
	for (i = 0; i < ARRAY_SIZE(token_keys); i++) {
		const char *secret = json_string(doc, "SecretAccessKey");

		err_clear();
		if (aws_creds_from_json(&c, doc, token_keys[i], "fuzz", xstrdup("the fuzzer"))) {
			check_no_secret(secret, json_string(doc, "Expiration"));
			continue;
		}
		FUZZ_CHECK(c.access_key_id && *c.access_key_id && c.secret_access_key &&
				   *c.secret_access_key && c.source,
			   "credentials without keys");
		FUZZ_CHECK(!strcmp(c.secret_access_key, secret), "the secret changed");
		aws_creds_release(&c);
	}
	aws_creds_wipe_json(doc);
	cJSON_Delete(doc);
}

static void from_sts_xml(const uint8_t *data, size_t size)
{
	struct buf body = BUF_INIT;
	cJSON *doc = NULL;

	buf_add(&body, data, size);
	if (!parse_response(&doc, &body)) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "Credentials");
		struct aws_credentials creds;

		FUZZ_CHECK(cJSON_IsObject(c), "no Credentials in the cached form");
		if (!aws_creds_from_json(&creds, c, "SessionToken", "fuzz", xstrdup("sts")))
			aws_creds_release(&creds);
		aws_creds_wipe_json(doc);
		cJSON_Delete(doc);
	}
	err_clear();
	buf_release(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);

	if (size && data[0] == '<')
		from_sts_xml(data, size);
	else
		from_json(text);
	err_clear();
	free(text);
	return 0;
}
