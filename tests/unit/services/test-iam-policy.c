/*
 * Unit tests for iam-policy: wildcards, the shapes a policy element takes,
 * explicit Deny over Allow, NotAction/NotResource, conditions, and documents
 * as IAM returns them (URL-encoded) and as emulators do (plain JSON).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "services/iam-policy.h"
#include "util/util.h"

#define OBJ "arn:aws:s3:::train-bucket/git-train/doctor-check"

static enum iam_decision decide(const char *doc, const char *action, const char *resource)
{
	cJSON *d = NULL;
	enum iam_decision r;

	assert_int_equal(iam_policy_parse(&d, doc), 0);
	r = iam_policy_decide((const cJSON *const *)&d, 1, action, resource);
	cJSON_Delete(d);
	return r;
}

static void test_match(void **state)
{
	(void)state;
	assert_true(iam_policy_match("*", "", 0));
	assert_true(iam_policy_match("s3:*", "s3:GetObject", 0));
	assert_true(iam_policy_match("s3:Get*", "S3:getobject", 1));
	assert_false(iam_policy_match("s3:Get*", "S3:getobject", 0));
	assert_true(iam_policy_match("arn:aws:s3:::b/*/x?z", "arn:aws:s3:::b/a/b/xyz", 0));
	assert_false(iam_policy_match("arn:aws:s3:::b/*", "arn:aws:s3:::bb/x", 0));
	assert_true(iam_policy_match("a*b*c", "aXbYbZc", 0));
	assert_false(iam_policy_match("a*b*c", "aXbYbZ", 0));
	assert_false(iam_policy_match("abc", "abcd", 0));
}

static void test_shapes(void **state)
{
	(void)state;
	/* a single statement object, strings instead of arrays */
	assert_int_equal(decide("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
				"\"Resource\":\"*\"}}",
				"s3:PutObject", OBJ),
			 IAM_ALLOW);
	assert_int_equal(decide("{\"Statement\":[{\"Effect\":\"Allow\","
				"\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
				"\"Resource\":[\"arn:aws:s3:::other/*\","
				"\"arn:aws:s3:::train-bucket/git-train/*\"]}]}",
				"s3:putobject", OBJ),
			 IAM_ALLOW);
	/* the bucket itself is not its objects */
	assert_int_equal(decide("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
				"\"Resource\":\"arn:aws:s3:::train-bucket\"}]}",
				"s3:GetObject", OBJ),
			 IAM_IMPLICIT_DENY);
	/* no Resource: not an identity policy statement that grants anything */
	assert_int_equal(decide("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\"}]}",
				"s3:GetObject", OBJ),
			 IAM_IMPLICIT_DENY);
	assert_int_equal(decide("{\"Statement\":[]}", "s3:GetObject", OBJ), IAM_IMPLICIT_DENY);
}

static void test_deny_and_not(void **state)
{
	static const char *const deny =
		"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},"
		"{\"Effect\":\"Deny\",\"Action\":\"s3:PutObject\",\"Resource\":\"*\"}]}";
	static const char *const not_action =
		"{\"Statement\":[{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\","
		"\"Resource\":\"*\"}]}";
	static const char *const not_resource =
		"{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
		"\"NotResource\":\"arn:aws:s3:::secret/*\"}]}";

	(void)state;
	assert_int_equal(decide(deny, "s3:PutObject", OBJ), IAM_EXPLICIT_DENY);
	assert_int_equal(decide(deny, "s3:GetObject", OBJ), IAM_ALLOW);
	assert_int_equal(decide(not_action, "s3:GetObject", OBJ), IAM_ALLOW);
	assert_int_equal(decide(not_action, "iam:PassRole", "*"), IAM_IMPLICIT_DENY);
	assert_int_equal(decide(not_resource, "s3:GetObject", OBJ), IAM_ALLOW);
	assert_int_equal(decide(not_resource, "s3:GetObject", "arn:aws:s3:::secret/x"),
			 IAM_IMPLICIT_DENY);
}

/* Conditions cannot be evaluated here: lean towards "allowed". */
static void test_conditions(void **state)
{
	(void)state;
	assert_int_equal(decide("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
				"\"Resource\":\"*\",\"Condition\":{\"Bool\":"
				"{\"aws:SecureTransport\":\"true\"}}}]}",
				"s3:GetObject", OBJ),
			 IAM_ALLOW);
	assert_int_equal(decide("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
				"\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":\"s3:*\","
				"\"Resource\":\"*\",\"Condition\":{\"Bool\":"
				"{\"aws:SecureTransport\":\"false\"}}}]}",
				"s3:GetObject", OBJ),
			 IAM_ALLOW);
}

static void test_several_documents(void **state)
{
	cJSON *docs[2] = { NULL, NULL };

	(void)state;
	assert_int_equal(iam_policy_parse(&docs[0], "{\"Statement\":[{\"Effect\":\"Allow\","
						    "\"Action\":\"ssm:UpdateInstanceInformation\","
						    "\"Resource\":\"*\"}]}"),
			 0);
	assert_int_equal(iam_policy_parse(&docs[1], "{\"Statement\":[{\"Effect\":\"Deny\","
						    "\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"),
			 0);
	assert_int_equal(iam_policy_decide((const cJSON *const *)docs, 2,
					   "ssm:UpdateInstanceInformation", "*"),
			 IAM_ALLOW);
	assert_int_equal(iam_policy_decide((const cJSON *const *)docs, 2, "s3:GetObject", OBJ),
			 IAM_EXPLICIT_DENY);
	assert_int_equal(iam_policy_decide((const cJSON *const *)docs, 0, "s3:GetObject", OBJ),
			 IAM_IMPLICIT_DENY);
	cJSON_Delete(docs[0]);
	cJSON_Delete(docs[1]);
}

/* What iam:GetRolePolicy really returns; '+' stays a plus. */
static void test_url_encoded(void **state)
{
	cJSON *d = NULL;

	(void)state;
	assert_int_equal(
		iam_policy_parse(
			&d,
			"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A"
			"%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A"
			"%22arn%3Aaws%3As3%3A%3A%3Aa+b%2F%2A%22%7D%5D%7D"),
		0);
	assert_int_equal(iam_policy_decide((const cJSON *const *)&d, 1, "s3:GetObject",
					   "arn:aws:s3:::a+b/key"),
			 IAM_ALLOW);
	cJSON_Delete(d);
	assert_int_equal(iam_policy_parse(&d, "  \n{\"Statement\": []}"), 0);
	cJSON_Delete(d);
	assert_int_equal(iam_policy_parse(&d, "%7B%22Statement"), -1);
	assert_null(d);
	assert_int_equal(iam_policy_parse(&d, "[1, 2]"), -1);
	assert_null(d);
	err_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_deny_and_not),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_several_documents),
		cmocka_unit_test(test_url_encoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
