#!/usr/bin/python3
"""aws-fake: what moto lacks, in front of moto.

A small threaded HTTP server on 127.0.0.1 that git-train talks to instead of
moto (AWS_ENDPOINT_URL points here). For every request it

  1. checks the SigV4 signature with botocore (Debian's python3-botocore: an
     implementation that is not ours) against the accepted credentials, and
     the request time against its own clock: a bad signature is a 403
     SignatureDoesNotMatch, an unknown key a 403 InvalidClientTokenId, a time
     more than 15 minutes off a 403 RequestTimeTooSkewed. The keys given with
     --key or --keys-stdin (which no ps shows) take any session token; an
     instance role's keys (below) only their own (else 403
     InvalidClientTokenId, S3: 400 InvalidToken);
  2. applies the first fault rule that selects it (throttling, 500, a dropped
     connection, a slow or malformed response, any AWS error);
  3. gives it to the handler registered for its service, if one takes it
     (EC2 launches, SSM commands, prices), else forwards it to moto.

Its Date header tells its own clock, which --clock-offset (or the control
endpoint) can move away from ours, to test clock-skew correction.

Fault rules
  {"fault": "throttle" | "error500" | "error500-after" | "drop" | "reset" | "slow" |
            "malformed" | "error",
   what it selects (all optional): "service", "action", "method", "path" (a prefix),
   "params": {"Name": "value" | null, ...}: the request's Query parameters (form
   body and query string, e.g. "InstanceMarketOptions.MarketType": "spot") or
   top-level JSON fields must have these values; null: must be absent,
   which of the selected requests fail: "every": N (the 1st, N+1th, ...),
   "nth": [k, ...] (1-based), "times": N (the first N); none of them: all,
   and for some faults: "delay" (slow, seconds), "status", "code", "message", "body"}.
  error500-after forwards the request (moto does the work) and then answers
  500 InternalError: the response a client never saw. Spot capacity, for example:
  {"fault": "error", "status": 500, "code": "InsufficientInstanceCapacity",
   "message": "...", "service": "ec2", "action": "RunInstances",
   "params": {"InstanceMarketOptions.MarketType": "spot"}}

EC2 (moto does the rest)
  RunInstances with a ClientToken (at most 64 characters) is idempotent, as on
  AWS and not in moto: the first successful response is remembered (per region
  and token, until reset) and a repeat is answered with it, not forwarded; a
  repeat with other parameters is 400 IdempotentParameterMismatch. Each
  launched instance "boots": it gets a sandbox and an instance metadata service
  (below). TerminateInstances and StopInstances passing through end its
  processes; StartInstances boots it again (below). The fake learns of
  instances launched straight in moto, and of instances terminated there,
  whenever it looks (DescribeInstanceInformation, SendCommand,
  DescribeSpotInstanceRequests, GET /__fake/instances and /__fake/spot-requests).

Spot requests (moto 5 takes RunInstances' spot options and a spot-instances-request
tag specification, and ignores them: the fake keeps the requests)
  A RunInstances with InstanceMarketOptions.MarketType=spot is forwarded whole
  (ClientToken idempotency covers every parameter) and makes a request per
  instance: id sir-<8 lowercase letters and digits>, SpotOptions.SpotInstanceType
  one-time (default) or persistent, InstanceInterruptionBehavior terminate
  (default), stop or hibernate (400 InvalidParameterCombination unless
  persistent), ValidUntil (persistent only; default 7 days ahead, as EC2's;
  recorded and shown, not enforced),
  MaxPrice, the tags of TagSpecification.N with ResourceType
  spot-instances-request; state active, status fulfilled. The response's
  instance items (and DescribeInstances' passing through) get its
  <spotInstanceRequestId> (moto gives <instanceLifecycle>spot</instanceLifecycle>).
  What happens to a request (state, status code):
    its instance stopped by a spot interruption    disabled, instance-stopped-no-capacity
    stopped by StopInstances (persistent)          disabled, instance-stopped-by-user
                                                   (one-time: 400 UnsupportedOperation)
    started again (the fake, or StartInstances)    active, fulfilled
    its instance terminated (TerminateInstances, straight in moto, or a
    shutdown from inside): persistent, active or disabled: open (AWS would launch
    another instance; the fake launches none), instance-terminated-by-user;
    one-time: closed, same status; by a spot interruption (terminate): the
    status is instance-terminated-no-capacity
    CancelSpotInstanceRequests                     cancelled,
        request-canceled-and-instance-running while its instance exists (running
        or stopped), else canceled-before-fulfillment; a cancelled request stays
        so when its instance terminates, and a stopped instance of it is never
        started again
  Requests outlive /__fake/reset (they are AWS's state, as moto's instances
  are); those of an instance that moto forgets (moto's reset) are forgotten.
  DescribeSpotInstanceRequests (SpotInstanceRequestId.N; Filter.N.Name/Value.M:
  tag:<key>, tag-key, state, status-code, type, instance-id,
  spot-instance-request-id, launched-availability-zone,
  instance-interruption-behavior, with * and ? as EC2's; any other 400
  InvalidParameterValue; no paging, no NextToken) and CancelSpotInstanceRequests
  (SpotInstanceRequestId.N) answer in EC2's XML; an unknown id (of the call's
  region) is 400 InvalidSpotInstanceRequestID.NotFound.

Pricing (GetProducts, service code AmazonEC2)
  On-demand prices from a small table (t3.micro 0.0104, t3.small 0.0208,
  t3.medium 0.0416, m5.large 0.096, c5.large 0.085, g5.xlarge 1.006,
  g4dn.xlarge 0.526, p3.2xlarge 3.06, t4g.micro 0.0084 in us-east-1, us-east-2
  and us-west-2; about 10% more in eu-west-1, 15% in eu-central-1), in the real
  response shape: {"FormatVersion": "aws_v1", "PriceList": ["<JSON product>", ...]},
  each with product.attributes and terms.OnDemand.<sku.offer>.priceDimensions.
  <sku.offer.rate>.pricePerUnit.USD ("0.0104000000"). Like AWS, each type and
  region also has Windows, dedicated, SQL and capacity-reservation products: only
  the filters operatingSystem=Linux, tenancy=Shared, preInstalledSw=NA and
  capacitystatus=Used narrow it to the one price. Filters: TERM_MATCH/EQUALS,
  CONTAINS, ANY_OF, NONE_OF on any attribute (instanceType, regionCode, location...).

GPUs (the block "GPUs: Deep Learning AMIs, vCPU quotas, nvidia-smi" says more)
  The DLAMIs' public SSM parameters (GetParametersByPath, GetParameter) and
  images (DescribeImages), Service Quotas GetServiceQuota of EC2's vCPU quotas,
  an nvidia-smi on the PATH of instances of types with NVIDIA GPUs, and the
  image's files under GIT_TRAIN_IMAGE_ROOT=<sandbox>/image/ for DLAMI instances.

Several instances (a run on N nodes; the block "several instances" says more)
  RunInstances with MinCount/MaxCount above 1 boots each instance (sandbox,
  IMDS, SSM, user data); SendCommand to several InstanceIds runs on each.
  Private addresses: each instance gets its own in 127.0.0.0/8,
  127.<2 + the fake's port % 250>.<n / 254>.<1 + n % 254> for the fake's nth
  (so two fakes on one machine differ), kept while the fake runs: RunInstances'
  and DescribeInstances' privateIpAddress, privateDnsName (ip-127-...) and
  those of networkInterfaceSet, IMDS local-ipv4 and the identity document,
  SSM's IPAddress. moto's 10.x ones are never shown (public ones are moto's).
  Spot capacity (settings spot_capacity {type: n}): a spot RunInstances of that
  type gets at most n instances, in any zone, per request (instances already
  running are not counted): MinCount above n is 500 InsufficientInstanceCapacity,
  else MaxCount is cut to n (the response has fewer instances).
  Placement groups (moto 5 has none: the fake keeps them, per region; they
  outlive /__fake/reset): CreatePlacementGroup (GroupName, Strategy cluster,
  spread or partition, PartitionCount, SpreadLevel, TagSpecification.N of
  ResourceType placement-group; a name taken: 400 InvalidPlacementGroup.Duplicate),
  DescribePlacementGroups (GroupName.N, GroupId.N; Filter.N: group-name,
  group-id, group-arn, state, strategy, partition-count, spread-level, tag:<key>,
  tag-key, tag-value), DeletePlacementGroup (GroupName; 400
  InvalidPlacementGroup.InUse while an instance launched into it is not
  terminated); an unknown name: 400 InvalidPlacementGroup.Unknown. RunInstances
  with Placement.GroupName (or GroupId) of an unknown group: 400
  InvalidPlacementGroup.Unknown; else its instances' placement shows groupName
  and groupId.
  DeleteSecurityGroup (GroupId or GroupName): 400 DependencyViolation while an
  instance that is not terminated has the group (as AWS; moto would delete it).
  Note moto terminates at once: there is no shutting-down in between.

SSM (moto does the rest: GetParameter for the public AMI parameters, ...)
  DescribeInstanceInformation (Filters InstanceIds/PingStatus/ResourceType, or
  InstanceInformationFilterList instanceIds): a running instance is listed,
  PingStatus Online, once ready_delay seconds have passed since the fake first
  saw it running; before that, and once terminated, it is not listed.
  SendCommand (AWS-RunShellScript, InstanceIds, Parameters.commands,
  Parameters.executionTimeout, default 3600 s): 400 InvalidInstanceId unless every
  instance is Online; else it runs the commands, joined by newlines, with `sh`
  as the instance would, in the instance's sandbox, and answers the Command.
  GetCommandInvocation (CommandId, InstanceId): 400 InvocationDoesNotExist for
  invocation_delay seconds after SendCommand, then InProgress while it runs,
  then Success (ResponseCode 0), Failed (ResponseCode N; -1 if killed by a
  signal; stderr ends "failed to run commands: exit status N" as with the
  real agent) or TimedOut (executionTimeout), with StandardOutputContent (the
  first 24,000 characters) and StandardErrorContent (the first 8,000).

The instance sandbox: <--sandbox>/<instance-id>/
  bin/            stand-ins for shutdown, poweroff, halt, reboot, systemctl and
                  systemd-run, first on PATH: each appends "name args" to calls.log.
                  And `aws`: tests/aws-cli-standin.py, the `aws s3 cp` that the runner
                  uses in a tenth of the real CLI's time (it records nothing), unless
                  settings aws_cli is "real" when the instance boots: then the real
                  AWS CLI on the fake's PATH runs.
                  `shutdown [-h|-P|-H] now` (or +0), `poweroff`, `halt`,
                  `systemctl poweroff|halt` also POST /__fake/shutdown/<id>;
                  `shutdown [-h] +N` (or no time: +1, as systemd's) schedules the
                  shutdown N "minutes" (settings shutdown_minute seconds each) ahead,
                  replacing any scheduled before, and `shutdown -c` cancels it, as
                  systemd's do (POST /__fake/schedule/<id>); --no-wall is taken;
                  an hh:mm time, -k, reboot etc. only record.
                  `systemd-run [--unit=U] [--on-active=SPAN] [options] CMD ARGS...`
                  runs CMD (no shell) as a transient unit: after SPAN (a systemd
                  time span, "90", "30s", "5min"; its minutes last shutdown_minute
                  seconds, as shutdown's do), or now without --on-active; detached,
                  in the instance's environment, cwd root/, output appended to
                  var/log/systemd-run.log; a new one of the same unit replaces it
                  (POST /__fake/unit/<id>, the argv in run/systemd-run/U.argv).
                  `systemctl stop|kill U[.timer|.service]...` cancels those; a stop
                  or the end of the instance cancels all (timers die with a machine).
                  `torchrun`: Debian's torch 1.13 on Python 3.11 has a broken
                  torchrun (--redirects/--tee 0 or 3, their defaults: AttributeError:
                  'NoneType' object has no attribute 'get'), so this one runs
                  /usr/bin/python3 -m torch.distributed.run --redirects 2 --tee 1
                  --monitor_interval 0.2 "$@". The same is in image/usr/bin/ beside
                  image/usr/bin/python3 (runs /usr/bin/python3) and, on a DLAMI,
                  in image/opt/pytorch/bin/: the runner takes the torchrun beside
                  the interpreter (mapped into GIT_TRAIN_IMAGE_ROOT) first.
  calls.log       those calls, one a line
  root/           the commands' working directory
  home/, tmp/     HOME (with empty .aws/config and .aws/credentials), TMPDIR
  var/lib/git-train/   GIT_TRAIN_RUNNER_DIR (on a real instance /var/lib/git-train)
  var/lib/amazon/ssm/<id>/document/orchestration/<command-id>/awsrunShellScript/
                  0.awsrunShellScript/{_script.sh,stdout,stderr}, as the agent keeps them
  var/log/cloud-init-output.log   the user data's output, when settings user_data is on
  A command's environment is only: PATH=<sandbox>/bin:<the fake's PATH>, HOME,
  TMPDIR, GIT_TRAIN_RUNNER_DIR, AWS_ENDPOINT_URL=<the fake's URL>,
  AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:<its IMDS port>/ (note the
  slash: join paths as botocore does), AWS_REGION and AWS_DEFAULT_REGION (the
  instance's region: --region unless launched elsewhere), AWS_CONFIG_FILE and
  AWS_SHARED_CREDENTIALS_FILE (the empty files), GLOO_SOCKET_IFNAME=lo (gloo
  would pick its interface by the host name), GIT_TRAIN_IMAGE_ROOT=<sandbox>/image
  and GIT_TRAIN_POLL_SCALE when
  the fake has it (the runner's tick): no credentials, no profile, no
  AWS_EC2_METADATA_DISABLED. stdin is /dev/null; stdout and stderr go to files.
  Each command runs in a session of its own; every process whose environment
  points into the sandbox (PATH, HOME, TMPDIR, GIT_TRAIN_RUNNER_DIR, AWS_CONFIG_FILE,
  AWS_SHARED_CREDENTIALS_FILE), detached or not, belongs to the instance and is
  ended (SIGTERM, then SIGKILL after a second) when the instance terminates or
  stops, on reset and when the fake exits (SIGTERM, SIGINT, --exit-with); at
  start the fake ends any left in its sandbox root by one that was SIGKILLed.
  The user data is run (like cloud-init, with sh) at boot only when settings
  user_data is true.

The instance metadata service (IMDSv2 only): one server per instance on its own
127.0.0.1 port, for as long as the instance is not terminated.
  PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1-21600; else
  400): a token. GET, with X-aws-ec2-metadata-token (else 401):
  /latest/meta-data/{instance-id, instance-type, ami-id, local-ipv4,
  placement/availability-zone, placement/region}, /latest/meta-data/iam/security-
  credentials/ (the role of the instance profile, else "git-train-instance"),
  .../security-credentials/<role> (Code, Type, LastUpdated, AccessKeyId,
  SecretAccessKey, Token, Expiration in 6 h: keys of the instance's own that the
  fake accepts, with that token only), /latest/meta-data/spot/instance-action
  (404 until interrupted, then {"action": "stop" (an instance of a persistent request,
  active, that stops; "hibernate" for one that hibernates, which the fake stops) or
  "terminate", "time": "<now+grace>"}; 404 again once started),
  /latest/meta-data/spot/termination-time, /latest/dynamic/instance-identity/
  document, /latest/user-data (404 without). A trailing slash is accepted; a
  doubled one is not (404).

Control endpoint (unsigned, under /__fake/), used by tests/test-lib.sh:
  POST /__fake/rules        a JSON list of rules, replacing the current ones
  POST /__fake/clock        {"offset": seconds}
  POST /__fake/settings     {"ready_delay": s (0), "invocation_delay": s (0),
                             "interrupt_grace": s (5), "user_data": bool (false),
                             "aws_cli": "standin" | "real" ("standin"; for the
                             instances that boot from then on),
                             "s3_regions": "off" | "301" | "400" ("off"; see
                             s3_wrong_region(): S3's answers to a request
                             signed for another region than its bucket's),
                             "shutdown_minute": s (60): what a minute of
                             `shutdown +N` lasts, for the schedules made from then on,
                             "restart_after": s | null (null: never): when an instance
                             stopped by a spot interruption starts again,
                             "nvidia_smi": "ok" | "broken" ("ok"; for the instances
                             that boot from then on), "quotas": {code: vCPUs} (EC2's
                             vCPU quotas; see "GPUs" below),
                             "spot_capacity": {type: n} ({}; see "Several instances")}:
                             changes those named, answers all
  POST /__fake/prices       {"t3.micro": 0.5, ...}: on-demand Linux price in every region
  POST /__fake/spot-prices  {"t3.micro": 0.25, ...}: DescribeSpotPriceHistory's price of
                             those types in every zone (moto says 0.00001 for all)
  POST /__fake/interrupt    {"instance": id, "restart_after": s | null}: a spot
                             interruption notice in its IMDS, then after interrupt_grace
                             seconds: an instance of an active persistent request that
                             stops is stopped (in moto, StopInstances; its processes
                             ended; its request disabled) and, after restart_after
                             seconds (absent: settings restart_after; null: never),
                             started again if its request is still disabled: in moto
                             (StartInstances), request active, the notice gone, a new
                             boot (below); any other is terminated in moto and its
                             processes ended. Answers {"instance", "time", "action",
                             "restart_after"}; 409 for a stopped instance
  POST /__fake/restart/<id>  capacity is back now: an instance a spot interruption
                             stopped, its request still disabled, starts again as after
                             restart_after (a test that must see it waiting first
                             interrupts with null, then restarts it); 409 for any other
  A boot after a stop (the fake's restart, or a StartInstances): the same sandbox
                             (its "EBS volume"), Online after ready_delay, no
                             scheduled shutdown, and, as cloud-init's scripts-per-boot,
                             each file in <sandbox>/var/lib/cloud/scripts/per-boot/,
                             sorted by name, run with sh one after the other in the
                             instance's environment (cwd root/, detached from the
                             fake), output appended to var/log/cloud-init-output.log
  POST /__fake/shutdown/<id>  the instance shuts down: terminated in moto, processes ended
  POST /__fake/schedule/<id>  {"minutes": N}: it shuts down in N shutdown_minutes, unless
                             another schedule replaces this one; {"minutes": null}: none
  POST /__fake/unit/<id>    {"unit": U, "on_active": SPAN or ""} or {"unit": U, "stop": true}:
                             the systemd-run and systemctl stand-ins' transient units
  GET  /__fake/instances    {"<id>": {"sandbox": path, "imds_port": n, "online": bool,
                             "commands": [ids], "calls": [lines of calls.log],
                             "terminated": bool (true once its processes are gone),
                             "interrupted": bool, "region": r, "role": name,
                             "shutdown_in": seconds until its scheduled shutdown or null,
                             "ended_by": null, "shutdown" (now, from inside), "scheduled
                             shutdown", "spot interruption" or "TerminateInstances",
                             "stopped": bool, "stopped_by": null, "spot interruption"
                             or "StopInstances", "boots": n (1, +1 per start),
                             "interrupt_action": null, "stop" or "terminate",
                             "restart_in": seconds until the fake starts it or null,
                             "units": {name: seconds until it runs} (systemd-run's),
                             "spot_request": the newest request that launched it or null,
                             "private_ip": its 127.x address, "type", "az",
                             "security_groups": [sg ids, as moto has them],
                             "placement_group": the name of the group it was
                             launched into or null}}
  GET  /__fake/placement-groups {"<name>": {"id", "region", "strategy", "tags": {key:
                             value}, "created" (ISO), "instances": [ids launched into it
                             and not terminated]}}
  GET  /__fake/spot-requests {"<sir-id>": {"state", "status" (its code), "instance",
                             "type", "behaviour", "valid_until" (ISO or null), "tags":
                             {key: value}, "region", "az", "created" (ISO)}}
  POST /__fake/reset        no rules, no counts, offset 0, default settings and prices,
                             no remembered ClientTokens; every instance's processes ended
                             and the instance forgotten (its files stay; one still
                             running in moto is found again, as if just booted)
  GET  /__fake/counts       {"total": n, "faults": n, "connections": n (that carried AWS requests),
                             "requests": {"sts GetCallerIdentity": n, "POST /": n, ...}}
  rules, clock, reset and counts answer the counts.

The fake's own look-ups (DescribeInstances, GetInstanceProfile, TerminateInstances)
go straight to moto, unsigned: moto must run without authentication (its default).

Run it with /usr/bin/python3 (Debian's, which sees python3-botocore). Nothing in
it reaches any address but 127.0.0.1 or touches files outside its sandbox root.
"""

import argparse
import base64
import calendar
import datetime
import fnmatch
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from email.utils import formatdate

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "trailers", "transfer-encoding", "upgrade", "content-length",
              "date"}
MAX_SKEW = 15 * 60
DEFAULT_SETTINGS = {"ready_delay": 0.0, "invocation_delay": 0.0, "interrupt_grace": 5.0,
                    "user_data": False, "aws_cli": "standin", "s3_regions": "off",
                    "shutdown_minute": 60.0, "restart_after": None, "spot_capacity": {}}
AWS_CLIS = ("standin", "real")
S3_REGIONS = ("off", "301", "400")
# the stand-in for `aws s3 cp` (aws-cli-standin.py says why), beside this file
# the tests' GIT_TRAIN_POLL_SCALE, passed on to the instances (the runner's tick)
POLL_SCALE = {k: v for k, v in os.environ.items() if k == "GIT_TRAIN_POLL_SCALE"}
STANDIN_AWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aws-cli-standin.py")
DEFAULT_ROLE = "git-train-instance"
STDOUT_MAX = 24000  # what GetCommandInvocation keeps, as on AWS
STDERR_MAX = 8000
# the fake's own calls to moto: moto, without authentication, checks no signature
INTERNAL_KEY = "AKIAAWSFAKEINTERNAL0"


class Response:
    def __init__(self, status, body=b"", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode()
        self.headers = list(headers or [])


class Call:
    """One request, as the handlers and fault rules see it."""

    def __init__(self, method, target, headers, body):
        self.method = method
        self.target = target  # path and query, as sent
        self.path, _, self.query = target.partition("?")
        self.headers = headers
        self.body = body
        self.request_id = str(uuid.uuid4())
        self.service = self._service()
        self.action = self._action()
        self._params = None

    def header(self, name):
        return self.headers.get(name)

    def _scope(self):
        scope = parse_authorization(self.header("Authorization") or "").get("scope")
        if scope and len(scope) == 5:
            return scope
        cred = urllib.parse.parse_qs(self.query).get("X-Amz-Credential")
        if cred and len(cred[0].split("/")) == 5:
            return cred[0].split("/")
        return None

    def _service(self):
        scope = self._scope()
        return scope[3] if scope else "unknown"

    @property
    def region(self):
        scope = self._scope()
        return scope[2] if scope else None

    def _action(self):
        target = self.header("X-Amz-Target")
        if target:
            return target.rsplit(".", 1)[-1]
        if self.service == "s3":
            return self.method
        form = urllib.parse.parse_qs(self.body.decode("utf-8", "replace"))
        return form.get("Action", ["?"])[0]

    @property
    def style(self):
        if self.service == "s3":
            return "s3"
        if self.service == "ec2":
            return "ec2"
        if self.header("X-Amz-Target"):
            return "json"
        return "query"

    @property
    def params(self):
        """The request's parameters: top-level JSON fields, or Query ones."""
        if self._params is None:
            self._params = {}
            if self.style == "json":
                try:
                    doc = json.loads(self.body or b"{}")
                except ValueError:
                    doc = None
                self._params = doc if isinstance(doc, dict) else {}
            else:
                self._params = dict(urllib.parse.parse_qsl(self.query, keep_blank_values=True))
                if self.style != "s3":
                    self._params.update(urllib.parse.parse_qsl(
                        self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return self._params


def aws_error(call, status, code, message):
    """An error response shaped the way call's service shapes them."""
    rid = call.request_id
    if call.style == "json":
        body = json.dumps({"__type": "com.amazonaws.fake#" + code, "message": message})
        return Response(status, body, [("Content-Type", "application/x-amz-json-1.1"),
                                       ("x-amzn-RequestId", rid)])
    esc = (message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    if call.style == "s3":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{esc}</Message><RequestId>{rid}</RequestId></Error>")
        return Response(status, body, [("Content-Type", "application/xml"),
                                       ("x-amz-request-id", rid)])
    if call.style == "ec2":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                f"<Code>{code}</Code><Message>{esc}</Message></Error></Errors>"
                f"<RequestID>{rid}</RequestID></Response>")
        return Response(status, body, [("Content-Type", "text/xml;charset=UTF-8")])
    body = (f'<ErrorResponse xmlns="https://{call.service}.amazonaws.com/doc/">'
            f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{esc}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>")
    return Response(status, body, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)])


def json_response(call, doc):
    return Response(200, json.dumps(doc), [("Content-Type", "application/x-amz-json-1.1"),
                                           ("x-amzn-RequestId", call.request_id)])


def parse_authorization(value):
    if not value.startswith("AWS4-HMAC-SHA256 "):
        return {}
    out = {}
    for part in value[len("AWS4-HMAC-SHA256 "):].split(","):
        name, _, v = part.strip().partition("=")
        out[name] = v
    if "Credential" in out:
        out["scope"] = out["Credential"].split("/")
    return out


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class State:
    def __init__(self, keys, clock_offset, upstream, sandbox, region):
        self.lock = threading.Lock()
        self.keys = dict(keys)  # access key id -> secret
        self.tokens = {}  # access key id -> the only session token it takes
        self.upstream = upstream
        self.sandbox = sandbox
        self.region = region
        self.url = None  # ours, once listening
        self.regions = {region}  # where instances may be
        self.sync_lock = threading.Lock()  # one look at moto's instances at a time
        self.launch_lock = threading.Lock()  # one RunInstances with a ClientToken at a time
        self.instances = {}  # id -> Instance
        self.invocations = {}  # (command id, instance id) -> Invocation
        self.user_data = {}  # instance id -> bytes, from RunInstances
        # id -> SpotRequest: AWS's state, as moto's instances are, so kept on reset
        self.spot_requests = {}
        self.spot_lock = threading.RLock()
        # AWS's state too, kept on reset (see "Several instances"): instance id ->
        # its 127.x address; (region, name) -> PlacementGroup; instance id ->
        # (region, name) of the placement group it was launched in
        self.addresses = {}
        self.placement_groups = {}
        self.instance_groups = {}
        self.address_lock = threading.Lock()
        self.reset()
        self.clock_offset = clock_offset

    def reset(self):
        """Back to a fresh start, but for instances (see reset_instances)."""
        self.rules = []
        self.rule_hits = []
        self.total = 0
        self.faults = 0
        self.requests = {}
        self.connections = 0
        self.clock_offset = 0
        self.settings = dict(DEFAULT_SETTINGS)
        self.prices = {}
        self.spot_prices = {}
        self.client_tokens = {}  # (region, token) -> (parameters, Response)

    def now(self):
        return time.time() + self.clock_offset

    def setting(self, name):
        return self.settings[name]


# --- signature verification, by botocore --------------------------------

def token_error(call):
    if call.style == "s3":
        return aws_error(call, 400, "InvalidToken",
                         "The provided token is malformed or otherwise invalid.")
    return aws_error(call, 403, "InvalidClientTokenId",
                     "The security token included in the request is invalid.")


def verify(state, call, host):
    """None when the request is well signed, else the error Response."""
    auth = parse_authorization(call.header("Authorization") or "")
    if not auth:
        return aws_error(call, 403, "MissingAuthenticationToken",
                         "Request is missing Authentication Token")
    scope = auth.get("scope") or []
    if len(scope) != 5 or scope[4] != "aws4_request":
        return aws_error(call, 400, "IncompleteSignature", "malformed credential scope")
    akid, date, region, service = scope[:4]
    secret = state.keys.get(akid)
    if secret is None:
        return aws_error(call, 403, "InvalidClientTokenId",
                         "The security token included in the request is invalid.")
    want_token = state.tokens.get(akid)
    if want_token is not None and not hmac.compare_digest(
            want_token, call.header("X-Amz-Security-Token") or ""):
        return token_error(call)
    amz_date = call.header("X-Amz-Date") or ""
    try:
        t = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
    except ValueError:
        return aws_error(call, 400, "IncompleteSignature", "missing or bad X-Amz-Date")
    if abs(state.now() - t) > MAX_SKEW:
        return aws_error(call, 403, "RequestTimeTooSkewed",
                         "The difference between the request time and the current time "
                         "is too large.")
    if amz_date[:8] != date:
        return aws_error(call, 403, "SignatureDoesNotMatch", "credential date is not X-Amz-Date's")
    signed = auth.get("SignedHeaders", "").split(";")
    if "host" not in signed:
        return aws_error(call, 403, "SignatureDoesNotMatch", "host is not signed")
    req = AWSRequest(method=call.method, url="http://" + host + call.target, data=call.body)
    for name, value in call.headers.items():
        if name.lower() in signed:
            req.headers[name] = value
    req.context["timestamp"] = amz_date
    creds = Credentials(akid, secret, call.header("X-Amz-Security-Token"))
    signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(creds, service, region)
    claimed = call.header("X-Amz-Content-SHA256")
    if claimed and claimed != "UNSIGNED-PAYLOAD" and \
            claimed != hashlib.sha256(call.body).hexdigest():
        return aws_error(call, 400, "XAmzContentSHA256Mismatch",
                         "The provided 'x-amz-content-sha256' header does not match what "
                         "was computed.")
    canonical = signer.canonical_request(req)
    want = signer.signature(signer.string_to_sign(req, canonical), req)
    if signer.signed_headers(signer.headers_to_sign(req)) != auth.get("SignedHeaders") or \
            not hmac.compare_digest(want, auth.get("Signature", "")):
        log(f"signature mismatch; botocore's canonical request:\n{canonical}")
        return aws_error(call, 403, "SignatureDoesNotMatch",
                         "The request signature we calculated does not match the signature "
                         "you provided. Check your AWS Secret Access Key and signing method.")
    return None


# --- faults ----------------------------------------------------------------

def params_match(want, call):
    got = call.params
    for name, value in want.items():
        if value is None:
            if name in got:
                return False
        elif name not in got or (got[name] != value and str(got[name]) != str(value)):
            return False
    return True


def rule_selects(rule, call):
    if rule.get("service") and rule["service"] != call.service:
        return False
    if rule.get("action") and rule["action"] != call.action:
        return False
    if rule.get("method") and rule["method"] != call.method:
        return False
    if rule.get("params") and not params_match(rule["params"], call):
        return False
    return not rule.get("path") or call.path.startswith(rule["path"])


def rule_fires(rule, k):
    if "every" in rule:
        return (k - 1) % int(rule["every"]) == 0
    if "nth" in rule:
        return k in rule["nth"]
    if "times" in rule:
        return k <= int(rule["times"])
    return True


def pick_fault(state, call):
    with state.lock:
        for i, rule in enumerate(state.rules):
            if not rule_selects(rule, call):
                continue
            state.rule_hits[i] += 1
            if rule_fires(rule, state.rule_hits[i]):
                state.faults += 1
                return rule
    return None


THROTTLE = {"ec2": (503, "RequestLimitExceeded", "Request limit exceeded."),
            "s3": (503, "SlowDown", "Please reduce your request rate."),
            "json": (400, "ThrottlingException", "Rate exceeded"),
            "query": (400, "Throttling", "Rate exceeded")}


def internal_error(call):
    code = "InternalServerError" if call.style == "json" else "InternalError"
    return aws_error(call, 500, code, "We encountered an internal error. Please try again.")


def fault_response(rule, call):
    """The Response for a fault, or None to carry on (slow) or drop."""
    kind = rule.get("fault")
    if kind == "throttle":
        return aws_error(call, *THROTTLE[call.style])
    if kind == "error500":
        return internal_error(call)
    if kind == "error":
        return aws_error(call, int(rule.get("status", 400)), rule.get("code", "BadRequest"),
                         rule.get("message", "injected error"))
    if kind == "malformed":
        body = rule.get("body", "<html><body><h1>502 Bad Gateway</h1>")
        return Response(int(rule.get("status", 400)), body, [("Content-Type", "text/html")])
    if kind == "slow":
        time.sleep(float(rule.get("delay", 2)))
        return None
    raise ValueError(f"unknown fault {kind!r}")


# --- S3 buckets in other regions ---------------------------------------------

def s3_bucket_of(call, host):
    """The bucket an S3 request is about: the Host's first labels before
    .localhost (virtual-hosted), else the path's first segment; None for
    ListBuckets."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if name.endswith(".localhost"):
        return name[:-len(".localhost")]
    first = call.path.lstrip("/").split("/", 1)[0]
    return urllib.parse.unquote(first) or None


def s3_wrong_region(state, call, host):
    """With settings s3_regions, S3's answer to a request signed for another
    region than its bucket's, else None. moto serves any bucket in any region;
    S3 says where the bucket is: "301" a PermanentRedirect with
    x-amz-bucket-region (a HEAD: the bare 301), "400" an
    AuthorizationHeaderMalformed naming the region in <Region> only (a HEAD:
    a bare 400 with x-amz-bucket-region, the one place it can say)."""
    mode = state.setting("s3_regions")
    if mode == "off" or call.service != "s3" or "location" in \
            urllib.parse.parse_qs(call.query, keep_blank_values=True):
        return None
    bucket = s3_bucket_of(call, host)
    if not bucket:
        return None
    up = state.upstream
    conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
    try:
        conn.request("HEAD", "/" + urllib.parse.quote(bucket))
        r = conn.getresponse()
        r.read()
        region = r.getheader("x-amz-bucket-region")
    finally:
        conn.close()
    if r.status != 200 or not region or region == call.region:
        return None
    header = [("x-amz-bucket-region", region)]
    if call.method == "HEAD":
        return Response(int(mode), b"", header)
    if mode == "301":
        res = aws_error(call, 301, "PermanentRedirect",
                        "The bucket you are attempting to access must be addressed using the "
                        "specified endpoint. Please send all future requests to this endpoint.")
        res.headers += header
        return res
    res = aws_error(call, 400, "AuthorizationHeaderMalformed",
                    f"The authorization header is malformed; the region '{call.region}' is "
                    f"wrong; expecting '{region}'")
    res.body = res.body.replace(b"</Message>", f"</Message><Region>{region}</Region>".encode())
    return res


# --- services the fake implements itself -----------------------------------

SERVICE_HANDLERS = {}


def service_handler(service):
    """Registers fn(state, call) -> Response or None (None: forward to moto)."""
    def register(fn):
        SERVICE_HANDLERS.setdefault(service, []).append(fn)
        return fn
    return register


def forward(upstream, call):
    conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
    try:
        headers = {k: v for k, v in call.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(call.body))
        conn.request(call.method, call.target, body=call.body, headers=headers)
        r = conn.getresponse()
        body = r.read()
        out = Response(r.status, body, [(k, v) for k, v in r.getheaders()
                                        if k.lower() not in HOP_BY_HOP])
        if call.method == "HEAD" and r.getheader("Content-Length"):
            out.head_length = r.getheader("Content-Length")
        return out
    finally:
        conn.close()


def xml_root(body):
    """The parsed document, its tags without namespaces, or None."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for el in root.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
    return root


def moto_query(state, service, region, params):
    """The fake's own Query call, straight to moto: (status, parsed XML)."""
    date = time.strftime("%Y%m%d", time.gmtime())
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential={INTERNAL_KEY}/{date}/{region}/"
                                f"{service}/aws4_request, SignedHeaders=host, Signature=0",
               "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    up = state.upstream
    conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
    try:
        conn.request("POST", "/", body=urllib.parse.urlencode(params), headers=headers)
        r = conn.getresponse()
        return r.status, xml_root(r.read())
    finally:
        conn.close()


# --- an instance's processes -------------------------------------------------
#
# A process belongs to a sandbox when its environment (as it was exec'ed: the
# kernel's copy, which a setsid or nohup does not change) points into it. So
# the runner's detached processes are found however they detached.

SANDBOX_VARS = (b"PATH", b"HOME", b"TMPDIR", b"GIT_TRAIN_RUNNER_DIR", b"AWS_CONFIG_FILE",
                b"AWS_SHARED_CREDENTIALS_FILE")


def sandbox_pids(prefix):
    """The processes whose environment points under prefix (a directory)."""
    prefix = os.fsencode(prefix)
    me, out = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        for item in env.split(b"\0"):
            key, _, value = item.partition(b"=")
            if key in SANDBOX_VARS and value.startswith(prefix):
                out.append(int(name))
                break
    return out


def kill_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def end_processes(prefix, grace=1.0):
    """SIGTERM, then SIGKILL until none is left, as a shutdown would."""
    pids = sandbox_pids(prefix)
    if not pids:
        return
    kill_pids(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and sandbox_pids(prefix):
        time.sleep(0.05)
    for _ in range(200):  # a process may fork while we look: look again
        pids = sandbox_pids(prefix)
        if not pids:
            return
        kill_pids(pids, signal.SIGKILL)
        time.sleep(0.02)
    log(f"processes under {prefix} would not die: {pids}")


# --- stand-ins for the commands that would shut down or reconfigure a machine -

STANDIN_HEAD = """#!/bin/sh
# aws-fake's stand-in for {name}: records the call; never touches this machine.
if test $# -gt 0; then line="{name} $*"; else line={name}; fi
printf '%s\\n' "$line" >>'{dir}/calls.log'
sandbox='{dir}'
halt_now() {{
	curl -s -o /dev/null --noproxy '*' -m 10 -X POST '{url}/__fake/shutdown/{id}' || :
}}
schedule() {{
	printf '{{"minutes": %s}}' "$1" |
		curl -s -o /dev/null --noproxy '*' -m 10 -X POST --data-binary @- \\
			'{url}/__fake/schedule/{id}' || :
}}
unit_call() {{
	printf '%s' "$1" |
		curl -s -o /dev/null --noproxy '*' -m 10 -X POST --data-binary @- \\
			'{url}/__fake/unit/{id}' || :
}}
"""
STANDIN_BODY = {
    "shutdown": """now= other= cancel= when=
for a in "$@"; do
	case $a in
	now|+0) now=1 ;;
	+*[!0-9]*) other=1 ;;
	+[0-9]*) when=${a#+} ;;
	-c) cancel=1 ;;
	-r|--reboot|-k|--help|--show|[0-9]*:*) other=1 ;;
	esac
done
if test -n "$other"; then :
elif test -n "$cancel"; then schedule null
elif test -n "$now"; then halt_now
else schedule "${when:-1}"
fi
""",
    "poweroff": """for a in "$@"; do
	case $a in --help|-w|--wtmp-only|--reboot) exit 0 ;; esac
done
halt_now
""",
    "systemctl": """verb=
for a in "$@"; do
	case $a in
	-*) ;;
	*)
		if test -z "$verb"; then
			verb=$a
			case $a in poweroff|halt) halt_now; break ;; stop|kill) ;; *) break ;; esac
		else
			case $a in
			*[!A-Za-z0-9@._:-]*) ;;
			*) unit_call "{\\"unit\\": \\"$a\\", \\"stop\\": true}" ;;
			esac
		fi
		;;
	esac
done
""",
    "systemd-run": """unit= delay=
while test $# -gt 0; do
	case $1 in
	--unit=*) unit=${1#--unit=} ;;
	-u|--unit) shift; unit=$1 ;;
	--on-active=*) delay=${1#--on-active=} ;;
	--on-active) shift; delay=$1 ;;
	-p|--property|--description|--setenv|-E|--uid|--gid|--slice|--working-directory|-M|-H)
		shift ;;
	--) shift; break ;;
	-*) ;;
	*) break ;;
	esac
	shift
done
test $# -gt 0 || { echo "systemd-run: a command is needed" >&2; exit 1; }
test -n "$unit" || unit=run-u$$
case $unit$delay in
*[!A-Za-z0-9@._:\ -]*) echo "systemd-run: aws-fake takes no unit or time like that" >&2; exit 1 ;;
esac
mkdir -p "$sandbox/run/systemd-run" &&
printf '%s\\0' "$@" >"$sandbox/run/systemd-run/$unit.argv" || exit 1
unit_call "{\\"unit\\": \\"$unit\\", \\"on_active\\": \\"$delay\\"}"
if test -n "$delay"; then
	echo "Running timer as unit: $unit.timer" >&2
else
	echo "Running as unit: $unit.service" >&2
fi
""",
    "reboot": "",
}
STANDIN_BODY["halt"] = STANDIN_BODY["poweroff"]
STANDIN_AWS_SCRIPT = """#!/bin/sh
# aws-fake's stand-in for the AWS CLI's `aws s3 cp` (settings aws_cli: real for the CLI)
exec /usr/bin/python3 -S '{py}' "$@"
"""


# --- instances ----------------------------------------------------------------

def random_id(n, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
    return "".join(secrets.choice(alphabet) for _ in range(n))


class Instance:
    """An EC2 instance as the fake runs it: a sandbox, an IMDS, processes."""

    def __init__(self, state, info, region):
        self.state = state
        self.id = info["id"]
        self.info = info
        self.region = region
        self.dir = os.path.join(state.sandbox, self.id) if state.sandbox else None
        self.seen_running = time.time()
        self.stopped = False
        self.ending = False  # terminating: no going back
        self.shutting_down = False  # shut_down() has asked moto to terminate it
        self.terminated = False  # and its processes are gone
        self.interrupt_at = None
        self.interrupt_action = None  # "stop" or "terminate", once interrupted
        self.stopped_by = None  # "spot interruption" or "StopInstances", while stopped
        self.boots = 1
        self.restart_at = None  # when EC2 starts it again after a spot interruption
        self.units = {}  # systemd-run's transient units: name -> (timer, when)
        self.shutdown_timer = None  # shutdown +N: (timer, when)
        self.ended_by = None
        self.commands = []
        self.lock = threading.Lock()
        self.imds = None
        self.imds_tokens = {}
        self.role = role_of(state, info, region)
        self.key = ("ASIA" + random_id(16), secrets.token_urlsafe(30),
                    "IQoJb3JpZ2luX2VjEFake" + secrets.token_urlsafe(96))
        self.key_expiry = time.time() + 6 * 3600
        with state.lock:
            state.keys[self.key[0]] = self.key[1]
            state.tokens[self.key[0]] = self.key[2]
        if self.dir:
            self.make_sandbox()
            self.start_imds()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def make_sandbox(self):
        for d in ("bin", "root", "home/.aws", "tmp", "var/lib/git-train", "var/log"):
            os.makedirs(self.path(d), exist_ok=True)
        for name in ("config", "credentials"):
            open(self.path("home/.aws", name), "w").close()
        open(self.path("calls.log"), "a").close()
        for name, body in STANDIN_BODY.items():
            script = STANDIN_HEAD.format(name=name, dir=self.dir, url=self.state.url,
                                         id=self.id) + body + "exit 0\n"
            with open(self.path("bin", name), "w") as f:
                f.write(script)
            os.chmod(self.path("bin", name), 0o755)
        gpu_sandbox(self)
        torch_sandbox(self)
        aws = self.path("bin", "aws")
        if self.state.setting("aws_cli") == "standin":
            with open(aws, "w") as f:
                f.write(STANDIN_AWS_SCRIPT.format(py=STANDIN_AWS))
            os.chmod(aws, 0o755)
        elif os.path.exists(aws):
            os.remove(aws)

    def start_imds(self):
        server = ImdsServer(("127.0.0.1", 0), ImdsHandler)
        server.instance = self
        self.imds = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()

    def stop_imds(self):
        server, self.imds = self.imds, None
        if server:
            server.shutdown()
            server.server_close()

    @property
    def imds_port(self):
        return self.imds.server_address[1] if self.imds else None

    def online(self):
        return (not self.ending and not self.stopped and
                time.time() - self.seen_running >= self.state.setting("ready_delay"))

    def environment(self):
        return {
            "PATH": self.path("bin") + ":" + os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.path("home"),
            "TMPDIR": self.path("tmp"),
            "GIT_TRAIN_RUNNER_DIR": self.path("var/lib/git-train"),
            "AWS_ENDPOINT_URL": self.state.url,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://127.0.0.1:{self.imds_port}/",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_CONFIG_FILE": self.path("home/.aws/config"),
            "AWS_SHARED_CREDENTIALS_FILE": self.path("home/.aws/credentials"),
            "GLOO_SOCKET_IFNAME": "lo",
            "GIT_TRAIN_IMAGE_ROOT": self.path("image"),
            **POLL_SCALE,
            **gpu_environment(self),
        }

    def calls(self):
        try:
            with open(self.path("calls.log"), encoding="utf-8", errors="replace") as f:
                return f.read().splitlines()
        except (OSError, TypeError):
            return []

    def end_processes(self):
        if self.dir:
            end_processes(self.dir + "/")

    def schedule(self, minutes):
        """shutdown +minutes (None: shutdown -c); it replaces the one before, as systemd's."""
        with self.lock:
            if self.shutdown_timer:
                self.shutdown_timer[0].cancel()
            self.shutdown_timer = None
            if minutes is None or self.ending:
                return
            delay = float(minutes) * float(self.state.setting("shutdown_minute"))
            timer = threading.Timer(delay, self.scheduled)
            timer.daemon = True
            self.shutdown_timer = (timer, time.time() + delay)
            timer.args = (self.shutdown_timer,)
            timer.start()

    def scheduled(self, which):
        with self.lock:
            if self.shutdown_timer is not which:
                return  # replaced or cancelled while it fired
        log(f"instance {self.id}: its scheduled shutdown")
        self.shut_down("scheduled shutdown")

    def stop(self, why="StopInstances"):
        """Stopped: its processes are gone; started again, it boots anew."""
        self.mark_stopped(why)
        self.end_processes()

    def mark_stopped(self, why):
        self.schedule(None)
        self.stop_units()
        with self.lock:
            if not self.stopped:
                self.stopped_by = why
            self.stopped = True

    def start(self):
        """Boots again (a StartInstances, or EC2 after a spot interruption):
        Online after ready_delay, no interruption notice, the per-boot scripts run."""
        with self.lock:
            if not self.stopped or self.ending:
                return
            self.stopped = False
            self.stopped_by = None
            self.seen_running = time.time()
            self.interrupt_at = self.interrupt_action = None
            self.imds_tokens = {}
            self.boots += 1
        log(f"instance {self.id} started again (boot {self.boots})")
        if self.dir:
            threading.Thread(target=self.run_per_boot, args=(self.boots,), daemon=True).start()

    def run_unit(self, name, seconds, argv):
        """systemd-run [--on-active=...]: argv runs in seconds (0: now),
        detached, in the instance's environment, unless stopped first."""
        with self.lock:
            old = self.units.pop(name, None)
            if old:
                old[0].cancel()
            if self.ending or self.stopped:
                return
            timer = threading.Timer(seconds, self.unit_fires, args=(name, argv))
            timer.daemon = True
            self.units[name] = (timer, time.time() + seconds)
            timer.args = (name, argv, self.units[name])
        timer.start()

    def unit_fires(self, name, argv, which):
        with self.lock:
            if self.units.get(name) is not which or self.ending or self.stopped:
                return
            del self.units[name]
        log(f"instance {self.id}: unit {name} runs {argv}")
        try:
            with open(self.path("var/log/systemd-run.log"), "ab") as out:
                proc = subprocess.Popen(argv, cwd=self.path("root"),
                                        env=self.environment(), stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        except OSError as e:
            log(f"instance {self.id}: unit {name} failed: {e}")
            return
        threading.Thread(target=proc.wait, daemon=True).start()  # no zombie

    def stop_units(self, name=None):
        """systemctl stop <name>[.timer|.service]; None: all (the machine stops)."""
        with self.lock:
            for unit in [name] if name is not None else list(self.units):
                found = self.units.pop(unit, None)
                if found:
                    found[0].cancel()

    def run_per_boot(self, boot):
        """As cloud-init's scripts-per-boot module: each file of
        /var/lib/cloud/scripts/per-boot, sorted by name, with sh, one after the
        other, for as long as this boot lasts."""
        d = self.path("var/lib/cloud/scripts/per-boot")
        try:
            names = sorted(n for n in os.listdir(d) if os.path.isfile(os.path.join(d, n)))
        except OSError:
            return
        for name in names:
            if self.stopped or self.ending or self.boots != boot:
                return
            log(f"instance {self.id}: per-boot script {name}")
            with open(self.path("var/log/cloud-init-output.log"), "ab") as out:
                proc = subprocess.Popen(["sh", os.path.join(d, name)], cwd=self.path("root"),
                                        env=self.environment(), stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True)
            proc.wait()

    def terminate(self, forgotten=False):
        """The machine is gone: its processes and its metadata service."""
        with self.lock:
            if self.ending:
                return
            self.ending = True
            self.ended_by = self.ended_by or "TerminateInstances"
            if self.shutdown_timer:
                self.shutdown_timer[0].cancel()
            self.shutdown_timer = None
        self.stop_units()
        self.end_processes()
        self.stop_imds()
        self.terminated = True
        spot_ended(self.state, self.id, self.ended_by, forgotten)
        log(f"instance {self.id} terminated")

    def shut_down(self, reason="shutdown"):
        """From inside (shutdown, or the end of a spot interruption)."""
        if self.ending:
            return
        self.ended_by = self.ended_by or reason
        # under the lock a spot interruption's stop takes: moto would stop
        # an instance it has terminated, if the stop came second
        with self.state.sync_lock:
            self.shutting_down = True
            status, _ = moto_query(self.state, "ec2", self.region,
                                   {"Action": "TerminateInstances", "Version": "2016-11-15",
                                    "InstanceId.1": self.id})
        if status != 200:
            log(f"moto would not terminate {self.id}: {status}")
        self.terminate()

    def interrupt(self, restart_after=None):
        """A spot interruption: the notice now; after interrupt_grace the
        instance of a persistent request that stops is stopped (and started
        again after restart_after seconds, None: never), any other terminated."""
        grace = float(self.state.setting("interrupt_grace"))
        req = spot_request_of(self.state, self.id)
        stop = req is not None and req.type == "persistent" and \
            req.behaviour in ("stop", "hibernate") and req.state == "active"
        self.interrupt_action = req.behaviour if stop else "terminate"
        self.interrupt_at = time.time() + grace
        if stop:
            timer = threading.Timer(grace, self.spot_stop, args=(req, restart_after))
        else:
            timer = threading.Timer(grace, self.shut_down, args=("spot interruption",))
        timer.daemon = True
        timer.start()
        return self.interrupt_at

    def spot_stop(self, req, restart_after):
        if self.ending or self.stopped or self.shutting_down:
            return
        with self.state.spot_lock:
            if req.state == "active":
                req.set("disabled", "instance-stopped-no-capacity")
        with self.state.sync_lock:  # no sync sees moto's state before ours
            if self.ending or self.shutting_down:
                return  # it shut itself down during the notice's grace
            status, _ = moto_query(self.state, "ec2", self.region,
                                   {"Action": "StopInstances", "Version": "2016-11-15",
                                    "InstanceId.1": self.id})
            if status != 200:
                log(f"moto would not stop {self.id}: {status}")
            self.mark_stopped("spot interruption")
        self.end_processes()
        log(f"instance {self.id} stopped by a spot interruption; "
            + (f"restarts in {restart_after} s" if restart_after is not None else "no restart"))
        if restart_after is not None:
            self.restart_at = time.time() + float(restart_after)
            timer = threading.Timer(float(restart_after), self.spot_restart, args=(req,))
            timer.daemon = True
            timer.start()

    def spot_restart(self, req):
        """Capacity is back: EC2 starts the instance of a request still disabled."""
        self.restart_at = None
        with self.state.spot_lock:
            if self.ending or not self.stopped or req.state != "disabled" or \
                    req.instance != self.id:
                log(f"instance {self.id}: no restart (request {req.id} {req.state})")
                return
            req.set("active", "fulfilled")
        with self.state.sync_lock:
            status, _ = moto_query(self.state, "ec2", self.region,
                                   {"Action": "StartInstances", "Version": "2016-11-15",
                                    "InstanceId.1": self.id})
            if status != 200:
                log(f"moto would not start {self.id}: {status}")
            self.start()

    def describe(self):
        when = self.shutdown_timer[1] if self.shutdown_timer else None
        return {"sandbox": self.dir, "imds_port": self.imds_port, "online": self.online(),
                "commands": list(self.commands), "calls": self.calls(),
                "terminated": self.terminated, "interrupted": self.interrupt_at is not None,
                "stopped": self.stopped, "stopped_by": self.stopped_by, "boots": self.boots,
                "interrupt_action": self.interrupt_action,
                "restart_in": round(max(0.0, self.restart_at - time.time()), 1)
                if self.restart_at else None,
                "spot_request": getattr(spot_request_of(self.state, self.id), "id", None),
                "units": {n: round(max(0.0, w - time.time()), 1)
                          for n, (_, w) in list(self.units.items())},
                "region": self.region, "role": self.role, "ended_by": self.ended_by,
                "private_ip": self.info["private_ip"], "type": self.info["type"],
                "az": self.info["az"], "security_groups": list(self.info.get("groups", [])),
                "placement_group": placement_group_of(self.state, self.id),
                "shutdown_in": round(max(0.0, when - time.time()), 1) if when else None}

    def run_user_data(self):
        data = self.state.user_data.get(self.id)
        if not data or not data.startswith(b"#!"):
            return  # nothing, or cloud-config: not a script
        script = self.path("var/lib/cloud/user-data.sh")
        os.makedirs(os.path.dirname(script), exist_ok=True)
        with open(script, "wb") as f:
            f.write(data)
        with open(self.path("var/log/cloud-init-output.log"), "ab") as out:
            proc = subprocess.Popen(["sh", script], cwd=self.path("root"),
                                    env=self.environment(), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        threading.Thread(target=proc.wait, daemon=True).start()  # no zombie


def role_of(state, info, region):
    """The role of the instance's profile, as IMDS names it."""
    arn = info.get("profile_arn")
    if not arn:
        return DEFAULT_ROLE
    status, root = moto_query(state, "iam", region,
                              {"Action": "GetInstanceProfile", "Version": "2010-05-08",
                               "InstanceProfileName": arn.rsplit("/", 1)[-1]})
    name = root.find(".//Roles/member/RoleName") if status == 200 and root is not None else None
    return name.text if name is not None else DEFAULT_ROLE


def moto_instances(state, region):
    """{id: info} of every instance moto has in region."""
    status, root = moto_query(state, "ec2", region,
                              {"Action": "DescribeInstances", "Version": "2016-11-15"})
    if status != 200 or root is None:
        log(f"moto's DescribeInstances in {region}: {status}")
        return None
    out = {}
    for res in root.iterfind("reservationSet/item"):
        for it in res.iterfind("instancesSet/item"):
            def text(path, default=""):
                el = it.find(path)
                return el.text if el is not None and el.text else default
            info = {"id": text("instanceId"), "state": text("instanceState/name"),
                    "type": text("instanceType"), "image": text("imageId"),
                    "az": text("placement/availabilityZone", region + "a"),
                    "profile_arn": text("iamInstanceProfile/arn"),
                    "lifecycle": text("instanceLifecycle", "on-demand"),
                    "private_ip": private_address(state, text("instanceId")),
                    "groups": sorted({g.text for g in it.iterfind(".//groupSet/item/groupId")
                                      if g.text}),
                    "launch_time": text("launchTime"), "arch": text("architecture", "x86_64"),
                    "account": res.findtext("ownerId") or "123456789012"}
            out[info["id"]] = info
    return out


def sync(state, region):
    """Brings the fake's instances in region in line with moto's."""
    with state.sync_lock:
        found = moto_instances(state, region)
        if found is None:
            return
        for iid, info in found.items():
            inst = state.instances.get(iid)
            if inst is not None:
                inst.info["groups"] = info["groups"]
            if info["state"] in ("pending", "running"):
                if inst is None:
                    boot(state, info, region)
                elif inst.stopped:
                    inst.start()
            elif info["state"] in ("stopping", "stopped"):
                if inst is not None and not inst.stopped:
                    inst.stop()
            elif inst is not None:
                inst.terminate()
        for inst in instances_of(state).values():
            if inst.region == region and inst.id not in found:
                inst.terminate(forgotten=True)  # moto forgot it (reset)


def boot(state, info, region):
    inst = Instance(state, info, region)
    with state.lock:
        state.instances[inst.id] = inst
    log(f"instance {inst.id} booted: sandbox {inst.dir}, IMDS on port {inst.imds_port}")
    if state.setting("user_data") and inst.dir:
        inst.run_user_data()
    return inst


def instances_of(state):
    """A copy of {id: Instance}, safe to go through while others boot."""
    with state.lock:
        return dict(state.instances)


def sync_all(state):
    for region in sorted(state.regions):
        sync(state, region)


def reset_instances(state):
    """Ends every instance's processes and forgets the instances; files stay."""
    with state.sync_lock:
        with state.lock:
            instances = list(state.instances.values())
            state.instances = {}
            state.invocations = {}
            state.user_data = {}
        for inst in instances:
            inst.schedule(None)
            inst.ending = True
            inst.stop_imds()
            with state.lock:
                state.keys.pop(inst.key[0], None)
                state.tokens.pop(inst.key[0], None)
        if state.sandbox:
            end_processes(state.sandbox + "/i-")


# --- the instance metadata service, IMDSv2 --------------------------------------

class ImdsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


class ImdsHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body="", ctype="text/plain", headers=()):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def raw_path(self):
        """The path as sent: http.server turns a leading // into /."""
        return self.requestline.split(" ")[1].split("?", 1)[0]

    def do_PUT(self):
        inst = self.server.instance
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.raw_path() != "/latest/api/token":
            return self.reply(404, "Not Found")
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            return self.reply(400, "Bad Request")
        token = secrets.token_urlsafe(40)
        inst.imds_tokens[token] = time.time() + ttl
        self.reply(200, token, headers=[("X-aws-ec2-metadata-token-ttl-seconds", str(ttl))])

    def do_GET(self):
        inst = self.server.instance
        token = self.headers.get("X-aws-ec2-metadata-token") or ""
        if inst.imds_tokens.get(token, 0) < time.time():
            return self.reply(401, "Unauthorized")
        out = metadata(inst, self.raw_path())
        if out is None:
            return self.reply(404, "Not Found")
        self.reply(200, out[0], out[1])


def metadata(inst, path):
    """(body, content type) of an IMDS path, or None."""
    if "//" in path:
        return None
    info, creds = inst.info, "/latest/meta-data/iam/security-credentials"
    if path in (creds, creds + "/"):
        return inst.role, "text/plain"
    if path.rstrip("/") == f"{creds}/{inst.role}":
        return json.dumps({"Code": "Success", "LastUpdated": iso(inst.seen_running),
                           "Type": "AWS-HMAC", "AccessKeyId": inst.key[0],
                           "SecretAccessKey": inst.key[1], "Token": inst.key[2],
                           "Expiration": iso(inst.key_expiry)}, indent=2), "text/plain"
    path = path.rstrip("/")
    if path in ("/latest/meta-data/spot/instance-action", "/latest/meta-data/spot/termination-time"):
        if inst.interrupt_at is None:
            return None
        if path.endswith("termination-time"):
            return iso(inst.interrupt_at), "text/plain"
        return json.dumps({"action": inst.interrupt_action or "terminate",
                           "time": iso(inst.interrupt_at)}), "text/plain"
    if path == "/latest/user-data":
        data = inst.state.user_data.get(inst.id)
        return (data, "application/octet-stream") if data else None
    if path == "/latest/dynamic/instance-identity/document":
        return json.dumps({
            "accountId": info["account"], "architecture": info["arch"],
            "availabilityZone": info["az"], "billingProducts": None,
            "devpayProductCodes": None, "marketplaceProductCodes": None,
            "imageId": info["image"], "instanceId": inst.id, "instanceType": info["type"],
            "kernelId": None, "pendingTime": info["launch_time"] or iso(inst.seen_running),
            "privateIp": info["private_ip"], "ramdiskId": None, "region": inst.region,
            "version": "2017-09-30"}, indent=2), "application/json"
    value = {"/latest/meta-data/instance-id": inst.id,
             "/latest/meta-data/instance-type": info["type"],
             "/latest/meta-data/ami-id": info["image"],
             "/latest/meta-data/local-ipv4": info["private_ip"],
             "/latest/meta-data/placement/availability-zone": info["az"],
             "/latest/meta-data/placement/region": inst.region}.get(path)
    return (value, "text/plain") if value is not None else None


# --- EC2: launches are idempotent, and instances boot and end -------------------

def instance_ids(call):
    return [v for k, v in sorted(call.params.items()) if k.startswith("InstanceId.")]


def numbered(params, prefix):
    """The values of prefix.1, prefix.2, ... in their order."""
    found = []
    for k, v in params.items():
        if k.startswith(prefix + ".") and k[len(prefix) + 1:].isdigit():
            found.append((int(k[len(prefix) + 1:]), v))
    return [v for _, v in sorted(found)]


def launched(state, call, res):
    """A RunInstances went through: its instances boot."""
    root = xml_root(res.body) if res.status == 200 else None
    if root is None:
        return
    data = call.params.get("UserData")
    for el in root.iterfind("instancesSet/item/instanceId"):
        if data:
            try:
                state.user_data[el.text] = base64.b64decode(data)
            except ValueError:
                pass
    region = call.region or state.region
    state.regions.add(region)
    sync(state, region)


def run_instances(state, call):
    spot = spot_launch(call)
    if isinstance(spot, Response):
        return spot
    token = call.params.get("ClientToken")
    if not token:
        res = launch_through(state, call, spot)
        launched(state, call, res)
        return res
    if len(token) > 64 or not token.isascii():
        return aws_error(call, 400, "InvalidParameterValue",
                         f"Value ({token}) for parameter clientToken is invalid. "
                         "Length exceeds maximum of 64 ASCII characters.")
    key = (call.region, token)
    with state.launch_lock:
        seen = state.client_tokens.get(key)
        if seen is not None:
            if seen[0] != call.params:
                return aws_error(call, 400, "IdempotentParameterMismatch",
                                 "Arguments on this idempotent request are inconsistent "
                                 "with arguments used in previous request(s).")
            log(f"RunInstances with ClientToken {token} again: the first response")
            return Response(seen[1].status, seen[1].body, seen[1].headers)
        res = launch_through(state, call, spot)
        if res.status == 200:
            state.client_tokens[key] = (dict(call.params), res)
    launched(state, call, res)
    return res


def launch_through(state, call, spot):
    """What RunInstances does once the request is valid: the placement group
    and spot capacity checks, moto's launch, its response patched."""
    res = placement_check(state, call) or spot_capacity_check(state, call, spot)
    if res is not None:
        return res
    # moto launches MinCount instances; AWS as many as it can, up to MaxCount
    # (which spot_capacity_check may have cut)
    try:
        most = int(call.params.get("MaxCount"))
        cap = state.setting("spot_capacity").get(call.params.get("InstanceType")) if spot else None
        replace_param(call, "MinCount", str(most if cap is None else min(most, cap)))
    except (TypeError, ValueError):
        pass  # moto says what is wrong
    res = forward(state.upstream, call)
    root = xml_root(res.body) if res.status == 200 else None
    if root is not None:
        placement_launched(state, call, root)
    res = spot_launched(state, call, spot, res)
    return instances_patch(state, res)


def spot_price_patch(state, res):
    """moto's spot prices (0.00001 for every type) replaced by /__fake/spot-prices'."""
    root = xml_root(res.body) if res.status == 200 else None
    if root is None:
        return res
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    for item in root.iter(ns + "item"):
        itype, price = item.find(ns + "instanceType"), item.find(ns + "spotPrice")
        if itype is not None and price is not None and itype.text in state.spot_prices:
            price.text = "%.6f" % state.spot_prices[itype.text]
    ET.register_namespace("", ns.strip("{}"))
    return Response(200, ET.tostring(root, encoding="utf-8", xml_declaration=True),
                    [("Content-Type", "text/xml;charset=UTF-8")])


@service_handler("ec2")
def ec2_handler(state, call):
    if call.action == "RunInstances":
        return run_instances(state, call)
    if call.action in SPOT_ACTIONS:
        return SPOT_ACTIONS[call.action](state, call)
    if call.action == "DescribeInstances":
        return instances_patch(state, spot_patch(state, forward(state.upstream, call)))
    if call.action == "DescribeSpotPriceHistory" and state.spot_prices:
        return spot_price_patch(state, forward(state.upstream, call))
    if call.action not in ("TerminateInstances", "StopInstances", "StartInstances"):
        return None
    if call.action == "StopInstances":
        for iid in instance_ids(call):
            req = spot_request_of(state, iid)
            if req and req.type == "one-time":
                return aws_error(call, 400, "UnsupportedOperation",
                                 f"You can't stop the Spot Instance '{iid}' because it is "
                                 "associated with a one-time Spot Instance request. You can "
                                 "only stop Spot Instances associated with persistent Spot "
                                 "Instance requests.")
    res = forward(state.upstream, call)
    if res.status != 200:
        return res
    ids = instance_ids(call)
    if call.action == "StartInstances":
        for iid in ids:
            inst = state.instances.get(iid)
            spot_started(state, iid)
            if inst is not None:
                inst.start()
        return res
    if call.action == "StopInstances":
        for iid in ids:
            spot_stopped(state, iid, "instance-stopped-by-user")
    # each instance ends on its own (gc ends a dozen in one call: their
    # IMDS servers take a poll interval each to stop)
    ends = [threading.Thread(target=inst.terminate if call.action == "TerminateInstances"
                             else inst.stop)
            for inst in filter(None, map(state.instances.get, ids))]
    for t in ends:
        t.start()
    for t in ends:
        t.join()
    if call.action == "TerminateInstances":
        for iid in ids:  # those the fake never ran too
            spot_ended(state, iid, "TerminateInstances")
    return res


# --- spot requests: what RunInstances's spot options make ------------------------
#
# moto takes InstanceMarketOptions.SpotOptions and a TagSpecification of
# ResourceType spot-instances-request but ignores them (moto 5: no request is
# made, the instance has no spotInstanceRequestId), so the fake keeps the
# requests itself: RunInstances is forwarded whole (ClientToken idempotency
# covers every parameter) and the fake adds a request per spot instance.

SIR_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
SPOT_TYPES = ("one-time", "persistent")
SPOT_BEHAVIOURS = ("hibernate", "stop", "terminate")
SPOT_LIVE = ("open", "active", "disabled")  # what AWS may still act on
SPOT_MESSAGES = {
    "fulfilled": "Your spot request is fulfilled.",
    "instance-stopped-no-capacity":
        "Your Spot Instance was stopped because there is no more capacity available for the "
        "instance type in the Availability Zone.",
    "instance-stopped-by-user": "Your Spot Instance was stopped by the user.",
    "instance-terminated-by-user":
        "Spot Instance terminated by the user. Your Spot request will be fulfilled again "
        "(persistent) or is closed (one-time).",
    "instance-terminated-no-capacity":
        "Your Spot Instance was terminated because there is no more capacity available for "
        "the instance type in the Availability Zone.",
    "request-canceled-and-instance-running":
        "Spot Instance Request was canceled by the user, but the Spot Instance is still "
        "running.",
    "canceled-before-fulfillment": "Your Spot request was canceled before it was fulfilled.",
}


class SpotRequest:
    def __init__(self, region, kind, behaviour, valid_until, tags, max_price):
        self.id = "sir-" + random_id(8, SIR_ALPHABET)
        self.region = region
        self.type = kind
        self.behaviour = behaviour
        self.valid_until = valid_until  # epoch seconds or None
        self.tags = tags  # [(key, value)] in their order
        self.max_price = max_price
        self.state, self.status, self.updated = "active", "fulfilled", time.time()
        self.created = time.time()
        self.instance = self.az = self.instance_type = self.image = self.profile = None

    def set(self, state, status):
        self.state, self.status, self.updated = state, status, time.time()
        log(f"spot request {self.id} ({self.instance}): {state}, {status}")

    def listing(self):
        return {"state": self.state, "status": self.status, "instance": self.instance,
                "type": self.type, "behaviour": self.behaviour, "region": self.region,
                "az": self.az, "valid_until": iso(self.valid_until) if self.valid_until
                else None, "tags": dict(self.tags), "created": iso(self.created)}

    def xml(self):
        def el(name, value):
            return f"<{name}>{xml_escape(str(value))}</{name}>" if value is not None else ""
        spec = (el("imageId", self.image) + el("instanceType", self.instance_type) +
                (f"<placement>{el('availabilityZone', self.az)}</placement>" if self.az else "") +
                (f"<iamInstanceProfile>{el('arn', self.profile)}</iamInstanceProfile>"
                 if self.profile else "") + "<monitoring><enabled>false</enabled></monitoring>")
        tags = "".join(f"<item>{el('key', k)}{el('value', v)}</item>" for k, v in self.tags)
        return ("<item>" + el("spotInstanceRequestId", self.id) + el("spotPrice", self.max_price) +
                el("type", self.type) + el("state", self.state) +
                f"<status>{el('code', self.status)}{el('updateTime', iso_ms(self.updated))}"
                f"{el('message', SPOT_MESSAGES.get(self.status, self.status))}</status>" +
                f"<launchSpecification>{spec}</launchSpecification>" +
                el("instanceId", self.instance) + el("createTime", iso_ms(self.created)) +
                el("productDescription", "Linux/UNIX") + f"<tagSet>{tags}</tagSet>" +
                el("launchedAvailabilityZone", self.az) +
                el("validUntil", iso_ms(self.valid_until) if self.valid_until else None) +
                el("instanceInterruptionBehavior", self.behaviour) + "</item>")


def xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def iso_ms(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))


def parse_time(text):
    """Epoch seconds of an ISO 8601 time (Z or an offset; as botocore sends it), or None."""
    try:
        t = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t.timestamp()


def spot_launch(call):
    """The spot request RunInstances asks for: None (on-demand), a dict, or an
    error Response for what EC2 refuses."""
    p = call.params
    if p.get("InstanceMarketOptions.MarketType") != "spot":
        return None
    pre = "InstanceMarketOptions.SpotOptions."
    kind = p.get(pre + "SpotInstanceType", "one-time")
    behaviour = p.get(pre + "InstanceInterruptionBehavior", "terminate")
    if kind not in SPOT_TYPES:
        return aws_error(call, 400, "InvalidParameterValue",
                         f"Value ({kind}) for parameter spotInstanceType is invalid.")
    if behaviour not in SPOT_BEHAVIOURS:
        return aws_error(call, 400, "InvalidParameterValue",
                         f"Value ({behaviour}) for parameter instanceInterruptionBehavior "
                         "is invalid.")
    if kind == "one-time" and behaviour != "terminate":
        return aws_error(call, 400, "InvalidParameterCombination",
                         f"The instance interruption behavior '{behaviour}' is supported only "
                         "for persistent Spot Instance requests.")
    valid_until = None
    if pre + "ValidUntil" in p:
        if kind != "persistent":
            return aws_error(call, 400, "InvalidParameterCombination",
                             "ValidUntil is supported only for persistent Spot Instance "
                             "requests.")
        valid_until = parse_time(p[pre + "ValidUntil"])
        if valid_until is None:
            return aws_error(call, 400, "InvalidParameterValue",
                             f"Value ({p[pre + 'ValidUntil']}) for parameter validUntil is "
                             "invalid.")
        if valid_until <= time.time():
            return aws_error(call, 400, "InvalidParameterValue",
                             "validUntil must be in the future.")
    elif kind == "persistent":
        valid_until = time.time() + 7 * 86400  # EC2's default
    tags = []
    for n in range(1, 51):
        spec = f"TagSpecification.{n}."
        if spec + "ResourceType" not in p:
            continue
        if p[spec + "ResourceType"] != "spot-instances-request":
            continue
        for m in range(1, 51):
            if spec + f"Tag.{m}.Key" in p:
                tags.append((p[spec + f"Tag.{m}.Key"], p.get(spec + f"Tag.{m}.Value", "")))
    return {"type": kind, "behaviour": behaviour, "valid_until": valid_until, "tags": tags,
            "max_price": p.get(pre + "MaxPrice")}


def spot_launched(state, call, spot, res):
    """A spot RunInstances went through: a request per instance, named in the
    response's items (which is what a repeat of its ClientToken gets too)."""
    root = xml_root(res.body) if res.status == 200 and spot else None
    if root is None:
        return res
    region = call.region or state.region
    with state.spot_lock:
        for it in root.iterfind("instancesSet/item"):
            req = SpotRequest(region, spot["type"], spot["behaviour"], spot["valid_until"],
                              list(spot["tags"]), spot["max_price"])
            req.instance = it.findtext("instanceId")
            req.az = it.findtext("placement/availabilityZone")
            req.instance_type = it.findtext("instanceType")
            req.image = it.findtext("imageId")
            req.profile = it.findtext("iamInstanceProfile/arn")
            state.spot_requests[req.id] = req
            log(f"spot request {req.id}: {req.type}, {req.behaviour}, instance {req.instance}")
    return spot_patch(state, res)


def spot_patch(state, res):
    """Instance items of a spot request get its <spotInstanceRequestId> (and
    <instanceLifecycle>spot</instanceLifecycle>, which moto gives already)."""
    if res.status != 200 or b"<instanceId>" not in res.body:
        return res
    body = res.body.decode("utf-8")
    with state.spot_lock:
        by_instance = {r.instance: r.id for r in state.spot_requests.values() if r.instance}
    changed = False
    for iid, sir in by_instance.items():
        tag = f"<instanceId>{iid}</instanceId>"
        if tag not in body:
            continue
        extra = f"<spotInstanceRequestId>{sir}</spotInstanceRequestId>"
        start = body.find(tag)
        item_end = body.find("</instancesSet>", start)
        if extra in body[start:item_end if item_end > 0 else len(body)]:
            continue
        body = body.replace(tag, tag + extra, 1)
        changed = True
    if not changed:
        return res
    return Response(res.status, body.encode("utf-8"), res.headers)


def spot_request_of(state, iid):
    """The newest request that launched instance iid, or None."""
    with state.spot_lock:
        found = [r for r in state.spot_requests.values() if r.instance == iid]
    return max(found, key=lambda r: r.created) if found else None


def spot_stopped(state, iid, status):
    with state.spot_lock:
        req = spot_request_of(state, iid)
        if req and req.type == "persistent" and req.state == "active":
            req.set("disabled", status)


def spot_started(state, iid):
    with state.spot_lock:
        req = spot_request_of(state, iid)
        if req and req.state == "disabled":
            req.set("active", "fulfilled")


def spot_ended(state, iid, why, forgotten=False):
    """Instance iid is terminated: a persistent request that was active or
    disabled is open again (AWS would launch another instance: the fake launches
    none), a one-time one closed; forgotten (moto no longer has it): the
    request is forgotten too."""
    status = "instance-terminated-no-capacity" if why == "spot interruption" else \
        "instance-terminated-by-user"
    with state.spot_lock:
        req = spot_request_of(state, iid)
        if req is None:
            return
        if forgotten:
            state.spot_requests.pop(req.id, None)
        elif req.type == "persistent" and req.state in ("active", "disabled"):
            req.set("open", status)
        elif req.type == "one-time" and req.state == "active":
            req.set("closed", status)


def spot_filter(call):
    """{name: [values]} of Filter.N.Name / Filter.N.Value.M."""
    out = {}
    for n in range(1, 51):
        name = call.params.get(f"Filter.{n}.Name")
        if name is not None:
            out.setdefault(name, []).extend(numbered(call.params, f"Filter.{n}.Value"))
    return out


SPOT_FILTERS = {
    "state": lambda r: [r.state], "instance-id": lambda r: [r.instance or ""],
    "spot-instance-request-id": lambda r: [r.id], "type": lambda r: [r.type],
    "status-code": lambda r: [r.status], "launched-availability-zone": lambda r: [r.az or ""],
    "instance-interruption-behavior": lambda r: [r.behaviour],
    "tag-key": lambda r: [k for k, _ in r.tags],
}


def spot_matches(req, filters):
    for name, values in filters.items():
        if name.startswith("tag:"):
            have = [v for k, v in req.tags if k == name[4:]]
        else:
            have = SPOT_FILTERS[name](req)
        if not any(fnmatch.fnmatchcase(h, v) for h in have for v in values):
            return False
    return True


def spot_not_found(call, ids):
    return aws_error(call, 400, "InvalidSpotInstanceRequestID.NotFound",
                     f"The spot instance request ID '{ids[0]}' does not exist")


def spot_response(call, action, items):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response '
            'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>{call.request_id}</requestId><spotInstanceRequestSet>" +
            "".join(items) + f"</spotInstanceRequestSet></{action}Response>")
    return Response(200, body, [("Content-Type", "text/xml;charset=UTF-8")])


def describe_spot_requests(state, call):
    region = call.region or state.region
    filters = spot_filter(call)
    unknown = [f for f in filters if f not in SPOT_FILTERS and not f.startswith("tag:")]
    if unknown:
        return aws_error(call, 400, "InvalidParameterValue",
                         f"The filter '{unknown[0]}' is invalid (aws-fake filters spot requests "
                         f"by tag:<key>, {', '.join(sorted(SPOT_FILTERS))})")
    state.regions.add(region)
    sync(state, region)  # instances terminated straight in moto: their requests
    ids = numbered(call.params, "SpotInstanceRequestId")
    with state.spot_lock:
        mine = {i: r for i, r in state.spot_requests.items() if r.region == region}
        missing = [i for i in ids if i not in mine]
        if missing:
            return spot_not_found(call, missing)
        found = [r for r in sorted(mine.values(), key=lambda r: r.created)
                 if (not ids or r.id in ids) and spot_matches(r, filters)]
        items = [r.xml() for r in found]
    return spot_response(call, "DescribeSpotInstanceRequests", items)


def cancel_spot_requests(state, call):
    region = call.region or state.region
    ids = numbered(call.params, "SpotInstanceRequestId")
    if not ids:
        return aws_error(call, 400, "MissingParameter",
                         "The request must contain the parameter spotInstanceRequestId")
    state.regions.add(region)
    sync(state, region)
    items = []
    with state.spot_lock:
        mine = {i: r for i, r in state.spot_requests.items() if r.region == region}
        missing = [i for i in ids if i not in mine]
        if missing:
            return spot_not_found(call, missing)
        for i in ids:
            req = mine[i]
            if req.state in SPOT_LIVE:
                inst = state.instances.get(req.instance) if req.instance else None
                running = req.state != "open" and inst is not None and not inst.ending
                req.set("cancelled", "request-canceled-and-instance-running" if running
                        else "canceled-before-fulfillment")
            items.append(f"<item><spotInstanceRequestId>{req.id}</spotInstanceRequestId>"
                         f"<state>{req.state}</state></item>")
    return spot_response(call, "CancelSpotInstanceRequests", items)


SPOT_ACTIONS = {"DescribeSpotInstanceRequests": describe_spot_requests,
                "CancelSpotInstanceRequests": cancel_spot_requests}


# --- several instances: private addresses, placement and security groups ------
#
# A run on several instances needs their private addresses (every packet on
# loopback: moto's 10.x ones are never reported), a placement group (moto 5
# has none: the fake keeps them), security groups that cannot be deleted
# while in use (moto deletes them anyway) and spot capacity for fewer
# instances than asked for (settings spot_capacity).

def private_address(state, iid):
    """The instance's own address in 127.0.0.0/8, the same for as long as the
    fake runs: 127.<2 + its port % 250>.<n / 254>.<1 + n % 254> for the fake's
    nth instance, so that two fakes on one machine hand out different ones."""
    with state.address_lock:
        ip = state.addresses.get(iid)
        if ip is None:
            n = len(state.addresses)
            port = int(state.url.rsplit(":", 1)[1]) if state.url else 0
            ip = f"127.{2 + port % 250}.{n // 254 % 256}.{1 + n % 254}"
            state.addresses[iid] = ip
        return ip


def instances_patch(state, res):
    """RunInstances' and DescribeInstances' instance items with the fake's
    private addresses (privateIpAddress and privateDnsName, the network
    interfaces' too) and their placement group's name and id."""
    if res.status != 200 or b"<instanceId>" not in res.body:
        return res
    try:
        root = ET.fromstring(res.body)
    except ET.ParseError:
        return res
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    for iset in root.iter(ns + "instancesSet"):
        for item in iset.findall(ns + "item"):
            iid = item.findtext(ns + "instanceId")
            if not iid:
                continue
            ip = private_address(state, iid)
            for el in item.iter(ns + "privateIpAddress"):
                el.text = ip
            for el in item.iter(ns + "privateDnsName"):
                if el.text:
                    rest = el.text[el.text.index("."):] if "." in el.text else ""
                    el.text = "ip-" + ip.replace(".", "-") + rest
            group = placement_group_of(state, iid, whole=True)
            placement = item.find(ns + "placement")
            if group is None or placement is None:
                continue
            for tag, value in (("groupName", group.name), ("groupId", group.id)):
                el = placement.find(ns + tag)
                if el is None:
                    el = ET.SubElement(placement, ns + tag)
                el.text = value
    ET.register_namespace("", ns.strip("{}"))
    return Response(200, ET.tostring(root, encoding="utf-8", xml_declaration=True),
                    res.headers)


TORCHRUN = """#!/bin/sh
# aws-fake's torchrun: Debian's torch 1.13 on Python 3.11 fails with its default
# --redirects/--tee ('NoneType' object has no attribute 'get'); --redirects 2
# --tee 1 works. Its agent looks at the workers every 5 s (torch 2.x's: 0.1 s).
exec /usr/bin/python3 -m torch.distributed.run --redirects 2 --tee 1 --monitor_interval 0.2 "$@"
"""
IMAGE_PYTHON = """#!/bin/sh
# the image's Python: Debian's, which has torch
exec /usr/bin/python3 "$@"
"""


def torch_sandbox(inst):
    """At boot: torchrun (the workaround above) first on PATH and beside
    the image's Pythons (runner.sh looks there first): /usr/bin/python3 of
    every image and a DLAMI's /opt/pytorch/bin/python, under
    GIT_TRAIN_IMAGE_ROOT."""
    dirs = [inst.path("bin"), inst.path("image", "usr", "bin")]
    if os.path.exists(inst.path("image", "opt", "pytorch", "bin", "python")):
        dirs.append(inst.path("image", "opt", "pytorch", "bin"))
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "torchrun"), "w") as f:
            f.write(TORCHRUN)
        os.chmod(os.path.join(d, "torchrun"), 0o755)
    with open(inst.path("image", "usr", "bin", "python3"), "w") as f:
        f.write(IMAGE_PYTHON)
    os.chmod(inst.path("image", "usr", "bin", "python3"), 0o755)


def replace_param(call, name, value):
    """call, with the Query parameter name (in the body or the query) set to
    value: what moto gets. call.params keeps what the client sent."""
    def edit(text):
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)
        return urllib.parse.urlencode([(k, value if k == name else v) for k, v in pairs])
    if call.query and name in dict(urllib.parse.parse_qsl(call.query)):
        call.query = edit(call.query)
        call.target = call.path + "?" + call.query
    call.body = edit(call.body.decode("utf-8")).encode()


def spot_capacity_check(state, call, spot):
    """settings spot_capacity {type: n}: a spot RunInstances of the type gets at
    most n instances, in any zone, per request (what runs already is not
    counted): MinCount above n is InsufficientInstanceCapacity, else MaxCount
    is cut to n. None, or the error."""
    itype = call.params.get("InstanceType")
    cap = state.setting("spot_capacity").get(itype) if spot else None
    if cap is None:
        return None
    try:
        least, most = int(call.params.get("MinCount")), int(call.params.get("MaxCount"))
    except (TypeError, ValueError):
        return None  # moto says what is wrong
    if least > cap:
        log(f"RunInstances: {least} spot {itype} asked for, capacity for {cap}")
        return aws_error(call, 500, "InsufficientInstanceCapacity",
                         "There is no Spot capacity available that matches your request.")
    if most > cap:
        log(f"RunInstances: up to {most} spot {itype} asked for, capacity for {cap}")
        replace_param(call, "MaxCount", str(cap))
    return None


class PlacementGroup:
    def __init__(self, region, name, strategy, tags, partitions, spread):
        self.id = "pg-0" + secrets.token_hex(8)
        self.region = region
        self.name = name
        self.strategy = strategy
        self.tags = tags  # [(key, value)] in their order
        self.partitions = partitions
        self.spread = spread
        self.created = time.time()

    def xml(self, tag="item"):
        def el(name, value):
            return f"<{name}>{xml_escape(str(value))}</{name}>" if value is not None else ""
        tags = "".join(f"<item>{el('key', k)}{el('value', v)}</item>" for k, v in self.tags)
        return (f"<{tag}>" + el("groupName", self.name) + el("state", "available") +
                el("strategy", self.strategy) + el("partitionCount", self.partitions) +
                el("groupId", self.id) + f"<tagSet>{tags}</tagSet>" +
                el("groupArn", f"arn:aws:ec2:{self.region}:123456789012:placement-group/"
                               f"{self.name}") + el("spreadLevel", self.spread) + f"</{tag}>")


PLACEMENT_STRATEGIES = ("cluster", "spread", "partition")
PLACEMENT_FILTERS = {
    "group-name": lambda g: [g.name], "group-id": lambda g: [g.id], "state": lambda g: ["available"],
    "strategy": lambda g: [g.strategy], "group-arn": lambda g: [
        f"arn:aws:ec2:{g.region}:123456789012:placement-group/{g.name}"],
    "partition-count": lambda g: [str(g.partitions or "")],
    "spread-level": lambda g: [g.spread or ""], "tag-key": lambda g: [k for k, _ in g.tags],
    "tag-value": lambda g: [v for _, v in g.tags],
}


def placement_group_of(state, iid, whole=False):
    """The name (whole: the PlacementGroup) of the group the instance was
    launched in, or None."""
    where = state.instance_groups.get(iid)
    group = state.placement_groups.get(where) if where else None
    if whole:
        return group
    return where[1] if where else None


def placement_unknown(call, name):
    return aws_error(call, 400, "InvalidPlacementGroup.Unknown",
                     f"The Placement Group '{name}' is unknown.")


def placement_requested(state, call):
    """(region, Placement.GroupName or the name of Placement.GroupId) or None;
    the name is None when no group has it."""
    region = call.region or state.region
    name = call.params.get("Placement.GroupName")
    gid = call.params.get("Placement.GroupId")
    if not name and not gid:
        return None
    with state.spot_lock:
        for g in state.placement_groups.values():
            if g.region == region and (g.name == name or (gid and g.id == gid)):
                return region, g.name
    return region, None


def placement_check(state, call):
    """RunInstances into a placement group: it must exist."""
    asked = placement_requested(state, call)
    if asked is None or asked[1] is not None:
        return None
    return placement_unknown(call, call.params.get("Placement.GroupName") or
                             call.params.get("Placement.GroupId"))


def placement_launched(state, call, root):
    asked = placement_requested(state, call)
    if asked is None or asked[1] is None:
        return
    with state.spot_lock:
        for el in root.iterfind("instancesSet/item/instanceId"):
            state.instance_groups[el.text] = asked


def ec2_ok(call, action, inner=""):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response '
            'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>{call.request_id}</requestId>{inner}</{action}Response>")
    return Response(200, body, [("Content-Type", "text/xml;charset=UTF-8")])


def resource_tags(params, kind):
    """[(key, value)] of the TagSpecification.N of that ResourceType."""
    tags = []
    for n in range(1, 51):
        spec = f"TagSpecification.{n}."
        if params.get(spec + "ResourceType") != kind:
            continue
        for m in range(1, 51):
            if spec + f"Tag.{m}.Key" in params:
                tags.append((params[spec + f"Tag.{m}.Key"], params.get(spec + f"Tag.{m}.Value", "")))
    return tags


def create_placement_group(state, call):
    p, region = call.params, call.region or state.region
    name, strategy = p.get("GroupName"), p.get("Strategy")
    if not name:
        return aws_error(call, 400, "MissingParameter",
                         "The request must contain the parameter groupName")
    if strategy not in PLACEMENT_STRATEGIES:
        return aws_error(call, 400, "InvalidParameterValue",
                         f"Value ({strategy}) for parameter strategy is invalid. "
                         f"Valid values: {', '.join(PLACEMENT_STRATEGIES)}")
    partitions = p.get("PartitionCount")
    if partitions is not None and (strategy != "partition" or not partitions.isdigit()):
        return aws_error(call, 400, "InvalidParameterValue",
                         "PartitionCount is for the partition strategy only, a number")
    with state.spot_lock:
        if (region, name) in state.placement_groups:
            return aws_error(call, 400, "InvalidPlacementGroup.Duplicate",
                             f"The Placement Group '{name}' already exists.")
        group = PlacementGroup(region, name, strategy, resource_tags(p, "placement-group"),
                               int(partitions) if partitions else
                               (2 if strategy == "partition" else None),
                               p.get("SpreadLevel") if strategy == "spread" else None)
        state.placement_groups[(region, name)] = group
    log(f"placement group {name} ({group.id}, {strategy}) created in {region}")
    return ec2_ok(call, "CreatePlacementGroup", "<return>true</return>" +
                  group.xml("placementGroup"))


def describe_placement_groups(state, call):
    region = call.region or state.region
    filters = spot_filter(call)
    unknown = [f for f in filters if f not in PLACEMENT_FILTERS and not f.startswith("tag:")]
    if unknown:
        return aws_error(call, 400, "InvalidParameterValue",
                         f"The filter '{unknown[0]}' is invalid")
    names = numbered(call.params, "GroupName")
    ids = numbered(call.params, "GroupId")
    with state.spot_lock:
        groups = [g for g in state.placement_groups.values() if g.region == region]
    for n in names:
        if not any(g.name == n for g in groups):
            return placement_unknown(call, n)
    for i in ids:
        if not any(g.id == i for g in groups):
            return aws_error(call, 400, "InvalidPlacementGroupId.Malformed" if
                             not i.startswith("pg-") else "InvalidPlacementGroup.Unknown",
                             f"The Placement Group '{i}' is unknown.")
    out = []
    for g in sorted(groups, key=lambda g: g.created):
        if (names and g.name not in names) or (ids and g.id not in ids):
            continue
        ok = True
        for fname, values in filters.items():
            have = ([v for k, v in g.tags if k == fname[4:]] if fname.startswith("tag:")
                    else PLACEMENT_FILTERS[fname](g))
            ok = ok and any(fnmatch.fnmatchcase(h, v) for h in have for v in values)
        if ok:
            out.append(g.xml())
    return ec2_ok(call, "DescribePlacementGroups",
                  "<placementGroupSet>" + "".join(out) + "</placementGroupSet>")


def live_instances(state, region):
    """{id: info} of moto's instances in region that are not terminated."""
    found = moto_instances(state, region) or {}
    return {i: info for i, info in found.items() if info["state"] != "terminated"}


def delete_placement_group(state, call):
    region, name = call.region or state.region, call.params.get("GroupName")
    if not name:
        return aws_error(call, 400, "MissingParameter",
                         "The request must contain the parameter groupName")
    with state.spot_lock:
        if (region, name) not in state.placement_groups:
            return placement_unknown(call, name)
    members = [i for i in live_instances(state, region)
               if state.instance_groups.get(i) == (region, name)]
    if members:
        return aws_error(call, 400, "InvalidPlacementGroup.InUse",
                         f"The placement group '{name}' is in use and may not be deleted.")
    with state.spot_lock:
        state.placement_groups.pop((region, name), None)
    log(f"placement group {name} deleted in {region}")
    return ec2_ok(call, "DeletePlacementGroup", "<return>true</return>")


def delete_security_group(state, call):
    """DeleteSecurityGroup: DependencyViolation while an instance that is not
    terminated has the group (moto deletes it anyway), else moto's."""
    region = call.region or state.region
    gid = call.params.get("GroupId")
    if not gid and call.params.get("GroupName"):
        status, root = moto_query(state, "ec2", region,
                                  {"Action": "DescribeSecurityGroups", "Version": "2016-11-15",
                                   "GroupName.1": call.params["GroupName"]})
        if status == 200 and root is not None:
            gid = root.findtext("securityGroupInfo/item/groupId")
    if not gid:
        return None  # moto says what is wrong
    users = [i for i, info in live_instances(state, region).items() if gid in info["groups"]]
    if users:
        log(f"DeleteSecurityGroup {gid}: in use by {', '.join(sorted(users))}")
        return aws_error(call, 400, "DependencyViolation",
                         f"resource {gid} has a dependent object")
    return None


CLUSTER_ACTIONS = {"CreatePlacementGroup": create_placement_group,
                   "DescribePlacementGroups": describe_placement_groups,
                   "DeletePlacementGroup": delete_placement_group,
                   "DeleteSecurityGroup": delete_security_group}


@service_handler("ec2")
def cluster_ec2_handler(state, call):
    fn = CLUSTER_ACTIONS.get(call.action)
    return fn(state, call) if fn else None


def placement_listing(state):
    """GET /__fake/placement-groups: {name: {...}}, with the instances in each
    that are not terminated."""
    out = {}
    with state.spot_lock:
        groups = list(state.placement_groups.values())
    live = {}
    for g in groups:
        if g.region not in live:
            live[g.region] = live_instances(state, g.region)
        out[g.name] = {"id": g.id, "region": g.region, "strategy": g.strategy,
                       "tags": dict(g.tags), "created": iso(g.created),
                       "instances": sorted(i for i in live[g.region]
                                           if state.instance_groups.get(i) == (g.region, g.name))}
    return out


# --- SSM: readiness, and commands that really run ---------------------------------

class Invocation:
    """One command on one instance, run as the SSM agent would."""

    def __init__(self, command_id, inst, commands, timeout, comment):
        self.command_id = command_id
        self.inst = inst
        self.commands = commands
        self.timeout = timeout
        self.comment = comment
        self.sent = time.time()
        self.started = self.ended = None
        self.status = "Pending"
        self.details = "Pending"
        self.code = -1
        self.stdout = self.stderr = ""

    def start(self):
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        inst = self.inst
        d = inst.path("var/lib/amazon/ssm", inst.id, "document/orchestration", self.command_id,
                      "awsrunShellScript/0.awsrunShellScript")
        timed_out = False
        try:
            os.makedirs(d, exist_ok=True)
            script = os.path.join(d, "_script.sh")
            with open(script, "w") as f:
                f.write("\n".join(self.commands) + "\n")
            with open(os.path.join(d, "stdout"), "wb") as out, \
                    open(os.path.join(d, "stderr"), "wb") as err:
                proc = subprocess.Popen(["sh", script], cwd=inst.path("root"),
                                        env=inst.environment(), stdin=subprocess.DEVNULL,
                                        stdout=out, stderr=err, start_new_session=True)
            self.started = time.time()
            self.status = self.details = "InProgress"
            try:
                rc = proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                kill_pids([-proc.pid], signal.SIGKILL)
                rc = proc.wait()
        except OSError as e:
            log(f"cannot run command {self.command_id} on {inst.id}: {e}")
            rc, d = 1, None
        self.finish(rc, timed_out, d)

    def finish(self, rc, timed_out, d):
        def read(name, limit):
            try:
                with open(os.path.join(d, name), encoding="utf-8", errors="replace") as f:
                    return f.read(limit)
            except (OSError, TypeError):
                return ""
        stdout, stderr = read("stdout", STDOUT_MAX), read("stderr", STDERR_MAX)
        self.code = -1 if rc < 0 or timed_out else rc
        if timed_out:
            status, details = "TimedOut", "ExecutionTimedOut"
        elif rc == 0:
            status, details = "Success", "Success"
        else:
            status = details = "Failed"
            if rc > 0:  # what the agent adds
                stderr = (stderr + f"failed to run commands: exit status {rc}")[:STDERR_MAX]
        self.stdout, self.stderr = stdout, stderr
        self.ended = time.time()
        self.status, self.details = status, details
        log(f"command {self.command_id} on {self.inst.id}: {status} ({self.code})")

    def describe(self):
        def when(t):
            return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if t else ""
        done = self.ended is not None
        elapsed = (self.ended or time.time()) - self.started if self.started else 0
        return {"CommandId": self.command_id, "InstanceId": self.inst.id,
                "Comment": self.comment, "DocumentName": "AWS-RunShellScript",
                "DocumentVersion": "$DEFAULT", "PluginName": "aws:runShellScript",
                "ResponseCode": self.code if done else -1,
                "ExecutionStartDateTime": when(self.started),
                "ExecutionElapsedTime": f"PT{elapsed:.3f}S" if self.started else "",
                "ExecutionEndDateTime": when(self.ended),
                "Status": self.status, "StatusDetails": self.details,
                "StandardOutputContent": self.stdout if done else "",
                "StandardOutputUrl": "",
                "StandardErrorContent": self.stderr if done else "",
                "StandardErrorUrl": "",
                "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "",
                                           "CloudWatchOutputEnabled": False}}


def filter_values(req):
    """{key: [values]} from Filters or InstanceInformationFilterList."""
    out = {}
    for f in req.get("Filters") or []:
        out.setdefault(f.get("Key"), []).extend(f.get("Values") or [])
    for f in req.get("InstanceInformationFilterList") or []:
        key = {"instanceIds": "InstanceIds", "PingStatus": "PingStatus",
               "ResourceType": "ResourceType"}.get(f.get("key"), f.get("key"))
        out.setdefault(key, []).extend(f.get("valueSet") or [])
    return out


def describe_instance_information(state, call):
    filters = filter_values(call.params)
    unknown = set(filters) - {"InstanceIds", "PingStatus", "ResourceType"}
    if unknown:
        return aws_error(call, 400, "InvalidFilterKey",
                         f"aws-fake filters only by InstanceIds, PingStatus and ResourceType, "
                         f"not {', '.join(sorted(map(str, unknown)))}")
    region = call.region or state.region
    state.regions.add(region)
    sync(state, region)
    out = []
    for iid, inst in sorted(instances_of(state).items()):
        if inst.region != region or not inst.online():
            continue
        if "InstanceIds" in filters and iid not in filters["InstanceIds"]:
            continue
        if "PingStatus" in filters and "Online" not in filters["PingStatus"]:
            continue
        if "ResourceType" in filters and "EC2Instance" not in filters["ResourceType"]:
            continue
        out.append({"InstanceId": iid, "PingStatus": "Online", "LastPingDateTime": time.time(),
                    "AgentVersion": "3.3.1142.0", "IsLatestVersion": True,
                    "PlatformType": "Linux", "PlatformName": "Amazon Linux",
                    "PlatformVersion": "2023", "ResourceType": "EC2Instance",
                    "IPAddress": inst.info["private_ip"],
                    "ComputerName": "ip-" + inst.info["private_ip"].replace(".", "-") +
                                    f".{region}.compute.internal",
                    "AssociationStatus": "Success", "SourceId": iid,
                    "SourceType": "AWS::EC2::Instance"})
    return json_response(call, {"InstanceInformationList": out})


def send_command(state, call):
    req = call.params
    if req.get("DocumentName") != "AWS-RunShellScript":
        return aws_error(call, 400, "InvalidDocument",
                         "aws-fake runs only the document AWS-RunShellScript")
    ids = req.get("InstanceIds") or []
    if req.get("Targets") or not ids:
        return aws_error(call, 400, "InvalidParameters", "aws-fake needs InstanceIds")
    params = req.get("Parameters") or {}
    commands = params.get("commands") or []
    if not commands or not all(isinstance(c, str) for c in commands):
        return aws_error(call, 400, "InvalidParameters",
                         "Parameters.commands: a list of strings is required")
    try:
        timeout = int((params.get("executionTimeout") or ["3600"])[0])
    except ValueError:
        timeout = 0
    if not 1 <= timeout <= 172800:
        return aws_error(call, 400, "InvalidParameters",
                         "executionTimeout must be between 1 and 172800")
    region = call.region or state.region
    state.regions.add(region)
    sync(state, region)
    insts = [state.instances.get(iid) for iid in ids]
    if not all(inst and inst.region == region and inst.online() for inst in insts):
        return aws_error(call, 400, "InvalidInstanceId",
                         f"Instances [{ids}] not in a valid state for account 123456789012")
    if not state.sandbox:
        return aws_error(call, 500, "InternalServerError", "aws-fake runs without --sandbox")
    command_id = str(uuid.uuid4())
    for inst in insts:
        inv = Invocation(command_id, inst, commands, timeout, req.get("Comment", ""))
        with state.lock:
            state.invocations[(command_id, inst.id)] = inv
            inst.commands.append(command_id)
        inv.start()
    now = time.time()
    return json_response(call, {"Command": {
        "CommandId": command_id, "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT", "Comment": req.get("Comment", ""),
        "ExpiresAfter": now + timeout + 600, "Parameters": params, "InstanceIds": ids,
        "Targets": [], "RequestedDateTime": now, "Status": "Pending", "StatusDetails": "Pending",
        "OutputS3Region": region, "OutputS3BucketName": "", "OutputS3KeyPrefix": "",
        "MaxConcurrency": "50", "MaxErrors": "0", "TargetCount": len(ids),
        "CompletedCount": 0, "ErrorCount": 0, "DeliveryTimedOutCount": 0, "ServiceRole": "",
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [],
                               "NotificationType": ""},
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        "TimeoutSeconds": int(req.get("TimeoutSeconds") or 3600)}})


def get_command_invocation(state, call):
    req = call.params
    inv = state.invocations.get((req.get("CommandId"), req.get("InstanceId")))
    if inv is None or time.time() - inv.sent < state.setting("invocation_delay"):
        return aws_error(call, 400, "InvocationDoesNotExist", "")
    return json_response(call, inv.describe())


@service_handler("ssm")
def ssm_handler(state, call):
    fn = {"DescribeInstanceInformation": describe_instance_information,
          "SendCommand": send_command,
          "GetCommandInvocation": get_command_invocation}.get(call.action)
    return fn(state, call) if fn else None


# --- the Price List API ------------------------------------------------------------

# on-demand Linux, shared tenancy, us-east-1: (price, vCPUs, memory)
PRICES = {"t3.micro": (0.0104, 2, "1 GiB"), "t3.small": (0.0208, 2, "2 GiB"),
          "t3.medium": (0.0416, 2, "4 GiB"), "m5.large": (0.096, 2, "8 GiB"),
          "c5.large": (0.085, 2, "4 GiB"), "c5.xlarge": (0.17, 4, "8 GiB"),
          "g5.xlarge": (1.006, 4, "16 GiB"),
          "g4dn.xlarge": (0.526, 4, "16 GiB"), "p3.2xlarge": (3.06, 8, "61 GiB"),
          "t4g.micro": (0.0084, 2, "1 GiB")}
REGIONS = {"us-east-1": ("US East (N. Virginia)", 1.0), "us-east-2": ("US East (Ohio)", 1.0),
           "us-west-2": ("US West (Oregon)", 1.0), "eu-west-1": ("EU (Ireland)", 1.1),
           "eu-central-1": ("EU (Frankfurt)", 1.15)}
# the other products of a type and region, as AWS lists them too; the one
# that is asked for (Linux, Shared, NA, Used) last, so that a client that
# filters too little and takes the first gets a wrong price
VARIANTS = [("Windows", "Shared", "NA", "Used", lambda p, cpu: p + 0.0184 * cpu),
            ("Linux", "Dedicated", "NA", "Used", lambda p, cpu: p * 1.1),
            ("Linux", "Shared", "SQL Web", "Used", lambda p, cpu: p + 0.0049 * cpu),
            ("Linux", "Shared", "NA", "AllocatedCapacityReservation", lambda p, cpu: 0.0),
            ("Linux", "Shared", "NA", "UnusedCapacityReservation", lambda p, cpu: p),
            ("Linux", "Shared", "NA", "Used", lambda p, cpu: p)]
OFFER = "JRTCKXETXF"  # AWS's on-demand offer term code
RATE = "6YS6EN2CT7"


def products(state):
    for itype, (base, cpu, memory) in sorted(PRICES.items()):
        for region, (location, factor) in REGIONS.items():
            price = state.prices.get(itype, base * factor)
            for os_name, tenancy, sw, capacity, fn in VARIANTS:
                attrs = {"servicecode": "AmazonEC2", "servicename": "Amazon Elastic Compute Cloud",
                         "instanceType": itype, "instanceFamily": "General purpose",
                         "vcpu": str(cpu), "memory": memory, "location": location,
                         "locationType": "AWS Region", "regionCode": region,
                         "operatingSystem": os_name, "tenancy": tenancy, "preInstalledSw": sw,
                         "capacitystatus": capacity, "licenseModel": "No License required",
                         "usagetype": f"BoxUsage:{itype}", "operation": "RunInstances",
                         "marketoption": "OnDemand"}
                yield attrs, fn(price, cpu)


def product_document(attrs, price):
    sku = hashlib.sha256(json.dumps(attrs, sort_keys=True).encode()).hexdigest()[:16].upper()
    term, rate = f"{sku}.{OFFER}", f"{sku}.{OFFER}.{RATE}"
    return json.dumps({
        "product": {"productFamily": "Compute Instance", "attributes": attrs, "sku": sku},
        "serviceCode": "AmazonEC2",
        "terms": {"OnDemand": {term: {
            "priceDimensions": {rate: {
                "unit": "Hrs", "endRange": "Inf", "beginRange": "0", "appliesTo": [],
                "rateCode": rate, "pricePerUnit": {"USD": f"{price:.10f}"},
                "description": f"${price:.4f} per On Demand {attrs['operatingSystem']} "
                               f"{attrs['instanceType']} Instance Hour"}},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": OFFER,
            "termAttributes": {}}}},
        "version": "20261101000000", "publicationDate": "2026-11-01T00:00:00Z"})


def filter_matches(f, attrs):
    field = (f.get("Field") or "").lower()
    have = next((v for k, v in attrs.items() if k.lower() == field), None)
    if have is None:
        return False
    kind, value = f.get("Type", "TERM_MATCH"), str(f.get("Value", ""))
    have, value = have.lower(), value.lower()
    if kind in ("TERM_MATCH", "EQUALS"):
        return have == value
    if kind == "CONTAINS":
        return value in have
    values = [v.strip() for v in value.split(",")]
    return (have in values) if kind == "ANY_OF" else (have not in values)


@service_handler("pricing")
def pricing_handler(state, call):
    if call.action != "GetProducts":
        return aws_error(call, 400, "InvalidParameterException",
                         f"aws-fake answers only GetProducts, not {call.action}")
    req = call.params
    if req.get("ServiceCode") != "AmazonEC2":
        return json_response(call, {"FormatVersion": "aws_v1", "PriceList": []})
    filters = req.get("Filters") or []
    found = [product_document(attrs, price) for attrs, price in products(state)
             if all(filter_matches(f, attrs) for f in filters)]
    start = int(req.get("NextToken") or 0)
    size = int(req.get("MaxResults") or 100)
    out = {"FormatVersion": "aws_v1", "PriceList": found[start:start + size]}
    if start + size < len(found):
        out["NextToken"] = str(start + size)
    return json_response(call, out)


# --- the server ------------------------------------------------------------

# --- GPUs: Deep Learning AMIs, vCPU quotas, nvidia-smi --------------------------
#
# What moto lacks for GPU runs. The DLAMIs' public SSM parameters (several
# PyTorch versions and the Base DLAMI on Amazon Linux 2023 for x86_64 and arm64,
# and an Ubuntu one that an AL2023 pick must skip), their images
# (DescribeImages with a root snapshot size), EC2's vCPU quotas (Service
# Quotas GetServiceQuota; settings "quotas": {"L-3819A6DF": 8, ...}), and
# instances that have what the image and type have: a type with NVIDIA GPUs
# (moto's DescribeInstanceTypes GpuInfo) gets an nvidia-smi on its PATH listing
# them (unless settings "nvidia_smi" is "broken" when it boots: then it fails
# as a driver that does not answer); a DLAMI instance gets the image's files
# under <sandbox>/image/ (/opt/pytorch/bin/python runs Debian's python3, which
# has torch), named by GIT_TRAIN_IMAGE_ROOT in its commands' environment.

DLAMI_PATH = "/aws/service/deeplearning/ami/"
DLAMI_PYTORCH = {"x86_64": ("2.7", "2.8", "2.9", "2.10"), "arm64": ("2.8", "2.9", "2.10")}
DLAMI_ROOT_GIB = {"pytorch": 75, "base": 60}
DLAMI_OWNER = "898082745236"
NVIDIA_DRIVER, NVIDIA_CUDA = "570.133.20", "12.8"
EC2_QUOTAS = {  # code: (name, the fake's default value in vCPUs)
    "L-34B43A08": ("All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", 640),
    "L-1216C47A": ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", 640),
    "L-3819A6DF": ("All G and VT Spot Instance Requests", 64),
    "L-DB2E81BA": ("Running On-Demand G and VT instances", 64),
    "L-7212CCBC": ("All P Spot Instance Requests", 192),
    "L-417A185B": ("Running On-Demand P instances", 192),
}
GPU_SETTINGS = {"nvidia_smi": "ok", "quotas": {}}
DEFAULT_SETTINGS.update(GPU_SETTINGS)


def dlami_catalogue():
    """{parameter name: (ami id, kind, arch, version)}."""
    out = {}

    def add(arch, ami_type, kind, version):
        name = f"{DLAMI_PATH}{arch}/{ami_type}/latest/ami-id"
        ami = "ami-0" + hashlib.sha256(name.encode()).hexdigest()[:16]
        out[name] = (ami, kind, arch, version)
    # in the order of versions, Ubuntu's among them: GetParametersByPath's
    # first page (10) does not reach the newest x86_64 one
    for arch, versions in DLAMI_PYTORCH.items():
        add(arch, "base-oss-nvidia-driver-gpu-amazon-linux-2023", "base", None)
        for ubuntu in ("22.04", "24.04"):
            add(arch, f"base-oss-nvidia-driver-gpu-ubuntu-{ubuntu}", "ubuntu-base", None)
        for v in versions:
            for ubuntu in ("22.04", "24.04"):
                add(arch, f"oss-nvidia-driver-gpu-pytorch-{v}-ubuntu-{ubuntu}", "ubuntu", v)
            add(arch, f"oss-nvidia-driver-gpu-pytorch-{v}-amazon-linux-2023", "pytorch", v)
    return out


DLAMI_PARAMETERS = dlami_catalogue()
DLAMI_IMAGES = {v[0]: v[1:] for v in DLAMI_PARAMETERS.values()}


def gpu_setting_value(name, value):
    if name == "nvidia_smi":
        if value not in ("ok", "broken"):
            raise ValueError(f"nvidia_smi is ok or broken, not {value!r}")
        return value
    if not isinstance(value, dict):
        raise ValueError(f"quotas: {{code: vCPUs}}, not {value!r}")
    return {str(k): float(v) for k, v in value.items()}


def dlami_parameter(call, name):
    ami, _, _, _ = DLAMI_PARAMETERS[name]
    region = call.region or "us-east-1"
    return {"Name": name, "Type": "String", "Value": ami, "Version": 1, "DataType": "text",
            "LastModifiedDate": 1767225600.0,
            "ARN": f"arn:aws:ssm:{region}::parameter{name}"}


@service_handler("ssm")
def dlami_ssm_handler(state, call):
    p = call.params
    if call.action == "GetParameter" and p.get("Name") in DLAMI_PARAMETERS:
        return json_response(call, {"Parameter": dlami_parameter(call, p["Name"])})
    if call.action != "GetParametersByPath" or \
            not str(p.get("Path", "")).startswith(DLAMI_PATH.rstrip("/")):
        return None
    path = p["Path"].rstrip("/") + "/"
    names = [n for n in DLAMI_PARAMETERS if n.startswith(path) and
             (p.get("Recursive") or "/" not in n[len(path):])]
    size = int(p.get("MaxResults") or 10)
    start = int(p.get("NextToken") or 0)
    doc = {"Parameters": [dlami_parameter(call, n) for n in names[start:start + size]]}
    if start + size < len(names):
        doc["NextToken"] = str(start + size)
    return json_response(call, doc)


def dlami_image_xml(ami):
    kind, arch, version = DLAMI_IMAGES[ami]
    what = {"pytorch": f"GPU PyTorch {version} (Amazon Linux 2023)",
            "base": "GPU (Amazon Linux 2023)",
            "ubuntu": f"GPU PyTorch {version} (Ubuntu)",
            "ubuntu-base": "GPU (Ubuntu)"}[kind]
    prefix = "Deep Learning ARM64" if arch == "arm64" else "Deep Learning"
    name = f"{prefix} OSS Nvidia Driver AMI {what} 20260101"
    snap = "snap-0" + ami[5:]
    return (f"<item><imageId>{ami}</imageId><imageLocation>amazon/{name}</imageLocation>"
            f"<imageState>available</imageState><imageOwnerId>{DLAMI_OWNER}</imageOwnerId>"
            f"<isPublic>true</isPublic><architecture>{arch}</architecture>"
            f"<imageType>machine</imageType><name>{name}</name>"
            f"<imageOwnerAlias>amazon</imageOwnerAlias><rootDeviceType>ebs</rootDeviceType>"
            f"<rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping><item>"
            f"<deviceName>/dev/xvda</deviceName><ebs><snapshotId>{snap}</snapshotId>"
            f"<volumeSize>{DLAMI_ROOT_GIB.get(kind, 75)}</volumeSize>"
            f"<deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType>"
            f"<encrypted>false</encrypted></ebs></item></blockDeviceMapping>"
            f"<virtualizationType>hvm</virtualizationType><hypervisor>xen</hypervisor>"
            f"<enaSupport>true</enaSupport></item>")


@service_handler("ec2")
def dlami_ec2_handler(state, call):
    if call.action != "DescribeImages":
        return None
    ids = [v for k, v in call.params.items() if k.startswith("ImageId.")]
    if not ids or any(i not in DLAMI_IMAGES for i in ids):
        return None
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<DescribeImagesResponse '
            'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>{call.request_id}</requestId><imagesSet>" +
            "".join(dlami_image_xml(i) for i in ids) + "</imagesSet></DescribeImagesResponse>")
    return Response(200, body, [("Content-Type", "text/xml;charset=UTF-8")])


@service_handler("servicequotas")
def quotas_handler(state, call):
    if call.action != "GetServiceQuota":
        return None
    service, code = call.params.get("ServiceCode"), call.params.get("QuotaCode")
    if service != "ec2" or code not in EC2_QUOTAS:
        return aws_error(call, 400, "NoSuchResourceException",
                         f"The request failed because the specified service quota "
                         f"{service}/{code} does not exist.")
    name, value = EC2_QUOTAS[code]
    value = state.setting("quotas").get(code, value)
    region = call.region or state.region
    return json_response(call, {"Quota": {
        "ServiceCode": "ec2", "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
        "QuotaArn": f"arn:aws:servicequotas:{region}:123456789012:ec2/{code}",
        "QuotaCode": code, "QuotaName": name, "Value": float(value), "Unit": "None",
        "Adjustable": True, "GlobalQuota": False}})


NVIDIA_SMI = r"""#!/usr/bin/python3 -I
# aws-fake's stand-in for nvidia-smi: the GPUs of this instance's type
import sys
GPUS, DRIVER, CUDA, BROKEN = {gpus!r}, {driver!r}, {cuda!r}, {broken!r}
if BROKEN:
    print("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
          "Make sure that the latest NVIDIA driver is installed and running.")
    sys.exit(9)
args = sys.argv[1:]
query = [a.split("=", 1)[1] for a in args if a.startswith("--query-gpu=")]
fmt = [a.split("=", 1)[1] for a in args if a.startswith("--format=")]
if query:
    fields = query[0].split(",")
    units = {{"memory.total": " [MiB]"}}
    if "noheader" not in (fmt[0] if fmt else ""):
        print(", ".join(f + units.get(f, "") for f in fields))
    for i, (name, mib) in enumerate(GPUS):
        values = {{"name": name, "memory.total": f"{{mib}} MiB", "driver_version": DRIVER,
                  "index": str(i), "count": str(len(GPUS))}}
        print(", ".join(values.get(f, "[N/A]") for f in fields))
elif "-L" in args:
    for i, (name, mib) in enumerate(GPUS):
        print(f"GPU {{i}}: {{name}} (UUID: GPU-00000000-0000-0000-0000-00000000000{{i}})")
else:
    print("+" + "-" * 89 + "+")
    print(f"| NVIDIA-SMI {{DRIVER}}             Driver Version: {{DRIVER}}     "
          f"CUDA Version: {{CUDA}}     |")
    print("+" + "-" * 89 + "+")
    for i, (name, mib) in enumerate(GPUS):
        print(f"|   {{i}}  {{name:<28}} On  |   00000000:00:1E.0 Off |  0MiB / {{mib}}MiB |")
"""


def type_gpus(state, inst):
    """[(name, MiB)] of the NVIDIA GPUs of the instance's type, from moto."""
    status, root = moto_query(state, "ec2", inst.region,
                              {"Action": "DescribeInstanceTypes", "Version": "2016-11-15",
                               "InstanceType.1": inst.info["type"]})
    out = []
    if status != 200 or root is None:
        return out
    for gpu in root.iterfind("instanceTypeSet/item/gpuInfo/gpus/item"):
        if (gpu.findtext("manufacturer") or "").upper() != "NVIDIA":
            continue
        name = "NVIDIA " + (gpu.findtext("name") or "GPU")
        mib = int(gpu.findtext("memoryInfo/sizeInMiB") or 0)
        out += [(name, mib)] * int(gpu.findtext("count") or 1)
    return out


def gpu_sandbox(inst):
    """At boot: nvidia-smi for a type with GPUs, the image's files for a DLAMI."""
    gpus = type_gpus(inst.state, inst)
    if gpus:
        with open(inst.path("bin", "nvidia-smi"), "w") as f:
            f.write(NVIDIA_SMI.format(gpus=gpus, driver=NVIDIA_DRIVER, cuda=NVIDIA_CUDA,
                                      broken=inst.state.setting("nvidia_smi") == "broken"))
        os.chmod(inst.path("bin", "nvidia-smi"), 0o755)
    if DLAMI_IMAGES.get(inst.info.get("image"), ("",))[0] in ("pytorch", "ubuntu"):
        bin_dir = inst.path("image", "opt", "pytorch", "bin")
        os.makedirs(bin_dir, exist_ok=True)
        with open(os.path.join(bin_dir, "python"), "w") as f:
            f.write("#!/bin/sh\n# the DLAMI's framework Python: Debian's, which has torch\n"
                    'exec /usr/bin/python3 "$@"\n')
        os.chmod(os.path.join(bin_dir, "python"), 0o755)


def gpu_environment(inst):
    if inst.info.get("image") in DLAMI_IMAGES:
        return {"GIT_TRAIN_IMAGE_ROOT": inst.path("image")}
    return {}


def log(msg):
    sys.stderr.write(f"aws-fake: {msg}\n")
    sys.stderr.flush()


def json_doc(doc, status=200):
    return Response(status, json.dumps(doc, sort_keys=True) + "\n",
                    [("Content-Type", "application/json")])


TIME_UNITS = {"us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "": 1, "s": 1, "sec": 1,
              "second": 1, "seconds": 1, "m": 60, "min": 60, "minute": 60, "minutes": 60,
              "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
              "days": 86400}


def timespan(text):
    """Seconds of a systemd time span ("90", "30s", "5min", "1h 30min"), or None."""
    parts = re.findall(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)", text)
    if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s", "", text):
        return None
    if any(u not in TIME_UNITS for _, u in parts):
        return None
    return sum(float(n) * TIME_UNITS[u] for n, u in parts)


def control_unit(state, inst, arg):
    """/__fake/unit/<id>, from the systemd-run and systemctl stand-ins."""
    name = arg.get("unit") if isinstance(arg, dict) else None
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        return json_doc({"error": f"unit: a unit name, not {name!r}"}, 400)
    for suffix in (".timer", ".service"):
        name = name[:-len(suffix)] if name.endswith(suffix) else name
    if arg.get("stop"):
        inst.stop_units(name)
        log(f"instance {inst.id}: unit {name} stopped")
        return json_doc({"instance": inst.id, "unit": name, "stopped": True})
    on_active = arg.get("on_active") or ""
    seconds = timespan(on_active) if on_active else 0.0
    if seconds is None:
        return json_doc({"error": f"on_active: a time span, not {on_active!r}"}, 400)
    try:
        with open(inst.path("run/systemd-run", name + ".argv"), "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0")[:-1]]
    except OSError as e:
        return json_doc({"error": f"no command for unit {name}: {e}"}, 400)
    scaled = seconds * float(state.setting("shutdown_minute")) / 60.0
    inst.run_unit(name, scaled, argv)
    log(f"instance {inst.id}: unit {name} in {scaled:g} s: {argv}")
    return json_doc({"instance": inst.id, "unit": name, "seconds": scaled})


def control_instance(state, what, arg):
    """/__fake/interrupt, /__fake/restart/<id>, /__fake/shutdown/<id>, /__fake/schedule/<id>
    and /__fake/unit/<id>."""
    iid = arg.get("instance") if what == "interrupt" and isinstance(arg, dict) else \
        what.split("/", 1)[1]
    inst = state.instances.get(iid)
    if inst is None:
        sync_all(state)
        inst = state.instances.get(iid)
    if inst is None or inst.ending:
        return json_doc({"error": f"no running instance {iid!r}"}, 404)
    if what == "interrupt":
        if inst.stopped:
            return json_doc({"error": f"instance {iid!r} is stopped"}, 409)
        restart = arg.get("restart_after", state.setting("restart_after"))
        try:
            restart = setting_value("restart_after", restart)
        except ValueError as e:
            return json_doc({"error": str(e)}, 400)
        when = inst.interrupt(restart)
        return json_doc({"instance": iid, "time": iso(when), "action": inst.interrupt_action,
                         "restart_after": restart})
    if what.startswith("unit/"):
        return control_unit(state, inst, arg)
    if what.startswith("restart/"):
        req = spot_request_of(state, iid)
        if not inst.stopped or inst.stopped_by != "spot interruption" or req is None or \
                req.state != "disabled" or req.instance != iid:
            return json_doc({"error": f"instance {iid!r} is not waiting for capacity"}, 409)
        log(f"instance {iid}: capacity is back")
        inst.spot_restart(req)
        return json_doc({"instance": iid})
    if what.startswith("schedule/"):
        minutes = arg.get("minutes") if isinstance(arg, dict) else None
        if minutes is not None and (not isinstance(minutes, (int, float)) or minutes < 0):
            return json_doc({"error": f"minutes: a number or null, not {minutes!r}"}, 400)
        inst.schedule(minutes)
        log(f"instance {iid}: shutdown " + (f"in {minutes} minutes" if minutes is not None
                                            else "cancelled"))
        return json_doc({"instance": iid, "minutes": minutes})
    log(f"instance {iid} shuts itself down")
    threading.Thread(target=inst.shut_down, daemon=True).start()
    return json_doc({"instance": iid})


def setting_value(name, value):
    if name == "spot_capacity":
        if not isinstance(value, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for v in value.values()):
            raise ValueError(f"spot_capacity: {{type: instances (an integer >= 0)}}, "
                             f"not {value!r}")
        return {str(k): v for k, v in value.items()}
    if name in GPU_SETTINGS:
        return gpu_setting_value(name, value)
    if name == "aws_cli":
        if value not in AWS_CLIS:
            raise ValueError(f"aws_cli is one of {', '.join(AWS_CLIS)}, not {value!r}")
        return value
    if name == "restart_after":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"restart_after: seconds (a number >= 0) or null, not {value!r}")
        return float(value)
    if name == "s3_regions":
        if str(value) not in S3_REGIONS:
            raise ValueError(f"s3_regions is one of {', '.join(S3_REGIONS)}, not {value!r}")
        return str(value)
    if isinstance(DEFAULT_SETTINGS[name], bool):
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return float(value)


def control(state, call):
    what = call.path[len("/__fake/"):]
    try:
        arg = json.loads(call.body or b"null")
    except ValueError as e:
        return json_doc({"error": f"not JSON: {e}"}, 400)
    if what == "reset":
        reset_instances(state)
    if what in ("interrupt",) or \
            what.startswith(("shutdown/", "schedule/", "unit/", "restart/")):
        return control_instance(state, what, arg)
    if what == "instances":
        sync_all(state)
        return json_doc({iid: inst.describe() for iid, inst in instances_of(state).items()})
    if what == "placement-groups":
        return json_doc(placement_listing(state))
    if what == "spot-requests":
        sync_all(state)
        with state.spot_lock:
            return json_doc({i: r.listing() for i, r in state.spot_requests.items()})
    with state.lock:
        if what == "settings":
            unknown = set(arg or {}) - set(DEFAULT_SETTINGS)
            if unknown:
                return json_doc({"error": f"unknown settings {sorted(unknown)}"}, 400)
            state.settings.update({k: setting_value(k, v) for k, v in (arg or {}).items()})
            return json_doc(state.settings)
        if what == "prices":
            state.prices.update({k: float(v) for k, v in (arg or {}).items()})
            return json_doc(state.prices)
        if what == "spot-prices":
            state.spot_prices.update({k: float(v) for k, v in (arg or {}).items()})
            return json_doc(state.spot_prices)
        if what == "rules":
            state.rules = list(arg)
            state.rule_hits = [0] * len(state.rules)
        elif what == "clock":
            state.clock_offset = float(arg["offset"])
        elif what == "reset":
            state.reset()
        elif what != "counts":
            return Response(404, f"no control '{what}'\n")
        return json_doc({"total": state.total, "faults": state.faults,
                         "connections": state.connections, "requests": dict(state.requests)})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as AWS does
    server_version = "aws-fake"

    def log_message(self, fmt, *args):
        pass  # one line per request in handle_any() instead, without headers

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def send(self, call, res):
        state = self.server.state
        self.send_response(res.status)
        for name, value in res.headers:
            self.send_header(name, value)
        self.send_header("Date", formatdate(state.now(), usegmt=True))
        if call.method == "HEAD":
            self.send_header("Content-Length", getattr(res, "head_length", "0"))
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(res.body)))
        self.end_headers()
        self.wfile.write(res.body)

    def drop(self, rst):
        self.close_connection = True
        if rst:  # a reset, not a clean close
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        else:
            self.connection.shutdown(socket.SHUT_RDWR)

    def count(self, call):
        state = self.server.state
        with state.lock:
            state.total += 1
            # One handler per connection: tests check that connections are reused.
            if not getattr(self, "counted_connection", False):
                self.counted_connection = True
                state.connections += 1
            for key in (f"{call.service} {call.action}", f"{call.method} {call.path}"):
                state.requests[key] = state.requests.get(key, 0) + 1

    def handle_any(self):
        state = self.server.state
        call = Call(self.command, self.path, self.headers, self.read_body())
        if call.path.startswith("/__fake/"):
            try:
                res = control(state, call)
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                res = json_doc({"error": f"bad control request: {e!r}"}, 400)
            return self.send(call, res)
        self.count(call)
        res = verify(state, call, self.headers.get("Host", ""))
        what = "signature/time check failed" if res else ""
        if res is None:
            res = s3_wrong_region(state, call, self.headers.get("Host", ""))
            what = "the bucket is in another region" if res else ""
        rule = None if res else pick_fault(state, call)
        if rule:
            what = "fault " + rule["fault"]
            if rule["fault"] in ("drop", "reset"):
                log(f"{call.method} {call.path} ({call.service} {call.action}): {what}")
                return self.drop(rule["fault"] == "reset")
            if rule["fault"] != "error500-after":
                res = fault_response(rule, call)
        try:
            for fn in SERVICE_HANDLERS.get(call.service, []) if res is None else []:
                res = fn(state, call)
                if res is not None:
                    break
            if res is None:
                res = forward(state.upstream, call)
        except Exception:  # the fake's own bug, or moto gone: said, not a dropped connection
            log(traceback.format_exc())
            what += " (the fake failed)"
            res = internal_error(call)
        if rule and rule["fault"] == "error500-after":
            what += f" (the service answered {res.status})"
            res = internal_error(call)
        log(f"{call.method} {call.path} ({call.service} {call.action}): {res.status} {what}")
        self.send(call, res)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def end_all(state):
    """No process of ours outlives the fake."""
    if state.sandbox:
        end_processes(state.sandbox + "/i-")


def exit_with(state, pid):
    """Stops the fake when the test script that started it is gone."""
    while True:
        time.sleep(1)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            end_all(state)
            os._exit(0)


def sandbox_root(path):
    """The absolute sandbox root, made; refuses what could match the machine."""
    path = os.path.abspath(path)
    if path.count("/") < 2:
        raise SystemExit(f"aws-fake: --sandbox {path}: too close to /")
    os.makedirs(path, exist_ok=True)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="moto's URL, http://127.0.0.1:PORT")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--key", action="append", default=[], metavar="ID:SECRET",
                   help="accepted credentials (repeatable)")
    p.add_argument("--keys-stdin", action="store_true",
                   help="read more, one ID:SECRET a line, from stdin (not seen in ps)")
    p.add_argument("--clock-offset", type=float, default=0)
    p.add_argument("--rules", default="[]", help="initial fault rules, JSON")
    p.add_argument("--exit-with", type=int, metavar="PID", help="exit when PID does")
    p.add_argument("--sandbox", help="where instances keep their files (<dir>/<instance-id>/)")
    p.add_argument("--region", default="us-east-1", help="the instances' region")
    a = p.parse_args()
    upstream = urllib.parse.urlsplit(a.upstream)
    if upstream.hostname not in ("127.0.0.1", "localhost"):
        p.error("the upstream must be on 127.0.0.1")
    sandbox = sandbox_root(a.sandbox) if a.sandbox else None
    keys = a.key + (sys.stdin.read().split() if a.keys_stdin else [])
    state = State((k.split(":", 1) for k in keys), a.clock_offset, upstream, sandbox, a.region)
    state.rules = json.loads(a.rules)
    state.rule_hits = [0] * len(state.rules)
    end_all(state)  # left by a fake that was killed
    server = Server(("127.0.0.1", a.port), Handler)
    server.state = state
    state.url = f"http://127.0.0.1:{server.server_address[1]}"

    def stop(signum, frame):
        end_all(state)
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(f"{server.server_address[1]}\n")
        os.rename(a.port_file + ".tmp", a.port_file)
    if a.exit_with:
        threading.Thread(target=exit_with, args=(state, a.exit_with), daemon=True).start()
    log(f"listening on {state.url}, forwarding to {a.upstream}, sandbox {sandbox}")
    server.serve_forever()


if __name__ == "__main__":
    main()
