#include "services/pricing.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services/ec2.h"

#define CACHE_FILE "train/prices.json"

static const char *const product_filters[][2] = {
	{ "operatingSystem", "Linux" },
	{ "tenancy", "Shared" },
	{ "preInstalledSw", "NA" },
	{ "capacitystatus", "Used" },
};

static void add_filter(cJSON *filters, const char *field, const char *value)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "Type", "TERM_MATCH");
	cJSON_AddStringToObject(f, "Field", field);
	cJSON_AddStringToObject(f, "Value", value);
	cJSON_AddItemToArray(filters, f);
}

static char *products_request(const char *region, const char *type, const char *token)
{
	cJSON *req = cJSON_CreateObject();
	cJSON *filters = cJSON_AddArrayToObject(req, "Filters");
	char *json;
	size_t i;

	cJSON_AddStringToObject(req, "ServiceCode", "AmazonEC2");
	cJSON_AddStringToObject(req, "FormatVersion", "aws_v1");
	cJSON_AddNumberToObject(req, "MaxResults", 100);
	add_filter(filters, "instanceType", type);
	add_filter(filters, "regionCode", region);
	for (i = 0; i < ARRAY_SIZE(product_filters); i++)
		add_filter(filters, product_filters[i][0], product_filters[i][1]);
	if (token)
		cJSON_AddStringToObject(req, "NextToken", token);
	json = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	return json;
}

static const cJSON *get(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* The lowest positive terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD of a product. */
static void product_price(double *best, const cJSON *product)
{
	const cJSON *term, *dim;

	cJSON_ArrayForEach (term, get(get(product, "terms"), "OnDemand")) {
		cJSON_ArrayForEach (dim, get(term, "priceDimensions")) {
			const cJSON *usd = get(get(dim, "pricePerUnit"), "USD");
			char *end;
			double v;

			if (!cJSON_IsString(usd))
				continue;
			errno = 0;
			v = strtod(usd->valuestring, &end);
			/* $0 dimensions are placeholders (reservations), not a price */
			if (errno || end == usd->valuestring || *end || !isfinite(v) || v <= 0)
				continue;
			if (*best < 0 || v < *best)
				*best = v;
		}
	}
}

int pricing_parse_products(double *out, char **out_next_token, const char *json, size_t len)
{
	cJSON *doc = cJSON_ParseWithLength(json ? json : "", len);
	const cJSON *entry, *token;
	int ret = -1;

	if (out_next_token)
		*out_next_token = NULL;
	if (!cJSON_IsObject(doc)) {
		err_set("malformed GetProducts response: not a JSON object");
		goto out;
	}
	/* each entry is a JSON document in a string; an object is taken as it is */
	cJSON_ArrayForEach (entry, get(doc, "PriceList")) {
		cJSON *product = NULL;

		if (cJSON_IsString(entry))
			product = cJSON_Parse(entry->valuestring);
		if (cJSON_IsString(entry) && !cJSON_IsObject(product)) {
			cJSON_Delete(product);
			err_set("malformed GetProducts response: a PriceList entry is not JSON");
			goto out;
		}
		product_price(out, product ? product : entry);
		cJSON_Delete(product);
	}
	token = get(doc, "NextToken");
	if (out_next_token && cJSON_IsString(token) && *token->valuestring)
		*out_next_token = xstrdup(token->valuestring);
	ret = 0;
out:
	cJSON_Delete(doc);
	return ret;
}

int pricing_on_demand(double *out, struct aws_client *c, const char *region, const char *type)
{
	struct aws_response res;
	char *token = NULL, *body = NULL;
	int ret = -1;

	*out = -1;
	memset(&res, 0, sizeof(res));
	do {
		free(body);
		body = products_request(region, type, token);
		free(token);
		token = NULL;
		aws_response_release(&res);
		if (aws_json(&res, c, "pricing", "AWSPriceListService.GetProducts", body) ||
		    pricing_parse_products(out, &token, res.body.ptr, res.body.len))
			goto out;
	} while (token);
	ret = *out < 0 ? 1 : 0;
out:
	free(token);
	free(body);
	aws_response_release(&res);
	return ret;
}

/*
 * The cache, one entry per region and type, each price with its own time:
 * {"us-east-1/t3.micro": {"spot": {"usd": 0.0031, "az": "us-east-1b", "time": 1700000000},
 *                         "on_demand": {"usd": 0.0104, "time": 1700000000}}}
 */

static char *cache_key(const char *region, const char *type)
{
	return xstrfmt("%s/%s", region, type);
}

static cJSON *cache_load(const char *git_dir)
{
	char *path = xstrfmt("%s/" CACHE_FILE, git_dir);
	struct buf data = BUF_INIT;
	cJSON *doc = NULL;

	if (!read_file(&data, path))
		doc = cJSON_ParseWithLength(data.ptr, data.len);
	err_clear(); /* no cache, or an unreadable one: none */
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	buf_release(&data);
	free(path);
	return doc;
}

/* A cached price of a kind, when fresh at now; *out_az borrowed from it. */
static int cached_price(double *out, const char **out_az, const cJSON *entry, const char *kind,
			time_t now)
{
	const cJSON *p = get(entry, kind);
	const cJSON *usd = get(p, "usd"), *when = get(p, "time"), *az = get(p, "az");

	if (!cJSON_IsNumber(usd) || usd->valuedouble < 0 || !cJSON_IsNumber(when) ||
	    when->valuedouble > (double)now ||
	    (double)now - when->valuedouble >= PRICING_CACHE_SECONDS)
		return 1;
	*out = usd->valuedouble;
	if (out_az)
		*out_az = cJSON_IsString(az) && *az->valuestring ? az->valuestring : NULL;
	return 0;
}

int pricing_cache_get(struct pricing_quote *out, const char *git_dir, const char *region,
		      const char *type, time_t now)
{
	cJSON *doc = cache_load(git_dir);
	char *key = cache_key(region, type);
	const cJSON *entry = get(doc, key);
	const char *az = NULL;
	int fresh = 0;

	out->spot = out->on_demand = -1;
	out->spot_az = NULL;
	if (!cached_price(&out->spot, &az, entry, "spot", now)) {
		out->spot_az = az ? xstrdup(az) : NULL;
		fresh++;
	}
	if (!cached_price(&out->on_demand, NULL, entry, "on_demand", now))
		fresh++;
	free(key);
	cJSON_Delete(doc);
	return fresh == 2 ? 0 : 1;
}

static void set_price(cJSON *entry, const char *kind, double usd, const char *az, time_t now)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddNumberToObject(p, "usd", usd);
	if (az)
		cJSON_AddStringToObject(p, "az", az);
	cJSON_AddNumberToObject(p, "time", (double)now);
	cJSON_DeleteItemFromObjectCaseSensitive(entry, kind);
	cJSON_AddItemToObject(entry, kind, p);
}

/* Drops what is stale, so that the file holds only what can still be used. */
static void cache_prune(cJSON *doc, time_t now)
{
	static const char *const kinds[] = { "spot", "on_demand" };
	cJSON *entry = doc->child, *next;
	double usd;
	size_t i;

	for (; entry; entry = next) {
		next = entry->next;
		for (i = 0; i < ARRAY_SIZE(kinds); i++)
			if (cached_price(&usd, NULL, entry, kinds[i], now))
				cJSON_DeleteItemFromObjectCaseSensitive(entry, kinds[i]);
		if (!cJSON_IsObject(entry) || !entry->child)
			cJSON_Delete(cJSON_DetachItemViaPointer(doc, entry));
	}
}

void pricing_cache_put(const char *git_dir, const char *region, const char *type,
		       const struct pricing_quote *q, time_t now)
{
	char *dir = xstrfmt("%s/train", git_dir), *path = xstrfmt("%s/" CACHE_FILE, git_dir);
	char *key = cache_key(region, type), *json = NULL;
	cJSON *doc = cache_load(git_dir), *entry;

	if (!doc)
		doc = cJSON_CreateObject();
	entry = cJSON_GetObjectItemCaseSensitive(doc, key);
	if (!cJSON_IsObject(entry)) {
		cJSON_DeleteItemFromObjectCaseSensitive(doc, key);
		entry = cJSON_AddObjectToObject(doc, key);
	}
	if (q->spot >= 0)
		set_price(entry, "spot", q->spot, q->spot_az, now);
	if (q->on_demand >= 0)
		set_price(entry, "on_demand", q->on_demand, NULL, now);
	cache_prune(doc, now);
	json = cJSON_Print(doc);
	if (mkdir_p(dir, 0777) || !json || write_file_atomic(path, json, strlen(json), 0666))
		err_clear(); /* the cache only saves requests */
	free(json);
	cJSON_Delete(doc);
	free(key);
	free(path);
	free(dir);
}

static void warn(struct buf *warnings, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void warn(struct buf *warnings, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(warnings, fmt, ap);
	va_end(ap);
	buf_putc(warnings, '\n');
	err_clear();
}

int pricing_quote(struct pricing_quote *out, struct buf *warnings, struct aws_client *c,
		  const char *git_dir, const char *region, const char *type)
{
	struct pricing_quote got = { -1, NULL, -1 };
	time_t now = time(NULL);
	int r;

	out->spot = out->on_demand = -1;
	out->spot_az = NULL;
	if (git_dir && !pricing_cache_get(out, git_dir, region, type, now))
		return 0;
	if (out->spot < 0) {
		r = ec2_spot_price(&got.spot, &got.spot_az, c, type);
		if (r < 0)
			warn(warnings, "cannot get the spot price of %s in %s: %s", type, region,
			     err_msg());
		else if (r > 0)
			warn(warnings, "no spot price for %s in %s", type, region);
		out->spot = got.spot;
		out->spot_az = got.spot_az ? xstrdup(got.spot_az) : NULL;
	}
	if (out->on_demand < 0) {
		r = pricing_on_demand(&got.on_demand, c, region, type);
		if (r < 0)
			warn(warnings, "cannot get the on-demand price of %s in %s: %s", type,
			     region, err_msg());
		else if (r > 0)
			warn(warnings, "no on-demand price for %s in %s in the AWS price list",
			     type, region);
		out->on_demand = got.on_demand;
	}
	if (git_dir && (got.spot >= 0 || got.on_demand >= 0))
		pricing_cache_put(git_dir, region, type, &got, now);
	pricing_quote_release(&got);
	return 0;
}

void pricing_quote_release(struct pricing_quote *q)
{
	free(q->spot_az);
	q->spot_az = NULL;
}

void pricing_format(struct buf *out, double usd_per_hour)
{
	char tmp[64];
	int decimals = 0;
	double x = usd_per_hour;
	size_t len, dot;

	if (!(usd_per_hour >= 0) || !isfinite(usd_per_hour)) {
		buf_puts(out, "unknown");
		return;
	}
	/* 4 significant digits (more for $1000 and up), then no trailing zeros beyond cents */
	for (; x > 0 && x < 1000 && decimals < 10; x *= 10) /* 10: the price list's precision */
		decimals++;
	if (decimals < 2)
		decimals = 2;
	snprintf(tmp, sizeof(tmp), "%.*f", decimals, usd_per_hour);
	len = strlen(tmp);
	dot = strcspn(tmp, ".");
	while (len > dot + 3 && tmp[len - 1] == '0')
		len--;
	tmp[len] = '\0';
	buf_printf(out, "$%s/h", tmp);
}
