/*
 * ec2-parse: reading EC2's XML responses into ec2.h's structures. Internal to
 * ec2.c, and here so that unit tests can feed it the documents of the EC2
 * API reference without a server.
 *
 * Each function takes one response body and returns 0, or -1 with err_set
 * (a malformed document, or one that lacks what every such response has).
 */
#ifndef SERVICES_EC2_PARSE_H
#define SERVICES_EC2_PARSE_H

#include <stddef.h>
#include <time.h>

#include "services/ec2.h"
#include "util/strvec.h"

/*
 * The instances of a RunInstances response (instancesSet/item) or of a
 * DescribeInstances page (reservationSet/item/instancesSet/item), appended
 * to *v / *nr. *out_next_token: the page's nextToken (caller frees), NULL on
 * the last page.
 */
int ec2_parse_instances(struct ec2_instance **v, size_t *nr, char **out_next_token, const char *xml,
			size_t len);

/* DescribeAvailabilityZones: the zones in state "available", appended, unsorted. */
int ec2_parse_zones(struct strvec *out, const char *xml, size_t len);

/*
 * DescribeImages for one AMI: its rootDeviceName (caller frees), NULL if it
 * names none, and the size in GiB of that device's volume in its
 * blockDeviceMapping (*out_gib, 0 when it says none).
 */
int ec2_parse_root_device(char **out, int *out_gib, const char *xml, size_t len);

struct ec2_spot_entry {
	char *az;
	double price; /* USD/h */
	time_t when;  /* 0 when unknown */
};

/* A DescribeSpotPriceHistory page, appended to *v / *nr; *out_next_token as above. */
int ec2_parse_spot_prices(struct ec2_spot_entry **v, size_t *nr, char **out_next_token,
			  const char *xml, size_t len);

/*
 * The lowest current price: the latest entry of each zone, then the lowest
 * of those (the first zone by name on a tie). 1 when there is none.
 * *out_az is borrowed from v.
 */
int ec2_spot_lowest(double *out, const char **out_az, const struct ec2_spot_entry *v, size_t nr);
void ec2_spot_entries_free(struct ec2_spot_entry *v, size_t nr);

/* A DescribeSpotInstanceRequests page, appended to *v / *nr; *out_next_token as above. */
int ec2_parse_spot_requests(struct ec2_spot_request **v, size_t *nr, char **out_next_token,
			    const char *xml, size_t len);

/*
 * A DescribePlacementGroups answer (set "placementGroupSet/item") or a
 * DescribeSecurityGroups page ("securityGroupInfo/item"), appended to
 * *v / *nr; *out_next_token as above.
 */
int ec2_parse_groups(struct ec2_group **v, size_t *nr, char **out_next_token, const char *set,
		     const char *xml, size_t len);

/* The text at path (e.g. "groupId", "vpcSet/item/vpcId") of a response; NULL when none. */
int ec2_parse_text(char **out, const char *path, const char *xml, size_t len);

#endif
