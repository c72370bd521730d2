#!/usr/bin/python3
"""Writes git-train's own SigV4 vectors with an implementation that is not ours.

    /usr/bin/python3 tests/unit/sigv4-vectors/generate.py

Needs Debian's python3-botocore (apt-get install python3-botocore). Each case
directory uses aws-c-auth's layout (context.json, request.txt, header-* and
query-* canonical request, string to sign, signature, signed request), so
tests/unit/test-sigv4.c reads it like aws-c-auth's suite. context.json adds
keys aws-c-auth does not need: double_uri_encode, unsigned_payload (header
variant) and presign_unsigned_payload (query variant).

botocore reads the clock, so the clock it sees is pinned to each case's time;
the canonical request and string to sign are captured on their way through.
"""
import datetime
import json
import os
import sys
import types
from urllib.parse import quote, urlsplit

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
ACCESS_KEY = "AKIAGITTRAINEXAMPLE"
SECRET_KEY = "gitTrain/Test+Secret/EXAMPLEKEY0123456789ab"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUC+TOKEN/x=="


def s3_path(bucket_path, key):
    """The path as botocore's S3 serializer sends it: key quoted, '/' and '~' kept."""
    return bucket_path + quote(key.encode("utf-8"), safe="/~")


CASES = [
    {
        # No double encoding and no normalisation: "//" and "/./" are part of the key.
        "name": "s3-put-object-special-key",
        "service": "s3",
        "region": "us-east-1",
        "time": "2026-01-31T23:59:59Z",
        "method": "PUT",
        "host": "examplebucket.s3.amazonaws.com",
        "path": s3_path("/", "photos//2024/./my file+v1~\u00e9t\u00e9 \u20ac.txt"),
        "query": "",
        "headers": [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("X-Amz-Meta-Note", "  spaced   out \t value "),
            ("X-Amz-Storage-Class", "STANDARD"),
        ],
        "body": b"hello, world\n",
        "token": None,
        "sign_payload": True,
    },
    {
        # Path-style addressing on a custom endpoint, as against moto.
        "name": "s3-put-object-unsigned-payload-token",
        "service": "s3",
        "region": "eu-west-1",
        "time": "2026-03-01T00:00:00Z",
        "method": "PUT",
        "host": "127.0.0.1:9000",
        "path": s3_path("/git-train-bucket/", "git-train/my repo/0123abc/code.tar.gz"),
        "query": "",
        "headers": [("Content-Type", "application/gzip")],
        "body": b"\x1f\x8b\x08\x00not really gzip\x00",
        "token": TOKEN,
        "sign_payload": False,
    },
    {
        # What the instance side gets: a presigned GET with a session token.
        "name": "s3-get-object-presigned-token",
        "service": "s3",
        "region": "eu-central-1",
        "time": "2025-11-29T04:35:12Z",
        "method": "GET",
        "host": "my-bucket.s3.eu-central-1.amazonaws.com",
        "path": s3_path("/", "git-train/repo/runs/20261129-043512-a1b2c3d-4f2a/log"),
        "query": "response-content-disposition=attachment%3B%20filename%3D%22log%20%2B%20out.txt%22"
        "&versionId=3HL4kqtJlcpXroDTDmJ%2Bxyz",
        "headers": [],
        "body": b"",
        "token": TOKEN,
        "sign_payload": True,
        "expires": 900,
    },
    {
        # Every other service: path normalised, then encoded a second time.
        "name": "ec2-get-double-encode",
        "service": "ec2",
        "region": "us-west-2",
        "time": "2026-06-15T12:00:00Z",
        "method": "GET",
        "host": "ec2.us-west-2.amazonaws.com",
        "path": "/a%20b/./c//d/../e%2Ff/",
        "query": "Action=DescribeInstances&Version=2016-11-15"
        "&Filter.1.Name=tag%3Agit-train%3Arun-id&Filter.1.Value.1=r%2B1%20x",
        "headers": [
            ("X-Custom", "one"),
            ("X-Custom", "  two   words "),
        ],
        "body": b"",
        "token": None,
        "sign_payload": True,
    },
]


def capturing(cls):
    """cls, remembering the canonical request and string to sign it computes."""

    class Capturing(cls):
        def string_to_sign(self, request, canonical_request):
            self.creq = canonical_request
            self.sts = super().string_to_sign(request, canonical_request)
            return self.sts

        def signature(self, string_to_sign, request):
            self.sig = super().signature(string_to_sign, request)
            return self.sig

    return Capturing


def pinned_clock(when):
    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    return types.SimpleNamespace(datetime=Fixed)


def make_request(case, with_body):
    target = case["path"] + ("?" + case["query"] if case["query"] else "")
    req = AWSRequest(method=case["method"], url="https://" + case["host"] + target,
                     data=case["body"] if with_body and case["body"] else None)
    # Assigning twice appends: HTTPHeaders keeps repeated headers in order.
    req.headers["Host"] = case["host"]
    for name, value in case["headers"]:
        req.headers[name] = value
    if case["service"] == "s3":
        req.context["client_config"] = types.SimpleNamespace(
            s3={"payload_signing_enabled": case["sign_payload"]})
    return req


def request_text(method, url, headers, body):
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}:{value}" for name, value in headers]
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body


def sign(case, query):
    s3 = case["service"] == "s3"
    if query:
        cls = botocore.auth.S3SigV4QueryAuth if s3 else botocore.auth.SigV4QueryAuth
    else:
        cls = botocore.auth.S3SigV4Auth if s3 else botocore.auth.SigV4Auth
    creds = Credentials(ACCESS_KEY, SECRET_KEY, case["token"])
    args = (creds, case["service"], case["region"])
    if query:
        signer = capturing(cls)(*args, expires=case.get("expires", 3600))
    else:
        signer = capturing(cls)(*args)
    # Query signing would move a body into the query string; the presigned
    # request carries it unchanged (S3 signs UNSIGNED-PAYLOAD instead).
    if query and case["body"] and not s3:
        sys.exit(f"{case['name']}: a query-signed body is only supported for S3")
    req = make_request(case, with_body=not query)
    when = datetime.datetime.strptime(case["time"], "%Y-%m-%dT%H:%M:%SZ")
    saved = botocore.auth.datetime
    botocore.auth.datetime = pinned_clock(when)
    try:
        signer.add_auth(req)
    finally:
        botocore.auth.datetime = saved
    signed = request_text(req.method, req.url, req.headers.items(), case["body"])
    return signer.creq, signer.sts, signer.sig, signed


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def generate(case):
    out = os.path.join(HERE, case["name"])
    os.makedirs(out, exist_ok=True)
    s3 = case["service"] == "s3"
    creds = {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}
    if case["token"]:
        creds["token"] = case["token"]
    context = {
        "credentials": creds,
        "expiration_in_seconds": case.get("expires", 3600),
        "normalize": not s3,
        "double_uri_encode": not s3,
        "region": case["region"],
        "service": case["service"],
        "sign_body": s3,
        "unsigned_payload": s3 and not case["sign_payload"],
        "presign_unsigned_payload": s3,
        "omit_session_token": False,
        "timestamp": case["time"],
        "generator": f"botocore {botocore.__version__} (tests/unit/sigv4-vectors/generate.py)",
    }
    write(os.path.join(out, "context.json"), json.dumps(context, indent=4) + "\n")
    target = case["path"] + ("?" + case["query"] if case["query"] else "")
    headers = [("Host", case["host"])] + case["headers"]
    write(os.path.join(out, "request.txt"),
          request_text(case["method"], "https://" + case["host"] + target, headers,
                       case["body"]))
    for variant in ("header", "query"):
        creq, sts, sig, signed = sign(case, variant == "query")
        write(os.path.join(out, f"{variant}-canonical-request.txt"), creq)
        write(os.path.join(out, f"{variant}-string-to-sign.txt"), sts)
        write(os.path.join(out, f"{variant}-signature.txt"), sig)
        write(os.path.join(out, f"{variant}-signed-request.txt"), signed)


def main():
    for case in CASES:
        generate(case)
        print(case["name"])


if __name__ == "__main__":
    main()
