/*
 * Unit tests for aws/bucket and the addressing of S3 requests
 * (aws_s3_url(), which builds a request's URL as aws_send() does): the
 * bucket names botocore's S3 endpoint rules take as host names, and the URL
 * of AWS's own and of custom endpoints under each addressing_style. The
 * expected URLs are what botocore 1.43's EndpointProvider resolves for the
 * same bucket, region and endpoint.
 *
 * Every test starts from an environment without AWS variables and with the
 * shared files in a fresh temporary directory: nothing is sent anywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/bucket.h"
#include "aws/client.h"
#include "util/util.h"

static const char *const aws_vars[] = {
	"AWS_PROFILE",	    "AWS_REGION",	   "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
};

static char tmpdir[256];

static int setup(void **state)
{
	char *config;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(aws_vars); i++)
		unsetenv(aws_vars[i]);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-aws-bucket.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	setenv("HOME", tmpdir, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	config = xstrfmt("%s/config", tmpdir);
	setenv("AWS_CONFIG_FILE", config, 1);
	free(config);
	config = xstrfmt("%s/credentials", tmpdir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", config, 1);
	free(config);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(tmpdir);
	err_clear();
	return 0;
}

static void write_config(const char *text)
{
	char *path = xstrfmt("%s/config", tmpdir);

	assert_int_equal(write_file_atomic(path, text, strlen(text), 0600), 0);
	free(path);
}

/* The URL and signing region of key_path in bucket, with the current environment. */
static void expect_url(const char *bucket, const char *key_path, const char *want_url,
		       const char *want_region)
{
	struct aws_client c;
	char *url, *region;

	assert_int_equal(aws_client_init(&c, NULL), 0);
	assert_int_equal(aws_s3_url(&url, &region, &c, bucket, key_path), 0);
	assert_string_equal(url, want_url);
	assert_string_equal(region, want_region);
	free(url);
	free(region);
	aws_client_release(&c);
}

static void test_hostable_names(void **state)
{
	(void)state;
	assert_true(aws_bucket_hostable("my-bucket", 0));
	assert_true(aws_bucket_hostable("abc", 0));
	assert_true(aws_bucket_hostable("0bucket9", 0));
	assert_true(aws_bucket_hostable(
		"a23456789012345678901234567890123456789012345678901234567890123", 0));
	/* too short, too long */
	assert_false(aws_bucket_hostable("ab", 0));
	assert_false(aws_bucket_hostable(
		"a234567890123456789012345678901234567890123456789012345678901234", 0));
	/* capitals, underscores: never host names */
	assert_false(aws_bucket_hostable("MyBucket", 0));
	assert_false(aws_bucket_hostable("MyBucket", 1));
	assert_false(aws_bucket_hostable("my_bucket", 0));
	assert_false(aws_bucket_hostable("my_bucket", 1));
	/* a hyphen at either end */
	assert_false(aws_bucket_hostable("-bucket", 0));
	assert_false(aws_bucket_hostable("bucket-", 0));
	/* dots: only where TLS is not in the way, and only between labels */
	assert_false(aws_bucket_hostable("my.bucket", 0));
	assert_true(aws_bucket_hostable("my.bucket", 1));
	assert_false(aws_bucket_hostable("my..bucket", 1));
	assert_false(aws_bucket_hostable("my-.bucket", 1));
	assert_false(aws_bucket_hostable(".bucket", 1));
	assert_false(aws_bucket_hostable("bucket.", 1));
	/* shaped like an IPv4 address */
	assert_false(aws_bucket_hostable("192.168.5.4", 1));
	assert_true(aws_bucket_hostable("192.168.5.4x", 1));
}

static void test_virtual_hosted_rules(void **state)
{
	const char *aws = "https://s3.eu-west-1.amazonaws.com";

	(void)state;
	assert_true(aws_bucket_virtual_hosted("b-1", aws, 0, AWS_S3_AUTO));
	assert_true(aws_bucket_virtual_hosted("b-1", aws, 0, AWS_S3_VIRTUAL));
	assert_false(aws_bucket_virtual_hosted("b-1", aws, 0, AWS_S3_PATH));
	assert_false(aws_bucket_virtual_hosted("b.1", aws, 0, AWS_S3_AUTO));
	/* custom endpoints: path-style unless virtual is asked for */
	assert_false(aws_bucket_virtual_hosted("b-1", "http://localhost:5000", 1, AWS_S3_AUTO));
	assert_true(aws_bucket_virtual_hosted("b-1", "http://localhost:5000", 1, AWS_S3_VIRTUAL));
	assert_true(aws_bucket_virtual_hosted("b.1", "http://localhost:5000", 1, AWS_S3_VIRTUAL));
	assert_false(aws_bucket_virtual_hosted("b.1", "https://localhost:5000", 1, AWS_S3_VIRTUAL));
	/* an IP address has no subdomains */
	assert_false(aws_bucket_virtual_hosted("b-1", "http://127.0.0.1:5000", 1, AWS_S3_VIRTUAL));
	assert_false(aws_bucket_virtual_hosted("b-1", "http://[::1]:5000", 1, AWS_S3_VIRTUAL));
}

static void test_aws_endpoints(void **state)
{
	(void)state;
	setenv("AWS_REGION", "eu-west-1", 1);
	expect_url("my-bucket", "/a/b%20c.tgz",
		   "https://my-bucket.s3.eu-west-1.amazonaws.com/a/b%20c.tgz", "eu-west-1");
	expect_url("my-bucket", NULL, "https://my-bucket.s3.eu-west-1.amazonaws.com/", "eu-west-1");
	expect_url("my.bucket", "/k", "https://s3.eu-west-1.amazonaws.com/my.bucket/k",
		   "eu-west-1");
	expect_url("MyBucket", "/k", "https://s3.eu-west-1.amazonaws.com/MyBucket/k", "eu-west-1");
	expect_url("my_bucket", NULL, "https://s3.eu-west-1.amazonaws.com/my_bucket", "eu-west-1");
	setenv("AWS_REGION", "us-east-1", 1);
	expect_url("my-bucket", "/k", "https://my-bucket.s3.us-east-1.amazonaws.com/k",
		   "us-east-1");
	setenv("AWS_REGION", "cn-north-1", 1);
	expect_url("my-bucket", "/k", "https://my-bucket.s3.cn-north-1.amazonaws.com.cn/k",
		   "cn-north-1");
	/* no region: S3 is us-east-1, as for the AWS CLI */
	unsetenv("AWS_REGION");
	expect_url("my-bucket", "/k", "https://my-bucket.s3.us-east-1.amazonaws.com/k",
		   "us-east-1");
}

static void test_addressing_style(void **state)
{
	(void)state;
	setenv("AWS_REGION", "eu-west-1", 1);
	write_config("[default]\ns3 =\n  addressing_style = path\n");
	expect_url("my-bucket", "/k", "https://s3.eu-west-1.amazonaws.com/my-bucket/k",
		   "eu-west-1");
	write_config("[default]\ns3 =\n  addressing_style = virtual\n");
	expect_url("my-bucket", "/k", "https://my-bucket.s3.eu-west-1.amazonaws.com/k",
		   "eu-west-1");
	/* a name that cannot be a host stays path-style whatever is asked */
	expect_url("my_bucket", "/k", "https://s3.eu-west-1.amazonaws.com/my_bucket/k",
		   "eu-west-1");
	write_config("[default]\ns3 =\n  addressing_style = auto\n");
	expect_url("my-bucket", "/k", "https://my-bucket.s3.eu-west-1.amazonaws.com/k",
		   "eu-west-1");
	/* another profile's setting is not ours */
	write_config("[default]\n[profile other]\ns3 =\n  addressing_style = path\n");
	expect_url("my-bucket", "/k", "https://my-bucket.s3.eu-west-1.amazonaws.com/k",
		   "eu-west-1");
}

static void test_custom_endpoints(void **state)
{
	(void)state;
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ENDPOINT_URL", "http://localhost:5000/", 1);
	expect_url("my-bucket", "/k", "http://localhost:5000/my-bucket/k", "us-east-1");
	expect_url("my-bucket", NULL, "http://localhost:5000/my-bucket", "us-east-1");
	write_config("[default]\ns3 =\n  addressing_style = virtual\n");
	expect_url("my-bucket", "/k", "http://my-bucket.localhost:5000/k", "us-east-1");
	expect_url("my.bucket", "/k", "http://my.bucket.localhost:5000/k", "us-east-1");
	expect_url("My.Bucket", "/k", "http://localhost:5000/My.Bucket/k", "us-east-1");
	/* the endpoint's own path stays in front */
	setenv("AWS_ENDPOINT_URL_S3", "https://store.example:8443/s3", 1);
	expect_url("my-bucket", "/k", "https://my-bucket.store.example:8443/s3/k", "us-east-1");
	expect_url("my.bucket", "/k", "https://store.example:8443/s3/my.bucket/k", "us-east-1");
	write_config("[default]\n");
	expect_url("my-bucket", "/k", "https://store.example:8443/s3/my-bucket/k", "us-east-1");
	/* moto's address: path-style, virtual or not */
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:5000", 1);
	write_config("[default]\ns3 =\n  addressing_style = virtual\n");
	expect_url("my-bucket", "/k", "http://127.0.0.1:5000/my-bucket/k", "us-east-1");
}

static void test_bad_style(void **state)
{
	struct aws_client c;

	(void)state;
	write_config("[default]\ns3 =\n  addressing_style = Virtual\n");
	assert_int_equal(aws_client_init(&c, NULL), -1);
	assert_string_equal(err_msg(), "bad addressing_style 'Virtual' in the s3 settings of the "
				       "AWS profile 'default': expected auto, virtual or path");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hostable_names),	  T(test_virtual_hosted_rules), T(test_aws_endpoints),
		T(test_addressing_style), T(test_custom_endpoints),	T(test_bad_style),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
