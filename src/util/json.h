/*
 * json: the small cJSON accessors every reader and writer of JSON here
 * needs (result documents, run.json, SSM and credential_process answers, --json
 * output). A missing or mistyped member reads as absent, never as an error.
 */
#ifndef UTIL_JSON_H
#define UTIL_JSON_H

#include <cjson/cJSON.h>

/* The string member key of obj; borrowed, NULL when absent or not a string. */
const char *json_string(const cJSON *obj, const char *key);
/* The same, copied (caller frees); NULL when absent. */
char *json_strdup(const cJSON *obj, const char *key);
/* The number member key of obj, or def when absent or not a number. */
double json_number(const cJSON *obj, const char *key, double def);
/*
 * The number member key of obj as an int, or def when absent, not a number,
 * not whole or outside min..max (never a cast of a double out of int's range).
 */
int json_int(const cJSON *obj, const char *key, int min, int max, int def);

/* Adds key: value, or key: null when value is NULL. */
void json_add_string_or_null(cJSON *obj, const char *key, const char *value);
/* Adds key: value, or key: null when the value is not known. */
void json_add_number_or_null(cJSON *obj, const char *key, int known, double value);

#endif
