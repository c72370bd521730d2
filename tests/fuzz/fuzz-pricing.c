/*
 * fuzz-pricing: a GetProducts page of the Pricing API (JSON whose PriceList
 * holds more JSON as strings), and the price it gives as git-train shows it.
 */
#include "fuzz.h"

#include "services/pricing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double price = -1;
	char *token = NULL;

	if (!pricing_parse_products(&price, &token, (const char *)data, size) && price >= 0) {
		struct buf b = BUF_INIT;

		FUZZ_CHECK(price > 0 && price == price, "a price of %g", price);
		pricing_format(&b, price);
		buf_release(&b);
	}
	err_clear();
	free(token);
	return 0;
}
