/* json: cJSON accessors. See json.h. */
#include "util/json.h"

#include "util/util.h"

const char *json_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *json_strdup(const cJSON *obj, const char *key)
{
	const char *s = json_string(obj, key);

	return s ? xstrdup(s) : NULL;
}

double json_number(const cJSON *obj, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int json_int(const cJSON *obj, const char *key, int min, int max, int def)
{
	double v = json_number(obj, key, def);

	/* a comparison first: casting 1e300 (or NaN) to int is undefined */
	if (!(v >= min && v <= max) || (double)(int)v != v)
		return def;
	return (int)v;
}

void json_add_string_or_null(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

void json_add_number_or_null(cJSON *obj, const char *key, int known, double value)
{
	if (known)
		cJSON_AddNumberToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}
