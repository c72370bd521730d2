/*
 * fuzz-ec2: EC2's XML responses (RunInstances / DescribeInstances,
 * DescribeAvailabilityZones, DescribeImages, DescribeSpotPriceHistory and
 * DescribeSpotInstanceRequests, both spot ones on the same input), the
 * parser picked by the input's first byte, then what they read is used as
 * the callers use it.
 */
#include "fuzz.h"

#include "services/ec2-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data + 1;
	size_t len = size - 1, nr = 0, i, k;

	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0: {
		struct ec2_instance *v = NULL;
		char *token = NULL;

		if (!ec2_parse_instances(&v, &nr, &token, xml, len)) {
			for (i = 0; i < nr; i++)
				for (k = 0; k < v[i].nr_tags; k++)
					FUZZ_CHECK(ec2_instance_tag(&v[i], v[i].tags[k].key),
						   "tag '%s' not found", v[i].tags[k].key);
		}
		ec2_instances_free(v, nr);
		free(token);
		break;
	}
	case 1: {
		struct strvec zones = STRVEC_INIT;

		(void)ec2_parse_zones(&zones, xml, len);
		strvec_clear(&zones);
		break;
	}
	case 2: {
		char *root = NULL;
		int gib = 0;

		(void)ec2_parse_root_device(&root, &gib, xml, len);
		free(root);
		break;
	}
	default: {
		struct ec2_spot_entry *v = NULL;
		char *token = NULL;
		const char *az;
		double price;

		if (!ec2_parse_spot_prices(&v, &nr, &token, xml, len) &&
		    !ec2_spot_lowest(&price, &az, v, nr))
			FUZZ_CHECK(price >= 0 && az, "a lowest price of %g", price);
		ec2_spot_entries_free(v, nr);
		free(token);
		token = NULL;
		nr = 0;
		err_clear();
		{
			struct ec2_spot_request *r = NULL;

			if (!ec2_parse_spot_requests(&r, &nr, &token, xml, len))
				for (i = 0; i < nr; i++)
					FUZZ_CHECK(r[i].id && *r[i].id, "a request without an id");
			ec2_spot_requests_free(r, nr);
			free(token);
		}
		break;
	}
	}
	err_clear();
	return 0;
}
