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
#ifndef SERVICES_PRICING_H
#define SERVICES_PRICING_H

#include <stddef.h>
#include <time.h>

#include "aws/client.h"

#define PRICING_CACHE_SECONDS 600

struct pricing_quote {
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
int pricing_quote(struct pricing_quote *out, struct buf *warnings, struct aws_client *c,
		  const char *git_dir, const char *region, const char *type);
void pricing_quote_release(struct pricing_quote *q);

/*
 * "$0.0104/h", "$1.006/h": at least 4 significant digits, as the AWS price list shows them.
 * A price < 0 is "unknown".
 */
void pricing_format(struct buf *out, double usd_per_hour);

/*
 * For tests. pricing_parse_products: one GetProducts page; *out becomes the
 * lowest positive on-demand price in it if that is lower than *out, or
 * stays (start with -1); *out_next_token is the page's NextToken (caller
 * frees; NULL on the last page). 0, or -1 with err_set.
 */
int pricing_parse_products(double *out, char **out_next_token, const char *json, size_t len);
/*
 * The cache: pricing_cache_get fills *out with the prices cached for region
 * and type that are fresh at now (the others < 0 / NULL); 0 when both were,
 * 1 otherwise. pricing_cache_put stores q's known prices as of now and drops
 * stale ones, atomically; it never fails (a cache that cannot be written is
 * no cache).
 */
int pricing_cache_get(struct pricing_quote *out, const char *git_dir, const char *region,
		      const char *type, time_t now);
void pricing_cache_put(const char *git_dir, const char *region, const char *type,
		       const struct pricing_quote *q, time_t now);

#endif
