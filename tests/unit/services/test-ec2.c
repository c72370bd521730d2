/*
 * Unit tests for ec2's response parsing and error classes, on documents
 * shaped like the examples of the EC2 API reference (namespace, empty
 * elements, items nested in items).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "services/ec2-parse.h"
#include "services/ec2.h"
#include "util/util.h"

#define NS "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\""

/* An instance as the API reference shows one; nested sets carry their own <item>s. */
#define INSTANCE(id, lifecycle, tags)                                                              \
	"<item><instanceId>" id "</instanceId><imageId>ami-0abcdef1234567890</imageId>"            \
	"<instanceState><code>0</code><name>pending</name></instanceState>"                        \
	"<privateDnsName>ip-192-168-1-88.us-east-1.compute.internal</privateDnsName>"              \
	"<dnsName/><reason/><amiLaunchIndex>0</amiLaunchIndex><productCodes/>"                     \
	"<instanceType>t3.micro</instanceType><launchTime>2024-02-14T10:44:05.000Z</launchTime>"   \
	"<placement><availabilityZone>us-east-1c</availabilityZone><groupName/>"                   \
	"<tenancy>default</tenancy></placement><monitoring><state>disabled</state></monitoring>"   \
	"<subnetId>subnet-56f5f633</subnetId><vpcId>vpc-11112222</vpcId>"                          \
	"<groupSet><item><groupId>sg-e4076980</groupId><groupName>default</groupName></item>"      \
	"</groupSet>" lifecycle "<stateReason><code>pending</code><message>pending</message>"      \
	"</stateReason><architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType>"    \
	"<rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping/>"                          \
	"<virtualizationType>hvm</virtualizationType><clientToken>tok-1</clientToken>" tags        \
	"<hypervisor>xen</hypervisor><networkInterfaceSet><item>"                                  \
	"<networkInterfaceId>eni-551ba033</networkInterfaceId><groupSet><item>"                    \
	"<groupId>sg-e4076980</groupId><groupName>default</groupName></item></groupSet>"           \
	"<tagSet/></item></networkInterfaceSet><ebsOptimized>false</ebsOptimized>"                 \
	"<metadataOptions><state>pending</state><httpTokens>required</httpTokens>"                 \
	"<httpEndpoint>enabled</httpEndpoint></metadataOptions></item>"

static const char run_response[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<RunInstancesResponse " NS ">\n"
	"  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
	"  <reservationId>r-1234567890abcdef0</reservationId>\n"
	"  <ownerId>123456789012</ownerId>\n"
	"  <groupSet/>\n"
	"  <instancesSet>\n" INSTANCE(
		"i-1234567890abcdef0", "<instanceLifecycle>spot</instanceLifecycle>",
		"<tagSet><item><key>Name</key><value>git-train/abc1234</value></item>"
		"<item><key>git-train:run-id</key><value>abc1234-20240214-104405</value></item>"
		"<item><key>empty</key><value/></item></tagSet>") "\n"
								  "  </instancesSet>\n"
								  "</RunInstancesResponse>\n";

static void test_run_response(void **state)
{
	struct ec2_instance *v = NULL;
	char *token = (char *)"unset";
	size_t nr = 0;

	(void)state;
	assert_int_equal(ec2_parse_instances(&v, &nr, &token, run_response, strlen(run_response)),
			 0);
	assert_null(token);
	assert_int_equal(nr, 1);
	assert_string_equal(v[0].id, "i-1234567890abcdef0");
	assert_string_equal(v[0].type, "t3.micro");
	assert_string_equal(v[0].state, "pending");
	assert_string_equal(v[0].az, "us-east-1c");
	assert_string_equal(v[0].lifecycle, "spot");
	assert_string_equal(v[0].state_reason, "pending");
	assert_int_equal(v[0].launched, 1707907445); /* 2024-02-14T10:44:05Z */
	/* the instance's own tags, not the empty set of its network interface */
	assert_int_equal(v[0].nr_tags, 3);
	assert_string_equal(ec2_instance_tag(&v[0], "Name"), "git-train/abc1234");
	assert_string_equal(ec2_instance_tag(&v[0], "git-train:run-id"), "abc1234-20240214-104405");
	assert_string_equal(ec2_instance_tag(&v[0], "empty"), "");
	assert_null(ec2_instance_tag(&v[0], "git-train:commit"));
	ec2_instances_free(v, nr);
}

static const char describe_page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<DescribeInstancesResponse " NS ">\n"
	"  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>\n"
	"  <reservationSet>\n"
	"    <item>\n"
	"      <reservationId>r-1234567890abcdef0</reservationId>\n"
	"      <ownerId>123456789012</ownerId>\n"
	"      <groupSet/>\n"
	"      <instancesSet>\n" INSTANCE("i-1111111111aaaaaaa", "", "<tagSet/>")
		INSTANCE("i-2222222222bbbbbbb", "<instanceLifecycle>spot</instanceLifecycle>",
			 "<tagSet><item><key>git-train:run-id</key><value>r2</value></item></"
			 "tagSet>") "      </instancesSet>\n"
				    "    </item>\n"
				    "    <item>\n"
				    "      <reservationId>r-0987654321fedcba0</reservationId>\n"
				    "      <instancesSet>\n" INSTANCE(
					    "i-3333333333ccccccc", "",
					    "") "      </instancesSet>\n"
						"    </item>\n"
						"  </reservationSet>\n"
						"  <nextToken>eyJ2IjoiMiIsImMiOiJ</nextToken>\n"
						"</DescribeInstancesResponse>\n";

static const char describe_page2[] =
	"<DescribeInstancesResponse " NS "><requestId>x</requestId><reservationSet>"
	"<item><reservationId>r-5</reservationId><instancesSet>" INSTANCE(
		"i-4444444444ddddddd", "", "") "</instancesSet></item></reservationSet>"
					       "<nextToken/></DescribeInstancesResponse>";

static void test_describe_pages(void **state)
{
	struct ec2_instance *v = NULL;
	char *token = NULL;
	size_t nr = 0;

	(void)state;
	assert_int_equal(
		ec2_parse_instances(&v, &nr, &token, describe_page1, strlen(describe_page1)), 0);
	assert_string_equal(token, "eyJ2IjoiMiIsImMiOiJ");
	free(token);
	assert_int_equal(nr, 3);
	assert_int_equal(
		ec2_parse_instances(&v, &nr, &token, describe_page2, strlen(describe_page2)), 0);
	assert_null(token); /* an empty nextToken is the last page */
	assert_int_equal(nr, 4);
	assert_string_equal(v[0].id, "i-1111111111aaaaaaa");
	assert_null(v[0].lifecycle);
	assert_int_equal(v[0].nr_tags, 0);
	assert_string_equal(v[1].id, "i-2222222222bbbbbbb");
	assert_string_equal(v[1].lifecycle, "spot");
	assert_string_equal(ec2_instance_tag(&v[1], "git-train:run-id"), "r2");
	assert_string_equal(v[2].id, "i-3333333333ccccccc");
	assert_string_equal(v[3].id, "i-4444444444ddddddd");
	ec2_instances_free(v, nr);
}

static void test_describe_empty_and_malformed(void **state)
{
	static const char empty[] = "<DescribeInstancesResponse " NS "><requestId>x</requestId>"
				    "<reservationSet/></DescribeInstancesResponse>";
	static const char no_id[] = "<RunInstancesResponse " NS "><instancesSet><item>"
				    "<instanceType>t3.micro</instanceType></item></instancesSet>"
				    "</RunInstancesResponse>";
	struct ec2_instance *v = NULL;
	size_t nr = 0;

	(void)state;
	assert_int_equal(ec2_parse_instances(&v, &nr, NULL, empty, strlen(empty)), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(ec2_parse_instances(&v, &nr, NULL, no_id, strlen(no_id)), -1);
	assert_non_null(strstr(err_msg(), "instanceId"));
	assert_int_equal(nr, 0);
	assert_int_equal(ec2_parse_instances(&v, &nr, NULL, "<oops", 5), -1);
	assert_int_equal(ec2_parse_instances(&v, &nr, NULL, "", 0), -1);
	err_clear();
	free(v);
}

static const char zones_response[] =
	"<DescribeAvailabilityZonesResponse " NS ">\n"
	"  <requestId>e23c5a54-a29c-43ee-8b55-0c13example</requestId>\n"
	"  <availabilityZoneInfo>\n"
	"    <item><zoneName>us-east-1b</zoneName><zoneState>available</zoneState>"
	"<regionName>us-east-1</regionName><messageSet/><zoneId>use1-az2</zoneId>"
	"<zoneType>availability-zone</zoneType></item>\n"
	"    <item><zoneName>us-east-1a</zoneName><zoneState>available</zoneState>"
	"<regionName>us-east-1</regionName><messageSet/><zoneId>use1-az1</zoneId></item>\n"
	"    <item><zoneName>us-east-1e</zoneName><zoneState>impaired</zoneState>"
	"<regionName>us-east-1</regionName><messageSet><item><message>x</message></item>"
	"</messageSet><zoneId>use1-az3</zoneId></item>\n"
	"    <item><zoneName>us-east-1-bos-1a</zoneName><zoneState>available</zoneState>"
	"<zoneType>local-zone</zoneType></item>\n"
	"  </availabilityZoneInfo>\n"
	"</DescribeAvailabilityZonesResponse>\n";

static void test_zones(void **state)
{
	struct strvec zones = STRVEC_INIT;

	(void)state;
	assert_int_equal(ec2_parse_zones(&zones, zones_response, strlen(zones_response)), 0);
	assert_int_equal(zones.nr, 2);
	assert_string_equal(zones.v[0], "us-east-1b");
	assert_string_equal(zones.v[1], "us-east-1a");
	strvec_clear(&zones);
}

static void test_root_device(void **state)
{
	static const char images[] =
		"<DescribeImagesResponse " NS "><requestId>x</requestId><imagesSet><item>"
		"<imageId>ami-0abcdef1234567890</imageId><imageState>available</imageState>"
		"<blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs>"
		"<volumeSize>8</volumeSize></ebs></item></blockDeviceMapping>"
		"<rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/sda1</rootDeviceName>"
		"</item></imagesSet></DescribeImagesResponse>";
	static const char none[] = "<DescribeImagesResponse " NS "><imagesSet/>"
				   "</DescribeImagesResponse>";
	static const char two[] =
		"<DescribeImagesResponse " NS "><imagesSet><item><blockDeviceMapping>"
		"<item><deviceName>/dev/sdb</deviceName><ebs><volumeSize>100</volumeSize></ebs></item>"
		"<item><deviceName>/dev/xvda</deviceName><ebs><volumeSize>15</volumeSize></ebs></item>"
		"</blockDeviceMapping><rootDeviceName>/dev/xvda</rootDeviceName>"
		"</item></imagesSet></DescribeImagesResponse>";
	char *dev = NULL;
	int gib = -1;

	(void)state;
	assert_int_equal(ec2_parse_root_device(&dev, &gib, images, strlen(images)), 0);
	assert_string_equal(dev, "/dev/sda1");
	assert_int_equal(gib, 8);
	free(dev);
	assert_int_equal(ec2_parse_root_device(&dev, &gib, two, strlen(two)), 0);
	assert_string_equal(dev, "/dev/xvda");
	assert_int_equal(gib, 15);
	free(dev);
	assert_int_equal(ec2_parse_root_device(&dev, &gib, none, strlen(none)), 0);
	assert_null(dev);
	assert_int_equal(gib, 0);
}

/* As the API reference's example, plus an older price for a zone and a second page. */
static const char spot_page1[] =
	"<DescribeSpotPriceHistoryResponse " NS ">\n"
	"  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
	"  <spotPriceHistorySet>\n"
	"    <item><instanceType>m3.medium</instanceType><productDescription>Linux/UNIX"
	"</productDescription><spotPrice>0.0287</spotPrice>"
	"<timestamp>2014-01-06T04:32:53.000Z</timestamp>"
	"<availabilityZone>us-west-2a</availabilityZone></item>\n"
	"    <item><instanceType>m3.medium</instanceType><productDescription>Linux/UNIX"
	"</productDescription><spotPrice>0.0091</spotPrice>"
	"<timestamp>2014-01-05T11:28:26.000Z</timestamp>"
	"<availabilityZone>us-west-2a</availabilityZone></item>\n"
	"    <item><instanceType>m3.medium</instanceType><productDescription>Linux/UNIX"
	"</productDescription><spotPrice>0.0301</spotPrice>"
	"<timestamp>2014-01-06T02:09:34.000Z</timestamp>"
	"<availabilityZone>us-west-2b</availabilityZone></item>\n"
	"  </spotPriceHistorySet>\n"
	"  <nextToken>next-page</nextToken>\n"
	"</DescribeSpotPriceHistoryResponse>\n";

static const char spot_page2[] =
	"<DescribeSpotPriceHistoryResponse " NS "><spotPriceHistorySet>"
	"<item><instanceType>m3.medium</instanceType><productDescription>Linux/UNIX"
	"</productDescription><spotPrice>0.028700</spotPrice>"
	"<timestamp>2014-01-06T04:10:00.000Z</timestamp>"
	"<availabilityZone>us-west-2c</availabilityZone></item>"
	"</spotPriceHistorySet><nextToken/></DescribeSpotPriceHistoryResponse>";

static void test_spot_prices(void **state)
{
	struct ec2_spot_entry *v = NULL;
	const char *az = NULL;
	char *token = NULL;
	double price = -1;
	size_t nr = 0;

	(void)state;
	assert_int_equal(ec2_parse_spot_prices(&v, &nr, &token, spot_page1, strlen(spot_page1)), 0);
	assert_string_equal(token, "next-page");
	free(token);
	assert_int_equal(nr, 3);
	assert_int_equal(ec2_parse_spot_prices(&v, &nr, &token, spot_page2, strlen(spot_page2)), 0);
	assert_null(token);
	assert_int_equal(nr, 4);
	/* us-west-2a's current price is 0.0287 (0.0091 is history); 2c ties, 2a sorts first */
	assert_int_equal(ec2_spot_lowest(&price, &az, v, nr), 0);
	assert_true(price > 0.02869 && price < 0.02871);
	assert_string_equal(az, "us-west-2a");
	assert_int_equal(ec2_spot_lowest(&price, &az, v + 2, 1), 0);
	assert_string_equal(az, "us-west-2b");
	assert_int_equal(ec2_spot_lowest(&price, &az, v, 0), 1);
	ec2_spot_entries_free(v, nr);
}

static void test_spot_malformed(void **state)
{
	static const char bad[] = "<DescribeSpotPriceHistoryResponse " NS "><spotPriceHistorySet>"
				  "<item><spotPrice>cheap</spotPrice><availabilityZone>us-east-1a"
				  "</availabilityZone></item></spotPriceHistorySet>"
				  "</DescribeSpotPriceHistoryResponse>";
	static const char empty[] = "<DescribeSpotPriceHistoryResponse " NS ">"
				    "<spotPriceHistorySet/></DescribeSpotPriceHistoryResponse>";
	struct ec2_spot_entry *v = NULL;
	double price;
	size_t nr = 0;

	(void)state;
	assert_int_equal(ec2_parse_spot_prices(&v, &nr, NULL, bad, strlen(bad)), -1);
	assert_non_null(strstr(err_msg(), "cheap"));
	err_clear();
	assert_int_equal(ec2_parse_spot_prices(&v, &nr, NULL, empty, strlen(empty)), 0);
	assert_int_equal(nr, 0);
	assert_int_equal(ec2_spot_lowest(&price, NULL, v, nr), 1);
	ec2_spot_entries_free(v, nr);
}

/* A persistent request's instance names it; a one-time or on-demand one may not. */
static void test_instance_spot_request(void **state)
{
	static const char doc[] = "<RunInstancesResponse " NS "><instancesSet>" INSTANCE(
		"i-0aaa",
		"<instanceLifecycle>spot</instanceLifecycle>"
		"<spotInstanceRequestId>sir-abcd1234</spotInstanceRequestId>",
		"") INSTANCE("i-0bbb", "", "<tagSet/>") "</instancesSet></RunInstancesResponse>";
	struct ec2_instance *v = NULL;
	size_t nr = 0;

	(void)state;
	assert_int_equal(ec2_parse_instances(&v, &nr, NULL, doc, strlen(doc)), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(v[0].spot_request, "sir-abcd1234");
	assert_null(v[1].spot_request);
	ec2_instances_free(v, nr);
}

/* DescribeSpotInstanceRequests as the API reference shows it, over two pages. */
static void test_spot_requests(void **state)
{
	static const char page1[] =
		"<DescribeSpotInstanceRequestsResponse " NS ">"
		"<requestId>r-1</requestId><spotInstanceRequestSet>"
		"<item><spotInstanceRequestId>sir-1a2b3c4d</spotInstanceRequestId>"
		"<spotPrice>0.09</spotPrice><type>persistent</type><state>disabled</state>"
		"<status><code>instance-stopped-no-capacity</code>"
		"<updateTime>2024-02-14T10:44:05.000Z</updateTime><message>m</message></status>"
		"<instanceId>i-1234567890abcdef0</instanceId>"
		"<launchSpecification><groupSet><item><groupId>sg-1</groupId></item></groupSet>"
		"</launchSpecification>"
		"<tagSet><item><key>git-train:run-id</key><value>abc-1</value></item></tagSet>"
		"<instanceInterruptionBehavior>stop</instanceInterruptionBehavior></item>"
		"</spotInstanceRequestSet><nextToken>page-2</nextToken>"
		"</DescribeSpotInstanceRequestsResponse>";
	static const char page2[] =
		"<DescribeSpotInstanceRequestsResponse " NS ">"
		"<spotInstanceRequestSet><item>"
		"<spotInstanceRequestId>sir-2</spotInstanceRequestId>"
		"<state>open</state><status><code>pending-evaluation</code>"
		"</status><instanceId/><tagSet/></item>"
		"</spotInstanceRequestSet></DescribeSpotInstanceRequestsResponse>";
	static const char no_id[] =
		"<DescribeSpotInstanceRequestsResponse " NS ">"
		"<spotInstanceRequestSet><item><state>open</state></item>"
		"</spotInstanceRequestSet></DescribeSpotInstanceRequestsResponse>";
	struct ec2_spot_request *v = NULL;
	size_t nr = 0;
	char *next = NULL;

	(void)state;
	assert_int_equal(ec2_parse_spot_requests(&v, &nr, &next, page1, strlen(page1)), 0);
	assert_string_equal(next, "page-2");
	free(next);
	assert_int_equal(ec2_parse_spot_requests(&v, &nr, &next, page2, strlen(page2)), 0);
	assert_null(next);
	assert_int_equal(nr, 2);
	assert_string_equal(v[0].id, "sir-1a2b3c4d");
	assert_string_equal(v[0].state, "disabled");
	assert_string_equal(v[0].status, "instance-stopped-no-capacity");
	assert_string_equal(v[0].instance_id, "i-1234567890abcdef0");
	assert_int_equal(v[0].nr_tags, 1);
	assert_string_equal(v[0].tags[0].key, "git-train:run-id");
	assert_string_equal(v[0].tags[0].value, "abc-1");
	assert_string_equal(v[1].state, "open");
	assert_null(v[1].instance_id);
	assert_int_equal(v[1].nr_tags, 0);
	assert_int_equal(ec2_parse_spot_requests(&v, &nr, NULL, no_id, strlen(no_id)), -1);
	assert_int_equal(nr, 2);
	assert_int_equal(ec2_parse_spot_requests(&v, &nr, NULL, "<a", 2), -1);
	err_clear();
	ec2_spot_requests_free(v, nr);
}

/* The groups of a run on several instances: placement groups, security groups, one value. */
static void test_groups(void **state)
{
	static const char pgs[] =
		"<DescribePlacementGroupsResponse " NS "><requestId>r-1</requestId>"
		"<placementGroupSet><item><groupName>git-train-abc-1</groupName>"
		"<strategy>cluster</strategy><state>available</state>"
		"<groupId>pg-0123456789abcdef0</groupId>"
		"<groupArn>arn:aws:ec2:us-east-1:123456789012:placement-group/git-train-abc-1"
		"</groupArn><tagSet><item><key>git-train:run-id</key><value>abc-1</value></item>"
		"</tagSet></item></placementGroupSet></DescribePlacementGroupsResponse>";
	static const char sgs[] =
		"<DescribeSecurityGroupsResponse " NS "><requestId>r-2</requestId>"
		"<securityGroupInfo><item><ownerId>123456789012</ownerId>"
		"<groupId>sg-1a2b3c4d</groupId><groupName>git-train-abc-1</groupName>"
		"<groupDescription>d</groupDescription><vpcId>vpc-1a2b3c4d</vpcId>"
		"<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>0</fromPort>"
		"<toPort>65535</toPort><groups><item><userId>123456789012</userId>"
		"<groupId>sg-1a2b3c4d</groupId></item></groups><ipRanges/></item>"
		"</ipPermissions><ipPermissionsEgress/><tagSet><item><key>a</key><value/></item>"
		"</tagSet></item><item><groupId>sg-2</groupId><groupName>default</groupName>"
		"</item></securityGroupInfo><nextToken>t-2</nextToken>"
		"</DescribeSecurityGroupsResponse>";
	static const char created[] = "<CreateSecurityGroupResponse " NS "><requestId>r</requestId>"
				      "<return>true</return><groupId>sg-0a42d66a</groupId>"
				      "</CreateSecurityGroupResponse>";
	struct ec2_group *v = NULL;
	size_t nr = 0;
	char *next = NULL, *text = NULL;

	(void)state;
	assert_int_equal(
		ec2_parse_groups(&v, &nr, &next, "placementGroupSet/item", pgs, strlen(pgs)), 0);
	assert_null(next);
	assert_int_equal(nr, 1);
	assert_string_equal(v[0].id, "pg-0123456789abcdef0");
	assert_string_equal(v[0].name, "git-train-abc-1");
	assert_string_equal(v[0].state, "available");
	assert_null(v[0].vpc);
	assert_int_equal(v[0].nr_tags, 1);
	assert_string_equal(v[0].tags[0].value, "abc-1");
	assert_int_equal(
		ec2_parse_groups(&v, &nr, &next, "securityGroupInfo/item", sgs, strlen(sgs)), 0);
	assert_string_equal(next, "t-2");
	free(next);
	assert_int_equal(nr, 3);
	/* its own id, not the one of the group its rule names */
	assert_string_equal(v[1].id, "sg-1a2b3c4d");
	assert_string_equal(v[1].vpc, "vpc-1a2b3c4d");
	assert_null(v[1].state);
	assert_int_equal(v[1].nr_tags, 1);
	assert_string_equal(v[1].tags[0].value, "");
	assert_string_equal(v[2].id, "sg-2");
	assert_int_equal(v[2].nr_tags, 0);
	assert_int_equal(ec2_parse_groups(&v, &nr, NULL, "securityGroupInfo/item", "<a", 2), -1);
	err_clear();
	ec2_groups_free(v, nr);
	assert_int_equal(ec2_parse_text(&text, "groupId", created, strlen(created)), 0);
	assert_string_equal(text, "sg-0a42d66a");
	free(text);
	assert_int_equal(ec2_parse_text(&text, "vpcSet/item/vpcId", created, strlen(created)), 0);
	assert_null(text);
}

static void test_error_class(void **state)
{
	(void)state;
	assert_int_equal(ec2_error_class("InsufficientInstanceCapacity"), EC2_ERR_CAPACITY);
	assert_int_equal(ec2_error_class("InsufficientCapacity"), EC2_ERR_CAPACITY);
	assert_int_equal(ec2_error_class("UnfulfillableCapacity"), EC2_ERR_CAPACITY);
	assert_int_equal(ec2_error_class("MaxSpotInstanceCountExceeded"), EC2_ERR_QUOTA);
	assert_int_equal(ec2_error_class("VcpuLimitExceeded"), EC2_ERR_QUOTA);
	assert_int_equal(ec2_error_class("InstanceLimitExceeded"), EC2_ERR_QUOTA);
	assert_int_equal(ec2_error_class("SpotMaxPriceTooLow"), EC2_ERR_PRICE);
	assert_int_equal(ec2_error_class("RequestLimitExceeded"), EC2_ERR_TRANSIENT);
	assert_int_equal(ec2_error_class("InternalError"), EC2_ERR_TRANSIENT);
	assert_int_equal(ec2_error_class("ServiceUnavailable"), EC2_ERR_TRANSIENT);
	assert_int_equal(ec2_error_class("Unavailable"), EC2_ERR_TRANSIENT);
	assert_int_equal(ec2_error_class("InvalidParameterValue"), EC2_ERR_OTHER);
	assert_int_equal(ec2_error_class("InvalidAMIID.NotFound"), EC2_ERR_OTHER);
	assert_int_equal(ec2_error_class("UnauthorizedOperation"), EC2_ERR_OTHER);
	/* codes are case-sensitive, and a prefix is not the code */
	assert_int_equal(ec2_error_class("insufficientinstancecapacity"), EC2_ERR_OTHER);
	assert_int_equal(ec2_error_class("InsufficientInstanceCapacityX"), EC2_ERR_OTHER);
	assert_int_equal(ec2_error_class(NULL), EC2_ERR_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_response),
		cmocka_unit_test(test_describe_pages),
		cmocka_unit_test(test_describe_empty_and_malformed),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_root_device),
		cmocka_unit_test(test_spot_prices),
		cmocka_unit_test(test_spot_malformed),
		cmocka_unit_test(test_instance_spot_request),
		cmocka_unit_test(test_spot_requests),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_error_class),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
