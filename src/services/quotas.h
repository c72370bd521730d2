/*
 * quotas: Service Quotas (servicequotas, JSON protocol, X-Amz-Target
 * ServiceQuotasV20190624.<Action>) and the EC2 vCPU quotas by name and code.
 *
 * EC2 limits running instances by vCPUs per family group and market: "All G
 * and VT Spot Instance Requests" (L-3819A6DF), "Running On-Demand P
 * instances" (L-417A185B), ... quotas_ec2_vcpu() names the one a type
 * counts against; quotas_get() reads its value in the client's region.
 */
#ifndef SERVICES_QUOTAS_H
#define SERVICES_QUOTAS_H

#include "aws/client.h"

/*
 * The EC2 quota that limits type in that market, by its Service Quotas
 * name (static); *out_code is its quota code, NULL where the name is all we
 * know.
 */
const char *quotas_ec2_vcpu(const char **out_code, const char *type, int spot);

/*
 * GetServiceQuota of service (e.g. "ec2") and code: its value (*out, vCPUs
 * for the EC2 ones). 0; 1 when there is no such quota here
 * (NoSuchResourceException, err_msg() says it); -1 with err_set and
 * *out_code the AWS error code (caller frees; NULL when none).
 */
int quotas_get(double *out, char **out_code, struct aws_client *c, const char *service,
	       const char *code);

#endif
