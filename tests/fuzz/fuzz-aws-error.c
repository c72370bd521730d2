/*
 * fuzz-aws-error: the body of an AWS error response, read as each protocol
 * reads it (XML for EC2, IAM, STS and S3; JSON for SSM and Pricing), with the
 * status from the input's first two bytes. An error always comes out with a
 * code and a message.
 */
#include "fuzz.h"

#include "aws/client.h"
#include "aws/http.h"
#include "aws/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum aws_protocol protocols[] = {
		AWS_PROTOCOL_QUERY,
		AWS_PROTOCOL_REST_XML,
		AWS_PROTOCOL_JSON,
	};
	struct http_response res;
	struct http_header region = { "x-amz-bucket-region", "eu-west-1" };
	struct aws_error e;
	size_t i;

	if (size < 2)
		return 0;
	memset(&res, 0, sizeof(res));
	res.status = 300 + (data[0] << 8 | data[1]) % 300;
	if (res.status == 301 || res.status == 307) {
		res.headers = &region;
		res.nr_headers = 1;
	}
	buf_add(&res.body, data + 2, size - 2);
	for (i = 0; i < ARRAY_SIZE(protocols); i++) {
		aws_error_parse(&e, &res, protocols[i], i == 1 && data[0] & 1 ? "HEAD" : "GET");
		FUZZ_CHECK(e.code && e.message && e.status == res.status,
			   "an error without a code");
		(void)aws_error_is_retryable(&e);
		(void)aws_error_may_be_clock_skew(&e);
		(void)aws_error_is_auth(&e);
		aws_error_release(&e);
	}
	buf_release(&res.body);
	return 0;
}
