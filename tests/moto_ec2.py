"""EC2 as moto itself sees it, past the fake, for the tests' checks
(tests/test-lib.sh: test_nothing_left, test_fake_instances_of_run).

moto takes any signature of the fake's internal key (tests/aws-fake.py,
INTERNAL_KEY): a request needs only the region in its scope.
"""
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET


def instances(moto, region, filters=None):
    """DescribeInstances in region, with {name: value} filters: the
    instance items, their tags without namespaces."""
    params = {"Action": "DescribeInstances", "Version": "2016-11-15"}
    for i, (name, value) in enumerate(sorted((filters or {}).items()), 1):
        params[f"Filter.{i}.Name"] = name
        params[f"Filter.{i}.Value.1"] = value
    date = time.strftime("%Y%m%d", time.gmtime())
    req = urllib.request.Request(
        moto + "/", method="POST", data=urllib.parse.urlencode(params).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAAWSFAKEINTERNAL0/"
                                  f"{date}/{region}/ec2/aws4_request, SignedHeaders=host, "
                                  "Signature=0"})
    with urllib.request.urlopen(req, timeout=30) as r:
        root = ET.fromstring(r.read())
    for el in root.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
    return list(root.iterfind("reservationSet/item/instancesSet/item"))
