/*
 * pricing: what an instance costs per hour, so that the user sees it before
 * anything is launched, and so that a fallback to on-demand is never silent.
 *
 * Spot: ec2_spot_price() (DescribeSpotPriceHistory, lowest over the zones).
 * On-demand: the Price List API (pricing:GetProducts; its endpoint is in
 * us-east-1 whatever the region; filters instanceType, regionCode,
 * operatingSystem=Linux, tenancy=Shared, preInstalledSw=NA,
 * capacitystatus=Used; each PriceList entry is itself a JSON string whose
 * terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD is the price).
 *
 * Quotes are cached in <git dir>/train/prices.json for PRICING_CACHE_SECONDS,
 * keyed by region and type. The cache only saves requests: it may be
 * deleted at any time, and an unreadable one is ignored.
 */
#ifndef PRICING_H
#define PRICING_H

#include "aws.h"

#define PRICING_CACHE_SECONDS 600

struct price_quote {
	double spot;	  /* USD/h; < 0 when unknown */
	char *spot_az;	  /* the zone of the lowest spot price; NULL when unknown */
	double on_demand; /* USD/h; < 0 when unknown */
};

/* pricing:GetProducts for type in region. 0, 1 when the type has no price there, or -1. */
int pricing_on_demand(double *out, struct aws_client *c, const char *region, const char *type);

/*
 * Both prices, from the cache under git_dir (may be NULL: no cache) or the
 * APIs. A price that cannot be had is < 0 and its reason is appended to
 * warnings (one line each): a quote is information, never a reason to fail.
 * Always 0.
 */
int pricing_quote(struct price_quote *out, struct buf *warnings, struct aws_client *c,
		  const char *git_dir, const char *region, const char *type);
void price_quote_release(struct price_quote *q);

/* "$0.0104/h", "$1.006/h": at least 4 significant digits, as the AWS price list shows them. */
void pricing_format(struct buf *out, double usd_per_hour);

#endif
