/*
 * aws/bucket: how an S3 request names its bucket, as the AWS CLI and SDKs do
 * (botocore's S3 endpoint rules).
 *
 * Virtual-hosted style (https://<bucket>.s3.<region>.amazonaws.com/<key>) is
 * the default; path-style (https://s3.<region>.amazonaws.com/<bucket>/<key>)
 * is used for a bucket name that cannot be a host name (see
 * aws_bucket_hostable()), for an endpoint that is an IP address, and when
 * told to: `addressing_style = path` in the profile's `s3 =` settings, or in
 * the default `auto` style a custom endpoint (AWS_ENDPOINT_URL[_S3],
 * train.endpointUrl, the profile's endpoint_url), since emulators and
 * S3-compatible stores rarely resolve bucket subdomains; `addressing_style =
 * virtual` addresses custom endpoints virtual-hosted too
 * (http://<bucket>.localhost:5000/<key>).
 *
 * Which region a bucket's requests go to (its endpoint and signature) is the
 * client's, until S3 says the bucket is elsewhere: see aws/client.h.
 */
#ifndef AWS_BUCKET_H
#define AWS_BUCKET_H

#include "aws/creds/settings.h"

/*
 * bucket can be the first label(s) of a host name: 3 to 63 characters, lower
 * case letters, digits and '-', neither first nor last, and not shaped like an
 * IPv4 address. allow_dots (plain http only: a dotted name breaks the TLS
 * wildcard certificate) also takes dots between such labels.
 */
int aws_bucket_hostable(const char *bucket, int allow_dots);

/*
 * Whether a request about bucket to endpoint ("scheme://host[:port][/path]",
 * custom or AWS's own) is virtual-hosted under the addressing style.
 */
int aws_bucket_virtual_hosted(const char *bucket, const char *endpoint, int custom,
			      enum aws_s3_addressing style);

#endif
