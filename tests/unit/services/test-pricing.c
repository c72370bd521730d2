/*
 * Unit tests for pricing: GetProducts responses as the Price List API sends
 * them (each PriceList entry a JSON document in a string), the price format,
 * and the cache (fresh, stale, partial, corrupt, unwritable) in a temporary
 * git dir. The one test that reaches pricing_quote's API path sends to a
 * closed loopback port, never further.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "services/pricing.h"
#include "util/util.h"

/* t3.micro in us-east-1, trimmed: the shape and the strings of the real thing. */
#define T3_MICRO                                                                                   \
	"{\\\"product\\\":{\\\"productFamily\\\":\\\"Compute Instance\\\",\\\"attributes\\\":{"    \
	"\\\"instanceType\\\":\\\"t3.micro\\\",\\\"regionCode\\\":\\\"us-east-1\\\","              \
	"\\\"operatingSystem\\\":\\\"Linux\\\",\\\"tenancy\\\":\\\"Shared\\\","                    \
	"\\\"preInstalledSw\\\":\\\"NA\\\",\\\"capacitystatus\\\":\\\"Used\\\"},"                  \
	"\\\"sku\\\":\\\"PDY52X9T9DZY9CT5\\\"},\\\"serviceCode\\\":\\\"AmazonEC2\\\","             \
	"\\\"terms\\\":{\\\"OnDemand\\\":{\\\"PDY52X9T9DZY9CT5.JRTCKXETXF\\\":{"                   \
	"\\\"priceDimensions\\\":{\\\"PDY52X9T9DZY9CT5.JRTCKXETXF.6YS6EN2CT7\\\":{"                \
	"\\\"unit\\\":\\\"Hrs\\\",\\\"endRange\\\":\\\"Inf\\\",\\\"description\\\":"               \
	"\\\"$0.0104 per On Demand Linux t3.micro Instance Hour\\\",\\\"appliesTo\\\":[],"         \
	"\\\"rateCode\\\":\\\"PDY52X9T9DZY9CT5.JRTCKXETXF.6YS6EN2CT7\\\",\\\"beginRange\\\":"      \
	"\\\"0\\\",\\\"pricePerUnit\\\":{\\\"USD\\\":\\\"0.0104000000\\\"}}},"                     \
	"\\\"sku\\\":\\\"PDY52X9T9DZY9CT5\\\",\\\"effectiveDate\\\":\\\"2024-02-01T00:00:00Z\\\"," \
	"\\\"offerTermCode\\\":\\\"JRTCKXETXF\\\",\\\"termAttributes\\\":{}}},"                    \
	"\\\"Reserved\\\":{\\\"PDY52X9T9DZY9CT5.4NA7Y494T4\\\":{\\\"priceDimensions\\\":{"         \
	"\\\"PDY52X9T9DZY9CT5.4NA7Y494T4.6YS6EN2CT7\\\":{\\\"unit\\\":\\\"Hrs\\\","                \
	"\\\"pricePerUnit\\\":{\\\"USD\\\":\\\"0.0065000000\\\"}}}}}},"                            \
	"\\\"version\\\":\\\"20240213002516\\\",\\\"publicationDate\\\":\\\"2024-02-13T00:25:"     \
	"16Z\\\"}"

/* An on-demand $0 dimension (a capacity reservation's) is no price. */
#define PLACEHOLDER                                                                                \
	"{\\\"product\\\":{\\\"sku\\\":\\\"X\\\"},\\\"terms\\\":{\\\"OnDemand\\\":{\\\"X.J\\\":{"  \
	"\\\"priceDimensions\\\":{\\\"X.J.6\\\":{\\\"pricePerUnit\\\":{\\\"USD\\\":"               \
	"\\\"0.0000000000\\\"}}}}}}}"

static const char products[] = "{\"FormatVersion\":\"aws_v1\",\"NextToken\":\"page-2\","
			       "\"PriceList\":[\"" PLACEHOLDER "\",\"" T3_MICRO "\"]}";

static void test_parse_products(void **state)
{
	char *token = NULL;
	double price = -1;

	(void)state;
	assert_int_equal(pricing_parse_products(&price, &token, products, strlen(products)), 0);
	assert_string_equal(token, "page-2");
	free(token);
	assert_true(price > 0.010399 && price < 0.010401); /* on-demand, not the reserved rate */
	/* a lower price than one already seen is not replaced by a higher one */
	price = 0.005;
	assert_int_equal(pricing_parse_products(&price, NULL, products, strlen(products)), 0);
	assert_true(price == 0.005);
}

static void test_parse_no_products(void **state)
{
	static const char none[] = "{\"FormatVersion\":\"aws_v1\",\"PriceList\":[]}";
	static const char only_zero[] = "{\"PriceList\":[\"" PLACEHOLDER "\"],\"NextToken\":\"\"}";
	char *token = (char *)"unset";
	double price = -1;

	(void)state;
	assert_int_equal(pricing_parse_products(&price, &token, none, strlen(none)), 0);
	assert_null(token);
	assert_true(price < 0);
	assert_int_equal(pricing_parse_products(&price, &token, only_zero, strlen(only_zero)), 0);
	assert_null(token);
	assert_true(price < 0);
}

static void test_parse_malformed(void **state)
{
	static const char bad_entry[] = "{\"PriceList\":[\"{not json\"]}";
	double price = -1;

	(void)state;
	assert_int_equal(pricing_parse_products(&price, NULL, "<html>", 6), -1);
	assert_int_equal(pricing_parse_products(&price, NULL, bad_entry, strlen(bad_entry)), -1);
	assert_non_null(strstr(err_msg(), "PriceList"));
	err_clear();
}

static void check_format(double v, const char *want)
{
	struct buf b = BUF_INIT;

	pricing_format(&b, v);
	assert_string_equal(buf_cstr(&b), want);
	buf_release(&b);
}

static void test_format(void **state)
{
	(void)state;
	check_format(0.0104, "$0.0104/h");
	check_format(1.006, "$1.006/h");
	check_format(0.096, "$0.096/h");
	check_format(0.302, "$0.302/h");
	check_format(32.7726, "$32.77/h");
	check_format(1.5, "$1.50/h");
	check_format(2, "$2.00/h");
	check_format(0.00001, "$0.00001/h");
	check_format(0.0031234, "$0.003123/h");
	check_format(1234.5, "$1234.50/h");
	check_format(0, "$0.00/h");
	check_format(-1, "unknown");
}

static char *temp_git_dir(void)
{
	char tmpl[] = "/tmp/test-pricing.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void write_cache(const char *git_dir, const char *data)
{
	char *dir = xstrfmt("%s/train", git_dir), *path = xstrfmt("%s/train/prices.json", git_dir);
	FILE *f;

	assert_int_equal(mkdir_p(dir, 0777), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
	free(dir);
	free(path);
}

static const struct pricing_quote full = { 0.0031, (char *)"us-east-1b", 0.0104 };
#define T0 ((time_t)1700000000)

static void test_cache_fresh_and_stale(void **state)
{
	char *git_dir = temp_git_dir();
	struct pricing_quote q;

	(void)state;
	assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro", T0), 1);
	pricing_cache_put(git_dir, "us-east-1", "t3.micro", &full, T0);
	assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro", T0 + 10), 0);
	assert_true(q.spot == 0.0031 && q.on_demand == 0.0104);
	assert_string_equal(q.spot_az, "us-east-1b");
	pricing_quote_release(&q);
	/* keyed by region and type */
	assert_int_equal(pricing_cache_get(&q, git_dir, "eu-west-1", "t3.micro", T0 + 10), 1);
	assert_true(q.spot < 0 && q.on_demand < 0 && !q.spot_az);
	assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.small", T0 + 10), 1);
	/* stale after PRICING_CACHE_SECONDS, and from the future (a clock set back) */
	assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro",
					   T0 + PRICING_CACHE_SECONDS - 1),
			 0);
	pricing_quote_release(&q);
	assert_int_equal(
		pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro", T0 + PRICING_CACHE_SECONDS),
		1);
	assert_true(q.spot < 0 && q.on_demand < 0);
	assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro", T0 - 60), 1);
	assert_int_equal(remove_tree(git_dir), 0);
	free(git_dir);
}

static void test_cache_partial(void **state)
{
	struct pricing_quote on_demand_only = { -1, NULL, 0.0208 }, q;
	char *git_dir = temp_git_dir();
	char *path = xstrfmt("%s/train/prices.json", git_dir);
	struct buf data = BUF_INIT;
	cJSON *doc;

	(void)state;
	pricing_cache_put(git_dir, "us-east-1", "t3.micro", &full, T0);
	pricing_cache_put(git_dir, "us-east-1", "t3.small", &full, T0);
	/* later, only the on-demand price of t3.micro was had anew */
	pricing_cache_put(git_dir, "us-east-1", "t3.micro", &on_demand_only,
			  T0 + PRICING_CACHE_SECONDS + 5);
	assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro",
					   T0 + PRICING_CACHE_SECONDS + 6),
			 1);
	assert_true(q.spot < 0 && !q.spot_az);
	assert_true(q.on_demand == 0.0208);
	/* the file keeps only what can still be used: t3.small is gone */
	assert_int_equal(read_file(&data, path), 0);
	doc = cJSON_Parse(buf_cstr(&data));
	assert_non_null(doc);
	assert_int_equal(cJSON_GetArraySize(doc), 1);
	assert_non_null(cJSON_GetObjectItem(doc, "us-east-1/t3.micro"));
	cJSON_Delete(doc);
	buf_release(&data);
	assert_int_equal(remove_tree(git_dir), 0);
	free(path);
	free(git_dir);
}

static void test_cache_corrupt(void **state)
{
	static const char *const bad[] = {
		"{not json",
		"[1, 2]",
		"{\"us-east-1/t3.micro\": 3}",
		"{\"us-east-1/t3.micro\": {\"spot\": {\"usd\": \"0.1\", \"time\": 1700000000},"
		" \"on_demand\": {\"usd\": 0.2}}}",
	};
	char *git_dir = temp_git_dir();
	struct pricing_quote q;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		write_cache(git_dir, bad[i]);
		assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro", T0), 1);
		assert_true(q.spot < 0 && q.on_demand < 0);
		/* and it is replaced by a good one */
		pricing_cache_put(git_dir, "us-east-1", "t3.micro", &full, T0);
		assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro", T0), 0);
		pricing_quote_release(&q);
	}
	assert_string_equal(err_msg(), "");
	assert_int_equal(remove_tree(git_dir), 0);
	free(git_dir);
}

static void test_cache_unwritable(void **state)
{
	char *git_dir = temp_git_dir();
	char *path = xstrfmt("%s/train/prices.json", git_dir);
	struct pricing_quote q;

	(void)state;
	assert_int_equal(mkdir_p(path, 0777), 0); /* a directory where the file would go */
	pricing_cache_put(git_dir, "us-east-1", "t3.micro", &full, T0);
	assert_string_equal(err_msg(), "");
	assert_int_equal(pricing_cache_get(&q, git_dir, "us-east-1", "t3.micro", T0), 1);
	assert_int_equal(remove_tree(git_dir), 0);
	free(path);
	free(git_dir);
}

/* A loopback port nothing listens on: any request fails at once, locally. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void test_quote(void **state)
{
	char *git_dir = temp_git_dir(), *endpoint = xstrfmt("http://127.0.0.1:%d", closed_port());
	struct buf warnings = BUF_INIT;
	struct aws_client c;
	struct pricing_quote q;

	(void)state;
	setenv("AWS_ENDPOINT_URL", endpoint, 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "unit-test", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	unsetenv("AWS_PROFILE");
	assert_int_equal(aws_client_init(&c, NULL), 0);

	/* fresh: from the cache, no request */
	pricing_cache_put(git_dir, "us-east-1", "t3.micro", &full, time(NULL));
	assert_int_equal(pricing_quote(&q, &warnings, &c, git_dir, "us-east-1", "t3.micro"), 0);
	assert_true(q.spot == 0.0031 && q.on_demand == 0.0104);
	assert_string_equal(q.spot_az, "us-east-1b");
	assert_string_equal(buf_cstr(&warnings), "");
	pricing_quote_release(&q);

	/* stale: asked again; failures are warnings and unknown prices, never an error */
	pricing_cache_put(git_dir, "us-east-1", "t3.micro", &full, time(NULL) - 3600);
	assert_int_equal(pricing_quote(&q, &warnings, &c, git_dir, "us-east-1", "t3.micro"), 0);
	assert_true(q.spot < 0 && q.on_demand < 0 && !q.spot_az);
	assert_non_null(strstr(buf_cstr(&warnings),
			       "cannot get the spot price of t3.micro in us-east-1: "));
	assert_non_null(strstr(buf_cstr(&warnings),
			       "\ncannot get the on-demand price of t3.micro in us-east-1: "));
	assert_string_equal(err_msg(), "");
	pricing_quote_release(&q);

	aws_client_release(&c);
	buf_release(&warnings);
	assert_int_equal(remove_tree(git_dir), 0);
	free(git_dir);
	free(endpoint);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_products),
		cmocka_unit_test(test_parse_no_products),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_cache_fresh_and_stale),
		cmocka_unit_test(test_cache_partial),
		cmocka_unit_test(test_cache_corrupt),
		cmocka_unit_test(test_cache_unwritable),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
