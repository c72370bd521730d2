#!/usr/bin/python3
"""aws-fake: what moto lacks, in front of moto.

A small threaded HTTP server on 127.0.0.1 that git-train talks to instead of
moto (AWS_ENDPOINT_URL points here). For every request it

  1. checks the SigV4 signature with botocore (Debian's python3-botocore: an
     implementation that is not ours) against the test credentials, and the
     request time against its own clock: a bad signature is a 403
     SignatureDoesNotMatch, an unknown key a 403 InvalidClientTokenId, a time
     more than 15 minutes off a 403 RequestTimeTooSkewed;
  2. applies the first fault rule that selects it (throttling, 500, a dropped
     connection, a slow or malformed response, any AWS error);
  3. gives it to the handler registered for its service, if one takes it
     (later: SSM commands that really run), else forwards it to moto.

Its Date header tells its own clock, which --clock-offset (or the control
endpoint) can move away from ours, to test clock-skew correction.

Control endpoint (unsigned, under /__fake/), used by tests/test-lib.sh:
  POST /__fake/rules        a JSON list of rules, replacing the current ones
  POST /__fake/clock        {"offset": seconds}
  POST /__fake/reset        no rules, no counts, offset 0
  GET  /__fake/counts       {"total": n, "faults": n, "connections": n (that carried AWS requests),
                             "requests": {"sts GetCallerIdentity": n, "POST /": n, ...}}
A rule: {"fault": "throttle" | "error500" | "drop" | "reset" | "slow" | "malformed" | "error",
         what it selects (all optional): "service", "action", "method", "path" (a prefix),
         which of the selected requests fail: "every": N (the 1st, N+1th, ...),
         "nth": [k, ...] (1-based), "times": N (the first N); none of them: all,
         and for some faults: "delay" (slow, seconds), "status", "code", "message", "body"}.

Run it with /usr/bin/python3 (Debian's, which sees python3-botocore).
"""

import argparse
import calendar
import hashlib
import hmac
import http.client
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from email.utils import formatdate

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "trailers", "transfer-encoding", "upgrade", "content-length",
              "date"}
MAX_SKEW = 15 * 60


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

    def header(self, name):
        return self.headers.get(name)

    def _service(self):
        scope = parse_authorization(self.header("Authorization") or "").get("scope")
        if scope:
            return scope[3]
        cred = urllib.parse.parse_qs(self.query).get("X-Amz-Credential")
        if cred:
            return cred[0].split("/")[3]
        return "unknown"

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


class State:
    def __init__(self, keys, clock_offset):
        self.lock = threading.Lock()
        self.keys = dict(keys)  # access key id -> secret
        self.reset()
        self.clock_offset = clock_offset

    def reset(self):
        self.rules = []
        self.rule_hits = []
        self.total = 0
        self.faults = 0
        self.requests = {}
        self.connections = 0
        self.clock_offset = 0

    def now(self):
        return time.time() + self.clock_offset


# --- signature verification, by botocore --------------------------------

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

def rule_selects(rule, call):
    if rule.get("service") and rule["service"] != call.service:
        return False
    if rule.get("action") and rule["action"] != call.action:
        return False
    if rule.get("method") and rule["method"] != call.method:
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


def fault_response(rule, call):
    """The Response for a fault, or None to carry on (slow) or drop."""
    kind = rule.get("fault")
    if kind == "throttle":
        return aws_error(call, *THROTTLE[call.style])
    if kind == "error500":
        code = "InternalServerError" if call.style == "json" else "InternalError"
        return aws_error(call, 500, code, "We encountered an internal error. Please try again.")
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


# --- services the fake implements itself (later issues add to this) ------

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


# --- the server ------------------------------------------------------------

def log(msg):
    sys.stderr.write(f"aws-fake: {msg}\n")
    sys.stderr.flush()


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

    def control(self, call):
        state = self.server.state
        what = call.path[len("/__fake/"):]
        arg = json.loads(call.body or b"null")
        with state.lock:
            if what == "rules":
                state.rules = list(arg)
                state.rule_hits = [0] * len(state.rules)
            elif what == "clock":
                state.clock_offset = float(arg["offset"])
            elif what == "reset":
                state.reset()
            elif what != "counts":
                return Response(404, f"no control '{what}'\n")
            out = {"total": state.total, "faults": state.faults,
                   "connections": state.connections, "requests": dict(state.requests)}
        return Response(200, json.dumps(out, sort_keys=True) + "\n",
                        [("Content-Type", "application/json")])

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
            return self.send(call, self.control(call))
        self.count(call)
        res = verify(state, call, self.headers.get("Host", ""))
        rule = None if res else pick_fault(state, call)
        what = "signature/time check failed" if res else ""
        if rule:
            what = "fault " + rule["fault"]
            if rule["fault"] in ("drop", "reset"):
                log(f"{call.method} {call.path} ({call.service} {call.action}): {what}")
                return self.drop(rule["fault"] == "reset")
            res = fault_response(rule, call)
        for fn in SERVICE_HANDLERS.get(call.service, []) if res is None else []:
            res = fn(state, call)
            if res is not None:
                break
        if res is None:
            res = forward(self.server.upstream, call)
        log(f"{call.method} {call.path} ({call.service} {call.action}): {res.status} {what}")
        self.send(call, res)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def exit_with(pid):
    """Stops the fake when the test script that started it is gone."""
    while True:
        time.sleep(1)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="moto's URL, http://127.0.0.1:PORT")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--key", action="append", default=[], metavar="ID:SECRET",
                   help="accepted credentials (repeatable)")
    p.add_argument("--clock-offset", type=float, default=0)
    p.add_argument("--rules", default="[]", help="initial fault rules, JSON")
    p.add_argument("--exit-with", type=int, metavar="PID", help="exit when PID does")
    a = p.parse_args()
    upstream = urllib.parse.urlsplit(a.upstream)
    if upstream.hostname not in ("127.0.0.1", "localhost"):
        p.error("the upstream must be on 127.0.0.1")
    state = State((k.split(":", 1) for k in a.key), a.clock_offset)
    state.rules = json.loads(a.rules)
    state.rule_hits = [0] * len(state.rules)
    server = Server(("127.0.0.1", a.port), Handler)
    server.state = state
    server.upstream = upstream
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(f"{server.server_address[1]}\n")
        os.rename(a.port_file + ".tmp", a.port_file)
    if a.exit_with:
        threading.Thread(target=exit_with, args=(a.exit_with,), daemon=True).start()
    log(f"listening on 127.0.0.1:{server.server_address[1]}, forwarding to {a.upstream}")
    server.serve_forever()


if __name__ == "__main__":
    main()
