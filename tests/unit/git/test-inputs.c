/*
 * Unit tests for inputs: train.data, train.env and train.secret as the
 * config gives them (here as `-c` settings), their checks, the override by
 * name and the note's fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "git/config.h"
#include "git/inputs.h"
#include "git/run-record.h"
#include "util/util.h"

static int load(struct run_inputs *out, const char *params)
{
	struct config cfg = { 0 };
	int r;

	assert_int_equal(config_parse_parameters(&cfg, params), 0);
	err_clear();
	r = inputs_load(out, &cfg);
	config_release(&cfg);
	return r;
}

static void assert_refused(const char *params, const char *why)
{
	struct run_inputs in;

	assert_int_equal(load(&in, params), -1);
	if (!strstr(err_msg(), why))
		fail_msg("'%s' does not say '%s'", err_msg(), why);
	err_clear();
}

static void test_data(void **state)
{
	struct run_inputs in;

	(void)state;
	assert_int_equal(load(&in, "'train.data'='text=s3://my-bucket/a/b' "
				   "'train.data'='top=s3://my-bucket' "
				   "'train.data'='my.set-2=s3://b.1-x/p/'"),
			 0);
	assert_int_equal(in.nr_data, 3);
	assert_string_equal(in.data[0].name, "text");
	assert_string_equal(in.data[0].var, "GIT_TRAIN_DATA_TEXT");
	assert_string_equal(in.data[0].bucket, "my-bucket");
	assert_string_equal(in.data[0].prefix, "a/b/");
	assert_string_equal(in.data[1].prefix, "");
	assert_string_equal(in.data[2].var, "GIT_TRAIN_DATA_MY_SET_2");
	assert_string_equal(in.data[2].prefix, "p/");
	inputs_release(&in);

	assert_refused("'train.data'='x y=s3://bucket/p/'", "is not a data source name");
	assert_refused("'train.data'='-x=s3://bucket/p/'", "is not a data source name");
	assert_refused("'train.data'='x=http://bucket/p/'", "is not an s3://");
	assert_refused("'train.data'='x=s3://Bad_Bucket/p/'", "is not a bucket name");
	assert_refused("'train.data'='x=s3://bucket//p/'", "may not start with '/'");
	assert_refused("'train.data'='x=s3://bucket/a\tb/'", "control character");
	assert_refused("'train.data'='s3://bucket/p/'", "is not <name>=");
	assert_refused("'train.data'='a.b=s3://bucket/p/' 'train.data'='a-b=s3://bucket/q/'",
		       "would both be GIT_TRAIN_DATA_A_B");
}

static void test_env_and_secrets(void **state)
{
	struct run_inputs in;
	struct run_record rec;

	(void)state;
	assert_int_equal(load(&in, "'train.env'='MODE=offline' 'train.env'='B=x=y' "
				   "'train.env'='MODE=online' "
				   "'train.secret'='TOKEN=ssm:/team/token' "
				   "'train.secret'='A_KEY=secretsmanager:arn:aws:secretsmanager:"
				   "us-east-1:1:secret:k-AbCdEf' "
				   "'train.data'='d=s3://bucket/p/'"),
			 0);
	assert_int_equal(in.nr_env, 2);
	assert_string_equal(in.env[0].name, "MODE");
	assert_string_equal(in.env[0].value, "online");
	assert_string_equal(in.env[1].value, "x=y");
	assert_int_equal(in.nr_secrets, 2);
	assert_int_equal(in.secrets[0].manager, 0);
	assert_string_equal(in.secrets[0].ref, "/team/token");
	assert_int_equal(in.secrets[1].manager, 1);

	run_record_init(&rec);
	inputs_note(&rec, &in);
	assert_string_equal(run_record_extra(&rec, "env"), "B,MODE");
	assert_string_equal(run_record_extra(&rec, "secrets"), "A_KEY,TOKEN");
	assert_null(run_record_extra(&rec, "data.d")); /* not listed yet */
	in.data[0].fingerprint = xstrdup("0123456789ab");
	run_record_release(&rec);
	run_record_init(&rec);
	inputs_note(&rec, &in);
	assert_string_equal(run_record_extra(&rec, "data.d"), "0123456789ab");
	run_record_release(&rec);
	inputs_release(&in);

	assert_refused("'train.env'='1A=x'", "is not a variable name");
	assert_refused("'train.env'='A-B=x'", "is not a variable name");
	assert_refused("'train.env'='GIT_TRAIN_X=1'", "git-train's own");
	assert_refused("'train.env'='PATH=/x'", "does not let a run set PATH");
	assert_refused("'train.env'='novalue'", "is not KEY=VALUE");
	assert_refused("'train.secret'='T=/team/token'", "must start with ssm: or secretsmanager:");
	assert_refused("'train.secret'='T=ssm:'", "is not a parameter or secret name");
	assert_refused("'train.secret'='T=ssm:/a b'", "is not a parameter or secret name");
	assert_refused("'train.env'='T=1' 'train.secret'='T=ssm:/t'",
		       "is both a train.env and a train.secret");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_env_and_secrets),
	};

	unsetenv("GIT_CONFIG_PARAMETERS");
	unsetenv("GIT_CONFIG_COUNT");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
