/* quotas: the EC2 vCPU quotas and GetServiceQuota (see quotas.h). */
#include "services/quotas.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "util/util.h"

struct quota {
	const char *family; /* the letters before the generation digit */
	const char *spot, *spot_code, *on_demand, *on_demand_code;
};

static const struct quota quotas[] = {
	{ "g", "All G and VT Spot Instance Requests", "L-3819A6DF",
	  "Running On-Demand G and VT instances", "L-DB2E81BA" },
	{ "vt", "All G and VT Spot Instance Requests", "L-3819A6DF",
	  "Running On-Demand G and VT instances", "L-DB2E81BA" },
	{ "p", "All P Spot Instance Requests", "L-7212CCBC", "Running On-Demand P instances",
	  "L-417A185B" },
	{ "inf", "All Inf Spot Instance Requests", NULL, "Running On-Demand Inf instances", NULL },
	{ "trn", "All Trn Spot Instance Requests", NULL, "Running On-Demand Trn instances", NULL },
	{ "dl", "All DL Spot Instance Requests", NULL, "Running On-Demand DL instances", NULL },
	{ "f", "All F Spot Instance Requests", NULL, "Running On-Demand F instances", NULL },
	{ "x", "All X Spot Instance Requests", NULL, "Running On-Demand X instances", NULL },
	{ "u", "All U Spot Instance Requests", NULL, "Running On-Demand High Memory instances",
	  NULL },
	{ "hpc", "All HPC Spot Instance Requests", NULL, "Running On-Demand HPC instances", NULL },
};

static const struct quota standard = {
	"", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", "L-34B43A08",
	"Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", "L-1216C47A"
};

const char *quotas_ec2_vcpu(const char **out_code, const char *type, int spot)
{
	const struct quota *q = &standard;
	size_t len = 0, i;

	while (isalpha((unsigned char)type[len]))
		len++;
	for (i = 0; i < ARRAY_SIZE(quotas); i++)
		if (strlen(quotas[i].family) == len && !strncasecmp(type, quotas[i].family, len))
			q = &quotas[i];
	*out_code = spot ? q->spot_code : q->on_demand_code;
	return spot ? q->spot : q->on_demand;
}

int quotas_get(double *out, char **out_code, struct aws_client *c, const char *service,
	       const char *code)
{
	struct aws_response res;
	cJSON *req = cJSON_CreateObject(), *doc = NULL;
	const cJSON *value;
	char *body = NULL;
	int ret = -1;

	*out = 0;
	*out_code = NULL;
	memset(&res, 0, sizeof(res));
	cJSON_AddStringToObject(req, "ServiceCode", service);
	cJSON_AddStringToObject(req, "QuotaCode", code);
	body = cJSON_PrintUnformatted(req);
	if (aws_json(&res, c, "servicequotas", "ServiceQuotasV20190624.GetServiceQuota", body)) {
		if (res.error.code) {
			*out_code = xstrdup(res.error.code);
			if (strstr(res.error.code, "NoSuchResource"))
				ret = 1;
		}
		goto out;
	}
	doc = cJSON_ParseWithLength(res.body.ptr ? res.body.ptr : "", res.body.len);
	value = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "Quota"),
						 "Value");
	if (!cJSON_IsNumber(value)) {
		err_set("GetServiceQuota: no Quota.Value in the response");
		goto out;
	}
	*out = value->valuedouble;
	ret = 0;
out:
	cJSON_Delete(req);
	cJSON_Delete(doc);
	free(body);
	aws_response_release(&res);
	return ret;
}
