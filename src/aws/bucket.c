/* aws/bucket: virtual-hosted or path-style addressing of S3 buckets. See bucket.h. */
#include "aws/bucket.h"

#include <string.h>
#include <strings.h>

#include "util/util.h"

static int is_lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* One host label of bucket, [start, end): 1 to 63 of [a-z0-9-], no '-' at either end. */
static int label_ok(const char *start, const char *end)
{
	const char *p;

	if (end <= start || end - start > 63 || start[0] == '-' || end[-1] == '-')
		return 0;
	for (p = start; p < end; p++)
		if (!is_lower_alnum(*p) && *p != '-')
			return 0;
	return 1;
}

/* Four dot-separated groups of 1 to 3 digits, as botocore's IPV4_RE. */
static int looks_like_ipv4(const char *s, size_t len)
{
	size_t i, digits = 0;
	int groups = 1;

	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 3)
				return 0;
		} else if (s[i] == '.' && digits) {
			groups++;
			digits = 0;
		} else {
			return 0;
		}
	}
	return groups == 4 && digits;
}

int aws_bucket_hostable(const char *bucket, int allow_dots)
{
	size_t len = strlen(bucket);
	const char *p = bucket, *dot;

	if (len < 3 || len > 63 || looks_like_ipv4(bucket, len))
		return 0;
	if (!allow_dots)
		return label_ok(bucket, bucket + len);
	for (;;) {
		dot = strchr(p, '.');
		if (!label_ok(p, dot ? dot : bucket + len))
			return 0;
		if (!dot)
			return 1;
		p = dot + 1;
	}
}

/* The endpoint's host is an IP address (IPv4, or IPv6 in brackets). */
static int host_is_ip(const char *endpoint)
{
	const char *host = strstr(endpoint, "://"), *end;

	host = host ? host + 3 : endpoint;
	if (*host == '[')
		return 1;
	end = host + strcspn(host, ":/?#");
	return looks_like_ipv4(host, (size_t)(end - host));
}

int aws_bucket_virtual_hosted(const char *bucket, const char *endpoint, int custom,
			      enum aws_s3_addressing style)
{
	if (style == AWS_S3_PATH || (style == AWS_S3_AUTO && custom))
		return 0;
	if (host_is_ip(endpoint))
		return 0;
	return aws_bucket_hostable(bucket, !strncasecmp(endpoint, "http://", 7));
}
