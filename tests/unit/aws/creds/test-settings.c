/*
 * Unit tests for aws-config and aws-profile: the AWS CLI's shared files as
 * botocore reads them, where the profile, region and endpoints come from,
 * and the credential sources that need no network (environment, profile
 * keys, credential_process), with their errors.
 *
 * Every test starts from an environment without AWS variables, with HOME and
 * the shared files in a fresh temporary directory, and the instance metadata
 * switched off: nothing here ever leaves the machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/creds/settings.h"
#include "aws/creds/creds.h"
#include "aws/creds/profile.h"
#include "git/config.h"
#include "util/time.h"
#include "util/util.h"

static const char *const aws_vars[] = {
	"AWS_PROFILE",
	"AWS_REGION",
	"AWS_DEFAULT_REGION",
	"AWS_CONFIG_FILE",
	"AWS_SHARED_CREDENTIALS_FILE",
	"AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION",
	"AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_S3",
	"AWS_ENDPOINT_URL_STS",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"XDG_CACHE_HOME",
};

static char tmpdir[256];

static char *path_in_tmp(const char *name)
{
	return xstrfmt("%s/%s", tmpdir, name);
}

static void write_tmp(const char *name, const char *text)
{
	char *path = path_in_tmp(name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(path);
}

static int setup(void **state)
{
	char *config, *creds;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(aws_vars); i++)
		unsetenv(aws_vars[i]);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-aws-config.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	setenv("HOME", tmpdir, 1);
	/* Never ask 169.254.169.254 from a test. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	config = path_in_tmp("config");
	creds = path_in_tmp("credentials");
	setenv("AWS_CONFIG_FILE", config, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
	free(config);
	free(creds);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(tmpdir);
	err_clear();
	return 0;
}

/* A config with `git -c` settings only. */
static void config_with(struct config *cfg, const char *params)
{
	memset(cfg, 0, sizeof(*cfg));
	assert_int_equal(config_parse_parameters(cfg, params), 0);
}

static void parse_section(struct aws_profile_section *out, const char *text, int is_config,
			  const char *name)
{
	memset(out, 0, sizeof(*out));
	assert_int_equal(aws_profile_parse(out, NULL, text, "f", is_config, name), 0);
}

static void section_release(struct aws_profile_section *s)
{
	struct aws_profile p = { 0 };

	p.config = *s;
	aws_profile_release(&p);
}

static void test_ini_basics(void **state)
{
	struct aws_profile_section s;

	(void)state;
	parse_section(&s,
		      "# comment\n"
		      "; another\n"
		      "[default]\n"
		      "region=us-west-2\n"
		      "\n"
		      "[profile dev]   \n"
		      "  Region   =   eu-west-1   \r\n"
		      "Output: json\n"
		      "role_arn = arn:aws:iam::1:role/x\n"
		      "empty =\n"
		      "region = eu-central-1\n"
		      "[profile other]\n"
		      "region = ap-south-1\n",
		      1, "dev");
	assert_true(s.found);
	/* Keys lower-cased, values trimmed, ':' also separates, a later value wins. */
	assert_string_equal(aws_profile_section_value(&s, "region"), "eu-central-1");
	assert_string_equal(aws_profile_section_value(&s, "output"), "json");
	assert_string_equal(aws_profile_section_value(&s, "role_arn"), "arn:aws:iam::1:role/x");
	assert_string_equal(aws_profile_section_value(&s, "empty"), "");
	assert_null(aws_profile_section_value(&s, "Region"));
	section_release(&s);
}

/* s3 = then indented settings: kept as "s3.x", never taken for the profile's own. */
static void test_ini_nested_sections(void **state)
{
	struct aws_profile_section s;

	(void)state;
	parse_section(&s,
		      "[default]\n"
		      "s3 =\n"
		      "  max_concurrent_requests = 10\n"
		      "  region = not-this\n"
		      "\n"
		      "  addressing_style = path\n"
		      "region = us-east-2\n"
		      "description = first line\n"
		      "   second line\n",
		      1, "default");
	assert_string_equal(aws_profile_section_value(&s, "region"), "us-east-2");
	assert_string_equal(aws_profile_section_value(&s, "s3.max_concurrent_requests"), "10");
	assert_string_equal(aws_profile_section_value(&s, "s3.region"), "not-this");
	assert_string_equal(aws_profile_section_value(&s, "s3.addressing_style"), "path");
	assert_string_equal(aws_profile_section_value(&s, "s3"), "");
	/* configparser's multi-line value */
	assert_string_equal(aws_profile_section_value(&s, "description"),
			    "first line\nsecond line");
	assert_null(aws_profile_section_value(&s, "max_concurrent_requests"));
	section_release(&s);
}

/* Config files say [profile NAME]; credentials files say [NAME]. */
static void test_ini_section_names(void **state)
{
	struct aws_profile_section s;
	struct strvec names = STRVEC_INIT;

	(void)state;
	/* In the config file, [dev] is not the profile dev. */
	parse_section(&s, "[dev]\nregion = a\n", 1, "dev");
	assert_false(s.found);
	assert_null(aws_profile_section_value(&s, "region"));
	section_release(&s);
	/* ... and in the credentials file, [profile dev] is not either. */
	parse_section(&s, "[profile dev]\naws_access_key_id = a\n", 0, "dev");
	assert_false(s.found);
	section_release(&s);
	parse_section(&s, "[profile   \"my dev\"]\nregion = b\n", 1, "my dev");
	assert_string_equal(aws_profile_section_value(&s, "region"), "b");
	section_release(&s);
	/* [profile default] is the default profile too; sso-session is no profile. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(aws_profile_parse(&s, &names,
					   "[profile default]\nregion = c\n[sso-session corp]\n"
					   "sso_region = x\n[profile dev]\n[profile dev]\n",
					   "f", 1, "default"),
			 0);
	assert_string_equal(aws_profile_section_value(&s, "region"), "c");
	assert_null(aws_profile_section_value(&s, "sso_region"));
	assert_int_equal(names.nr, 2);
	assert_string_equal(names.v[0], "default");
	assert_string_equal(names.v[1], "dev");
	section_release(&s);
	strvec_clear(&names);
}

static void assert_parse_error(const char *text, const char *msg)
{
	struct aws_profile_section s = { 0 };

	assert_int_equal(aws_profile_parse(&s, NULL, text, "creds", 0, "default"), -1);
	assert_string_equal(err_msg(), msg);
	section_release(&s);
}

/* Broken lines name the line; never its text, which may be a secret. */
static void test_ini_errors(void **state)
{
	(void)state;
	assert_parse_error("[default]\naws_access_key_id = A\nsEcReT/kEy\n",
			   "cannot read 'creds': line 3: expected 'name = value'");
	assert_parse_error("region = us-east-1\n",
			   "cannot read 'creds': line 1: setting before any [section]");
	assert_parse_error("\n[default\n",
			   "cannot read 'creds': line 2: section header without ']'");
	assert_parse_error("[default]\n = value\n",
			   "cannot read 'creds': line 2: expected 'name = value'");
}

/* Both files: credentials file keys win; a missing file is an empty one. */
static void test_profile_both_files(void **state)
{
	struct aws_profile p;
	char *config = path_in_tmp("config"), *creds = path_in_tmp("credentials");
	char *none = path_in_tmp("none");

	(void)state;
	write_tmp("config", "[profile dev]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n");
	write_tmp("credentials", "[dev]\naws_access_key_id = FROMCREDS\n");
	assert_int_equal(aws_profile_load(&p, config, creds, "dev"), 0);
	assert_true(aws_profile_exists(&p));
	assert_string_equal(aws_profile_value(&p, "aws_access_key_id"), "FROMCREDS");
	assert_string_equal(aws_profile_value(&p, "region"), "eu-west-1");
	aws_profile_release(&p);
	assert_int_equal(aws_profile_load(&p, none, none, "dev"), 0);
	assert_false(aws_profile_exists(&p));
	aws_profile_release(&p);
	free(config);
	free(creds);
	free(none);
}

static void test_settings_profile(void **state)
{
	struct aws_settings s;
	struct config cfg;
	char *path;

	(void)state;
	assert_int_equal(aws_settings_load(&s, NULL), 0);
	assert_string_equal(s.profile, "default");
	assert_null(s.profile_source);
	path = path_in_tmp("config");
	assert_string_equal(s.config_file, path);
	free(path);
	aws_settings_release(&s);

	setenv("AWS_PROFILE", "env-profile", 1);
	assert_int_equal(aws_settings_load(&s, NULL), 0);
	assert_string_equal(s.profile, "env-profile");
	assert_string_equal(s.profile_source, "AWS_PROFILE");
	aws_settings_release(&s);

	config_with(&cfg, "'train.profile'='git-profile'");
	assert_int_equal(aws_settings_load(&s, &cfg), 0);
	assert_string_equal(s.profile, "git-profile");
	assert_string_equal(s.profile_source, "train.profile");
	aws_settings_release(&s);
	config_release(&cfg);

	/* Without AWS_*_FILE, the files are under ~/.aws. */
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	assert_int_equal(aws_settings_load(&s, NULL), 0);
	path = path_in_tmp(".aws/credentials");
	assert_string_equal(s.credentials_file, path);
	free(path);
	aws_settings_release(&s);
}

static void assert_region(const struct config *cfg, const char *region, const char *source)
{
	struct aws_settings s;

	assert_int_equal(aws_settings_load(&s, cfg), 0);
	if (!region) {
		assert_null(s.region);
	} else {
		assert_string_equal(s.region, region);
		assert_string_equal(s.region_source, source);
	}
	aws_settings_release(&s);
}

static void test_settings_region_precedence(void **state)
{
	struct config cfg;

	(void)state;
	assert_region(NULL, NULL, NULL);
	write_tmp("config", "[default]\nregion = eu-north-1\n[profile dev]\nregion = sa-east-1\n");
	assert_region(NULL, "eu-north-1", "profile 'default'");
	setenv("AWS_PROFILE", "dev", 1);
	assert_region(NULL, "sa-east-1", "profile 'dev'");
	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	assert_region(NULL, "us-west-1", "AWS_DEFAULT_REGION");
	setenv("AWS_REGION", "us-west-2", 1);
	assert_region(NULL, "us-west-2", "AWS_REGION");
	config_with(&cfg, "'train.region'='ap-northeast-1'");
	assert_region(&cfg, "ap-northeast-1", "train.region");
	config_release(&cfg);
}

static void test_settings_bad_values(void **state)
{
	struct aws_settings s;
	struct config cfg;

	(void)state;
	setenv("AWS_REGION", "us-east-1/../evil", 1);
	assert_int_equal(aws_settings_load(&s, NULL), -1);
	assert_string_equal(err_msg(), "bad AWS region 'us-east-1/../evil' in AWS_REGION");
	unsetenv("AWS_REGION");
	config_with(&cfg, "'train.endpointUrl'='localhost:4566'");
	assert_int_equal(aws_settings_load(&s, &cfg), -1);
	assert_string_equal(err_msg(), "bad endpoint URL 'localhost:4566' in train.endpointUrl: "
				       "expected http:// or https://");
	config_release(&cfg);
	write_tmp("config", "[default]\nregion\n");
	assert_int_equal(aws_settings_load(&s, NULL), -1);
	assert_non_null(strstr(err_msg(), "config': line 2: expected 'name = value'"));
}

static void assert_endpoint(const struct aws_settings *s, const char *service, const char *region,
			    const char *url, int custom)
{
	int c = -1;
	char *got = aws_settings_endpoint_url(s, service, region, &c);

	assert_string_equal(got, url);
	assert_int_equal(c, custom);
	free(got);
}

static void test_endpoint_defaults(void **state)
{
	struct aws_settings s;

	(void)state;
	setenv("AWS_REGION", "eu-west-3", 1);
	assert_int_equal(aws_settings_load(&s, NULL), 0);
	assert_endpoint(&s, "s3", NULL, "https://s3.eu-west-3.amazonaws.com", 0);
	assert_endpoint(&s, "ec2", "us-east-2", "https://ec2.us-east-2.amazonaws.com", 0);
	assert_endpoint(&s, "ssm", NULL, "https://ssm.eu-west-3.amazonaws.com", 0);
	assert_endpoint(&s, "sts", NULL, "https://sts.eu-west-3.amazonaws.com", 0);
	assert_endpoint(&s, "iam", NULL, "https://iam.amazonaws.com", 0);
	assert_endpoint(&s, "pricing", NULL, "https://api.pricing.us-east-1.amazonaws.com", 0);
	assert_endpoint(&s, "ec2", "cn-north-1", "https://ec2.cn-north-1.amazonaws.com.cn", 0);
	aws_settings_release(&s);
}

static void test_endpoint_precedence(void **state)
{
	struct aws_settings s;
	struct config cfg;

	(void)state;
	write_tmp("config", "[default]\nendpoint_url = http://profile:1/\n");
	assert_int_equal(aws_settings_load(&s, NULL), 0);
	assert_endpoint(&s, "sts", "us-east-1", "http://profile:1", 1);
	aws_settings_release(&s);

	setenv("AWS_ENDPOINT_URL", "http://global:2//", 1);
	assert_int_equal(aws_settings_load(&s, NULL), 0);
	assert_endpoint(&s, "sts", "us-east-1", "http://global:2", 1);
	aws_settings_release(&s);

	config_with(&cfg, "'train.endpointUrl'='http://git:3'");
	assert_int_equal(aws_settings_load(&s, &cfg), 0);
	assert_endpoint(&s, "sts", "us-east-1", "http://git:3", 1);
	setenv("AWS_ENDPOINT_URL_S3", "http://s3only:4/", 1);
	assert_endpoint(&s, "s3", "us-east-1", "http://s3only:4", 1);
	assert_endpoint(&s, "ec2", "us-east-1", "http://git:3", 1);
	aws_settings_release(&s);
	config_release(&cfg);

	/* The CLI's switch ignores the standard variables and the profile, not ours. */
	unsetenv("AWS_ENDPOINT_URL_S3");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	assert_int_equal(aws_settings_load(&s, NULL), 0);
	assert_endpoint(&s, "s3", "us-east-1", "https://s3.us-east-1.amazonaws.com", 0);
	aws_settings_release(&s);
}

static void resolve_ok(struct aws_credentials *out, const struct config *cfg)
{
	struct aws_settings s;

	assert_int_equal(aws_settings_load(&s, cfg), 0);
	if (aws_creds_resolve(out, NULL, &s))
		fail_msg("resolve failed: %s", err_msg());
	aws_settings_release(&s);
}

static void resolve_fails(const struct config *cfg, const char *msg)
{
	struct aws_settings s;
	struct aws_credentials c;

	assert_int_equal(aws_settings_load(&s, cfg), 0);
	assert_int_equal(aws_creds_resolve(&c, NULL, &s), -1);
	assert_string_equal(err_msg(), msg);
	assert_null(c.access_key_id);
	assert_null(c.secret_access_key);
	aws_settings_release(&s);
}

static void test_creds_environment(void **state)
{
	struct aws_credentials c;

	(void)state;
	write_tmp("credentials", "[default]\naws_access_key_id = PROFILEKEY\n"
				 "aws_secret_access_key = profilesecret\n");
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	resolve_ok(&c, NULL);
	assert_string_equal(c.access_key_id, "ENVKEY");
	assert_string_equal(c.secret_access_key, "envsecret");
	assert_string_equal(c.session_token, "envtoken");
	assert_string_equal(c.source, "environment");
	assert_int_equal(c.expiration, 0);
	aws_creds_release(&c);
	assert_null(c.secret_access_key);

	unsetenv("AWS_SECRET_ACCESS_KEY");
	resolve_fails(NULL, "incomplete AWS credentials in the environment: AWS_ACCESS_KEY_ID is "
			    "set but AWS_SECRET_ACCESS_KEY is not");
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	resolve_fails(NULL, "incomplete AWS credentials in the environment: AWS_SECRET_ACCESS_KEY "
			    "is set but AWS_ACCESS_KEY_ID is not");
}

/* train.profile is like the CLI's --profile: the environment's keys do not count. */
static void test_creds_train_profile_over_env(void **state)
{
	struct aws_credentials c;
	struct config cfg;

	(void)state;
	write_tmp("credentials", "[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = s\n");
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	config_with(&cfg, "'train.profile'='dev'");
	resolve_ok(&c, &cfg);
	assert_string_equal(c.access_key_id, "DEVKEY");
	aws_creds_release(&c);
	config_release(&cfg);
	/* AWS_PROFILE is not: environment keys still win, as in the CLI. */
	setenv("AWS_PROFILE", "dev", 1);
	resolve_ok(&c, NULL);
	assert_string_equal(c.access_key_id, "ENVKEY");
	aws_creds_release(&c);
}

static void test_creds_profile_files(void **state)
{
	struct aws_credentials c;
	char *expect;

	(void)state;
	write_tmp("config", "[default]\naws_access_key_id = CONFIGKEY\n"
			    "aws_secret_access_key = configsecret\n"
			    "[profile only-config]\naws_access_key_id = ONLYCONFIG\n"
			    "aws_secret_access_key = s\naws_session_token = tok\n");
	write_tmp("credentials", "[default]\naws_access_key_id = CREDSKEY\n"
				 "aws_secret_access_key = credssecret\n"
				 "[half]\naws_access_key_id = HALF\n");
	resolve_ok(&c, NULL);
	assert_string_equal(c.access_key_id, "CREDSKEY");
	assert_string_equal(c.secret_access_key, "credssecret");
	assert_null(c.session_token);
	expect = xstrfmt("profile 'default' in '%s/credentials'", tmpdir);
	assert_string_equal(c.source, expect);
	free(expect);
	aws_creds_release(&c);

	setenv("AWS_PROFILE", "only-config", 1);
	resolve_ok(&c, NULL);
	assert_string_equal(c.access_key_id, "ONLYCONFIG");
	assert_string_equal(c.session_token, "tok");
	aws_creds_release(&c);

	setenv("AWS_PROFILE", "half", 1);
	expect = xstrfmt("incomplete AWS credentials in profile 'half' in '%s/credentials': "
			 "aws_access_key_id is set but aws_secret_access_key is not",
			 tmpdir);
	resolve_fails(NULL, expect);
	free(expect);
}

static void test_creds_missing_profile(void **state)
{
	char *expect;

	(void)state;
	write_tmp("credentials", "[develop]\naws_access_key_id = A\naws_secret_access_key = s\n");
	setenv("AWS_PROFILE", "devel", 1);
	expect = xstrfmt("AWS profile 'devel' (from AWS_PROFILE) not found in '%s/config' or "
			 "'%s/credentials'",
			 tmpdir, tmpdir);
	resolve_fails(NULL, expect);
	free(expect);
	/* The default profile may be absent: that is just one source fewer. */
	unsetenv("AWS_PROFILE");
	resolve_fails(NULL, "no AWS credentials found");
}

static void test_creds_process(void **state)
{
	struct aws_credentials c;
	time_t exp;

	(void)state;
	write_tmp("config",
		  "[default]\n"
		  "credential_process = printf '{\"Version\": 1, \"AccessKeyId\": \"PROC\", "
		  "\"SecretAccessKey\": \"procsecret\", \"SessionToken\": \"proctok\", "
		  "\"Expiration\": \"2999-01-02T03:04:05Z\"}'\n"
		  "[profile fails]\ncredential_process = echo '{\"Version\": 1}'; exit 7\n"
		  "[profile v2]\ncredential_process = echo '{\"Version\": 2}'\n"
		  "[profile expired]\ncredential_process = echo '{\"Version\": 1, \"AccessKeyId\": "
		  "\"A\", \"SecretAccessKey\": \"s\", \"Expiration\": \"2001-01-01T00:00:00Z\"}'\n"
		  "[profile nokey]\ncredential_process = echo '{\"Version\": 1, "
		  "\"SecretAccessKey\": \"s\"}'\n");
	resolve_ok(&c, NULL);
	assert_string_equal(c.access_key_id, "PROC");
	assert_string_equal(c.secret_access_key, "procsecret");
	assert_string_equal(c.session_token, "proctok");
	assert_int_equal(time_parse_iso8601(&exp, "2999-01-02T03:04:05Z"), 0);
	assert_true(c.expiration == exp);
	assert_string_equal(c.source, "the credential_process of AWS profile 'default'");
	aws_creds_release(&c);

	setenv("AWS_PROFILE", "fails", 1);
	resolve_fails(NULL,
		      "the credential_process of AWS profile 'fails' failed with exit code 7");
	setenv("AWS_PROFILE", "v2", 1);
	resolve_fails(NULL, "the credential_process of AWS profile 'v2' printed an unsupported "
			    "Version (git-train, like the AWS CLI, reads Version 1)");
	setenv("AWS_PROFILE", "expired", 1);
	resolve_fails(NULL, "the credential_process of AWS profile 'expired' returned credentials "
			    "that have already expired");
	setenv("AWS_PROFILE", "nokey", 1);
	resolve_fails(NULL, "credential_process of AWS profile 'nokey': no AccessKeyId");
}

/* What needs STS fails clearly without a client; MFA cannot be asked for. */
static void test_creds_role_errors(void **state)
{
	(void)state;
	write_tmp("config",
		  "[profile r]\nrole_arn = arn:aws:iam::1:role/x\n"
		  "[profile src]\nrole_arn = arn:aws:iam::1:role/y\nsource_profile = gone\n"
		  "[profile mfa]\nrole_arn = arn:aws:iam::1:role/x\nmfa_serial = arn:m\n"
		  "source_profile = r\n"
		  "[profile keys]\naws_access_key_id = K\naws_secret_access_key = s\n"
		  "[profile viakeys]\nrole_arn = arn:aws:iam::1:role/z\n"
		  "source_profile = keys\nduration_seconds = 99\n");
	setenv("AWS_PROFILE", "r", 1);
	resolve_fails(NULL, "AWS profile 'r' has role_arn but neither source_profile nor "
			    "credential_source");
	setenv("AWS_PROFILE", "src", 1);
	resolve_fails(NULL, "AWS profile 'src' names source_profile 'gone', which does not exist");
	setenv("AWS_PROFILE", "mfa", 1);
	resolve_fails(NULL, "AWS profile 'mfa' needs an MFA code to assume its role, and "
			    "git-train cannot ask for one");
	setenv("AWS_PROFILE", "viakeys", 1);
	resolve_fails(NULL, "bad duration_seconds '99' in AWS profile 'viakeys': expected 900 to "
			    "43200");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ini_basics),
		T(test_ini_nested_sections),
		T(test_ini_section_names),
		T(test_ini_errors),
		T(test_profile_both_files),
		T(test_settings_profile),
		T(test_settings_region_precedence),
		T(test_settings_bad_values),
		T(test_endpoint_defaults),
		T(test_endpoint_precedence),
		T(test_creds_environment),
		T(test_creds_train_profile_over_env),
		T(test_creds_profile_files),
		T(test_creds_missing_profile),
		T(test_creds_process),
		T(test_creds_role_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
