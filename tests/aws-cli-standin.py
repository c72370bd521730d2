#!/usr/bin/python3
"""aws-cli-standin: the `aws s3 cp` that src/run/runner.sh uses, for the fake's instances
(and the commands that bring a run its data and secrets: see data_and_secrets(); and
`aws ec2 cancel-spot-instance-requests` / `describe-spot-instance-requests`: see
ec2_commands()).

The real AWS CLI takes 1-2 seconds to start on a test machine, and the runner
calls it several times per run (the code, the log every few seconds, the
outputs, the log and result.json at the end). tests/aws-fake.py puts this
stand-in first on PATH, as `aws`, in the sandbox of each instance it boots
(unless its setting "aws_cli" is "real": one runner test in t0600 keeps the
real CLI, and t0590 checks the real CLI on an instance). It makes the requests
the CLI makes, the way the CLI makes them:

  aws [--endpoint-url URL] [--region REGION] s3 cp SRC DST [--recursive]
      [--content-type TYPE] [--sse [AES256]] [--only-show-errors | --quiet]

  s3://bucket/key to a file          HeadObject, then GetObject into a temporary
                                     file renamed into place
  a file to s3://bucket/key          PutObject (a key ending in / takes the file's name)
  --recursive, a directory to s3://bucket/prefix
                                     PutObject for each file under it (symlinks
                                     followed), key prefix/<relative path>
  Content-Type: --content-type, else guessed from the file name (mimetypes),
  as the CLI does. --sse (AES256, its only value here) asks S3 to encrypt what
  is uploaded (x-amz-server-side-encryption: AES256). Retries a 5xx answer or a dropped connection (5 attempts).

Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN,
else the instance role's from IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT),
unless AWS_EC2_METADATA_DISABLED=true. The endpoint: --endpoint-url, else
AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL. Requests are signed with SigV4
(the fake checks every signature with botocore). Both endpoints must be on
127.0.0.0/8: it never sends a packet anywhere else.

Messages and exit status as the CLI's: "upload: SRC to DST" unless
--only-show-errors; "upload failed: ...", "download failed: ..." or
"fatal error: ..." on stderr and exit 1 when a transfer fails; anything it
does not implement is "aws: error: ..." and exit 252, so that a runner that
starts using more of the CLI fails loudly here rather than passing untested.
Only /usr/bin/python3's standard library: it starts in a few hundredths of
a second.
"""

import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import sys
import time
import urllib.parse

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class Fatal(Exception):
    pass


def usage(msg):
    sys.stderr.write(f"aws: error: {msg} (tests/aws-cli-standin.py implements only the "
                     "`aws s3 cp` that the runner uses, and its data, secrets and spot-request commands)\n")
    sys.exit(252)


def loopback_url(url, what):
    parts = urllib.parse.urlsplit(url)
    try:
        ok = parts.scheme == "http" and ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        ok = parts.hostname == "localhost"
    if not ok:
        raise Fatal(f"{what} {url} is not an http://127.0.0.0/8 address: "
                    "the test stand-in for the AWS CLI reaches nothing else")
    return parts


def reason(status):
    import http  # only for a message
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class Conn:
    """HTTP/1.1 to one loopback host:port, kept alive: what http.client does here,
    without its imports (the email package), which cost more than all the rest
    of a run of this stand-in."""

    def __init__(self, host, port, timeout):
        self.addr, self.timeout, self.sock, self.buf = (host, port), timeout, None, b""

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock, self.buf = None, b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the connection was closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def request(self, method, path, body=b"", headers=None):
        """(status, body): one request and its whole answer."""
        if self.sock is None:
            self.sock = socket.create_connection(self.addr, timeout=self.timeout)
        headers = headers or {}
        given = {k.lower() for k in headers}
        head = [f"{method} {path} HTTP/1.1"]
        if "host" not in given:  # the signed requests name theirs
            head.append(f"Host: {self.addr[0]}:{self.addr[1]}")
        if "content-length" not in given:
            head.append(f"Content-Length: {len(body)}")
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status = int(self._line().split(b" ", 2)[1])
        fields = {}
        while True:
            line = self._line()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            fields[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                n = int(self._line().split(b";")[0], 16)
                data += self._take(n)
                self._line()
                if n == 0:
                    break
        elif "content-length" in fields:
            data = self._take(int(fields["content-length"]))
        else:  # to the end
            try:
                while True:
                    self._fill()
            except ConnectionError:
                pass
            data, self.buf = self.buf, b""
            fields["connection"] = "close"
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, data


def http_request(parts, method, path, headers=None, body=b"", timeout=10):
    conn = Conn(parts.hostname, parts.port or 80, timeout)
    try:
        status, data = conn.request(method, path, body, headers)
        return status, data, None
    finally:
        conn.close()


def credentials():
    """(access key id, secret, session token or None), as botocore's chain finds them here."""
    env = os.environ
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN")
    if env.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        raise Fatal("Unable to locate credentials")
    imds = loopback_url(env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254"),
                        "the instance metadata service")
    base = imds.path.rstrip("/")
    try:
        status, token, _ = http_request(imds, "PUT", base + "/latest/api/token",
                                        {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, timeout=2)
        if status != 200:
            raise Fatal("Unable to locate credentials")
        hdr = {"X-aws-ec2-metadata-token": token.decode()}
        path = base + "/latest/meta-data/iam/security-credentials/"
        status, role, _ = http_request(imds, "GET", path, hdr, timeout=2)
        if status != 200:
            raise Fatal("Unable to locate credentials")
        status, doc, _ = http_request(imds, "GET", path + role.decode().strip(), hdr, timeout=2)
        creds = json.loads(doc) if status == 200 else {}
    except (OSError, ValueError):
        raise Fatal("Unable to locate credentials")
    if not creds.get("AccessKeyId"):
        raise Fatal("Unable to locate credentials")
    return creds["AccessKeyId"], creds["SecretAccessKey"], creds.get("Token")


class S3:
    def __init__(self, endpoint, region):
        self.parts = loopback_url(endpoint, "the endpoint")
        self.host = self.parts.netloc
        self.region = region
        self.key_id, self.secret, self.token = credentials()
        self.conn = None

    def _sign(self, method, path, headers, payload_hash):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers.update({"Host": self.host, "X-Amz-Date": amz_date,
                        "X-Amz-Content-SHA256": payload_hash})
        if self.token:
            headers["X-Amz-Security-Token"] = self.token
        signed = sorted(k.lower() for k in headers)
        canon_headers = "".join(f"{k.lower()}:{' '.join(str(v).split())}\n"
                                for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower()))
        canonical = "\n".join([method, path, "", canon_headers, ";".join(signed), payload_hash])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.key_id}/{scope}, "
                                    f"SignedHeaders={';'.join(signed)}, Signature={sig}")

    def request(self, method, bucket, key, body=b"", headers=None):
        """(status, body, error code, error message); retries as the CLI does."""
        path = "/" + urllib.parse.quote(bucket, safe="") + "/" + urllib.parse.quote(key, safe="/~")
        for attempt in range(5):
            hdr = dict(headers or {})
            self._sign(method, path, hdr, hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256)
            try:
                if self.conn is None:
                    self.conn = Conn(self.parts.hostname, self.parts.port or 80, 60)
                status, data = self.conn.request(method, path, body, hdr)
            except (OSError, ValueError, IndexError) as e:
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt == 4:
                    return 0, b"", "ConnectionError", str(e)
                time.sleep(0.05 * 2 ** attempt)
                continue
            if status >= 500 and attempt < 4:
                time.sleep(0.05 * 2 ** attempt)
                continue
            if status < 300:
                return status, data, None, None
            code, msg = error_of(status, data)
            return status, data, code, msg
        raise AssertionError("not reached")


def error_of(status, data):
    code = msg = None
    try:
        import xml.etree.ElementTree as ET
        root = ET.fromstring(data)
        code, msg = root.findtext("Code"), root.findtext("Message")
    except Exception:
        pass
    return code or str(status), msg or reason(status)


def s3_url(arg):
    rest = arg[len("s3://"):]
    bucket, _, key = rest.partition("/")
    if not bucket:
        usage(f"invalid S3 path {arg}")
    return bucket, key


def upload_one(s3, path, bucket, key, content_type, show, sse=None):
    dst = f"s3://{bucket}/{key}"
    try:
        with open(path, "rb") as f:
            body = f.read()
    except OSError as e:
        sys.stderr.write(f"upload failed: {path} to {dst} {e}\n")
        return False
    if not content_type:
        import mimetypes  # its tables take a while: only when the type is guessed
    ctype = content_type or mimetypes.guess_type(path)[0]
    headers = {"Content-Type": ctype} if ctype else {}
    if sse:
        headers["x-amz-server-side-encryption"] = sse
    status, _, code, msg = s3.request("PUT", bucket, key, body, headers)
    if code:
        sys.stderr.write(f"upload failed: {path} to {dst} An error occurred ({code}) when "
                         f"calling the PutObject operation: {msg}\n")
        return False
    if show:
        print(f"upload: {path} to {dst}")
    return True


def download(s3, bucket, key, path, show):
    src = f"s3://{bucket}/{key}"
    status, _, code, msg = s3.request("HEAD", bucket, key)
    if code:
        why = f'Key "{key}" does not exist' if status == 404 else \
            (reason(status) or msg)
        raise Fatal(f"An error occurred ({status}) when calling the HeadObject operation: {why}")
    status, data, code, msg = s3.request("GET", bucket, key)
    if code:
        sys.stderr.write(f"download failed: {src} to {path} An error occurred ({code}) when "
                         f"calling the GetObject operation: {msg}\n")
        return False
    if os.path.isdir(path):
        path = os.path.join(path, os.path.basename(key))
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    import tempfile  # only here: most runs of this stand-in download nothing
    fd, tmp = tempfile.mkstemp(dir=d, prefix=os.path.basename(path) + ".")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.rename(tmp, path)
    if show:
        print(f"download: {src} to {path}")
    return True


def cp(s3, src, dst, recursive, content_type, show, sse=None):
    if src.startswith("s3://") and not dst.startswith("s3://"):
        if recursive:
            usage("cp --recursive from S3")
        bucket, key = s3_url(src)
        return download(s3, bucket, key, dst, show)
    if not dst.startswith("s3://") or src.startswith("s3://"):
        usage("cp between two local paths or two S3 paths")
    bucket, prefix = s3_url(dst)
    if not recursive:
        if os.path.isdir(src):
            sys.stderr.write(f"upload failed: {src} to {dst} [Errno 21] Is a directory: "
                             f"'{src}'\n")
            return False
        if prefix == "" or prefix.endswith("/"):
            prefix += os.path.basename(src)
        return upload_one(s3, src, bucket, prefix, content_type, show, sse)
    if not os.path.isdir(src):
        raise Fatal(f"The user-provided path {src} does not exist.")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    ok = True
    for root, dirs, files in os.walk(src, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            ok = upload_one(s3, path, bucket, prefix + rel, content_type, show, sse) and ok
    return ok


# --- data and secrets (train.data, train.secret): what src/run/runner.sh's
# runner_fetch_data and runner_fetch_secrets call ------------------------------
#
#   aws s3 sync s3://bucket/prefix DIR [--exclude PATTERN]... [--only-show-errors]
#       ListObjectsV2 (every page), then GetObject of each key not excluded
#       (patterns relative to the source, as the CLI's filters are) whose
#       file in DIR is missing or of another size; a key that would land
#       outside DIR is skipped with a warning, as the CLI does
#   aws s3api list-objects-v2 --bucket B --prefix P --query 'Contents[].[Key,Size,ETag]'
#       --output text
#       those fields, tab-separated, a line per object ("None" when there is none)
#   aws ssm get-parameter --name N --with-decryption --query Parameter.Value --output text
#   aws secretsmanager get-secret-value --secret-id N --query SecretString --output text
#       the value, and a newline; errors as the CLI's:
#       "An error occurred (Code) when calling the Action operation: message", exit 254

import fnmatch
import xml.etree.ElementTree as ET


def sign_request(host, region, service, method, path, query, headers, body, creds):
    key_id, secret, token = creds
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    headers.update({"Host": host, "X-Amz-Date": amz_date})
    if service == "s3":
        headers["X-Amz-Content-SHA256"] = payload_hash
    if token:
        headers["X-Amz-Security-Token"] = token
    signed = sorted(k.lower() for k in headers)
    canon_headers = "".join(f"{k.lower()}:{' '.join(str(v).split())}\n"
                            for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower()))
    canon_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                           for k, v in sorted(query))
    canonical = "\n".join([method, path, canon_query, canon_headers, ";".join(signed),
                           payload_hash])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    return canon_query


def call(endpoint, region, service, method, path, query=(), headers=None, body=b""):
    """(status, body): one signed request, retried on a 5xx or a dropped connection."""
    parts = loopback_url(endpoint, "the endpoint")
    creds = credentials()
    for attempt in range(5):
        hdr = dict(headers or {})
        qs = sign_request(parts.netloc, region, service, method, path, list(query), hdr, body,
                          creds)
        try:
            status, data, _ = http_request(parts, method, path + ("?" + qs if qs else ""), hdr,
                                           body, timeout=60)
        except OSError:
            if attempt == 4:
                raise Fatal(f"Could not connect to the endpoint URL: \"{endpoint}\"")
            time.sleep(0.05 * 2 ** attempt)
            continue
        if status >= 500 and attempt < 4:
            time.sleep(0.05 * 2 ** attempt)
            continue
        return status, data
    raise AssertionError("not reached")


class CallError(Exception):
    pass


def s3_list(endpoint, region, bucket, prefix):
    path = "/" + urllib.parse.quote(bucket, safe="")
    token, out = None, []
    while True:
        query = [("list-type", "2"), ("prefix", prefix)]
        if token:
            query.append(("continuation-token", token))
        status, data = call(endpoint, region, "s3", "GET", path, query)
        if status >= 300:
            code, msg = error_of(status, data)
            raise CallError(f"An error occurred ({code}) when calling the ListObjectsV2 "
                            f"operation: {msg}")
        root = ET.fromstring(data)
        for el in root.iter():
            el.tag = el.tag.rsplit("}", 1)[-1]
        for c in root.iter("Contents"):
            out.append((c.findtext("Key") or "", int(c.findtext("Size") or 0),
                        c.findtext("ETag") or ""))
        if root.findtext("IsTruncated") != "true":
            return out
        token = root.findtext("NextContinuationToken")


def s3_sync(endpoint, region, src, dst, excludes, show):
    bucket, prefix = s3_url(src)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    s3 = S3(endpoint, region)
    root = os.path.abspath(dst)
    ok = True
    for key, size, _ in s3_list(endpoint, region, bucket, prefix):
        rel = key[len(prefix):]
        if not rel or rel.endswith("/"):
            continue
        if any(fnmatch.fnmatchcase(rel, p) for p in excludes):
            continue
        path = os.path.abspath(os.path.join(root, rel))
        if not path.startswith(root + os.sep):
            sys.stderr.write(f"warning: Skipping file s3://{bucket}/{key}. File does not "
                             "exist in the destination directory.\n")
            continue
        if os.path.isfile(path) and os.path.getsize(path) == size:
            continue
        ok = download(s3, bucket, key, path, show) and ok
    return ok


def json_call(endpoint, region, service, target, doc):
    body = json.dumps(doc).encode()
    status, data = call(endpoint, region, service, "POST", "/", (),
                        {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
                        body)
    try:
        answer = json.loads(data or b"{}")
    except ValueError:
        answer = {}
    if status >= 300:
        code = str(answer.get("__type", status)).rsplit("#", 1)[-1]
        msg = answer.get("message") or answer.get("Message") or ""
        raise CallError(f"An error occurred ({code}) when calling the "
                        f"{target.rsplit('.', 1)[-1]} operation: {msg}")
    return answer


def options(rest, flags, valued):
    """{option: value or True} and the words left, for the forms above only."""
    got, words, i = {}, [], 0
    while i < len(rest):
        a = rest[i]
        if a in valued:
            if i + 1 >= len(rest):
                usage(f"argument {a}: expected one argument")
            if a == "--exclude":
                got.setdefault(a, []).append(rest[i + 1])
            else:
                got[a] = rest[i + 1]
            i += 2
            continue
        if a in flags:
            got[a] = True
        elif a.startswith("--"):
            usage(f"the option {a}")
        else:
            words.append(a)
        i += 1
    return got, words


def data_and_secrets(args, endpoint, region):
    """The exit status of one of the commands above; None when args is none of them."""
    env = os.environ
    cmd, rest = args[:2], args[2:]
    try:
        if cmd == ["s3", "sync"]:
            o, words = options(rest, ("--only-show-errors", "--quiet", "--no-progress"),
                               ("--exclude",))
            if len(words) != 2 or not words[0].startswith("s3://") or \
                    words[1].startswith("s3://"):
                usage("s3 sync other than from S3 to a directory")
            ep = endpoint or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
            show = not (o.get("--only-show-errors") or o.get("--quiet"))
            return 0 if s3_sync(ep, region, words[0], words[1], o.get("--exclude", []),
                                show) else 1
        if cmd == ["s3api", "list-objects-v2"]:
            o, words = options(rest, (), ("--bucket", "--prefix", "--query", "--output"))
            if words or o.get("--query") != "Contents[].[Key,Size,ETag]" or \
                    o.get("--output") != "text" or "--bucket" not in o:
                usage("s3api list-objects-v2 other than the runner's")
            ep = endpoint or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
            listed = s3_list(ep, region, o["--bucket"], o.get("--prefix", ""))
            for key, size, etag in listed:
                print(f"{key}\t{size}\t{etag}")
            if not listed:
                print("None")
            return 0
        if cmd == ["ssm", "get-parameter"]:
            o, words = options(rest, ("--with-decryption",), ("--name", "--query", "--output"))
            if words or o.get("--query") != "Parameter.Value" or o.get("--output") != "text":
                usage("ssm get-parameter other than the runner's")
            ep = endpoint or env.get("AWS_ENDPOINT_URL_SSM") or env.get("AWS_ENDPOINT_URL")
            doc = {"Name": o.get("--name", ""), "WithDecryption": bool(o.get("--with-decryption"))}
            print(json_call(ep, region, "ssm", "AmazonSSM.GetParameter", doc)["Parameter"]["Value"])
            return 0
        if cmd == ["secretsmanager", "get-secret-value"]:
            o, words = options(rest, (), ("--secret-id", "--query", "--output"))
            if words or o.get("--query") != "SecretString" or o.get("--output") != "text":
                usage("secretsmanager get-secret-value other than the runner's")
            ep = endpoint or env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or \
                env.get("AWS_ENDPOINT_URL")
            doc = {"SecretId": o.get("--secret-id", "")}
            print(json_call(ep, region, "secretsmanager", "secretsmanager.GetSecretValue",
                            doc)["SecretString"])
            return 0
    except CallError as e:
        sys.stderr.write(f"\n{e}\n")
        return 254
    except Fatal as e:
        sys.stderr.write(f"fatal error: {e}\n")
        return 1
    return None


# --- checkpoints (issue 13): what src/run/runner.sh's runner_sync_up calls ----
#
#   aws s3 sync DIR s3://bucket/prefix [--exclude PATTERN]... [--sse AES256]
#       [--no-follow-symlinks] [--only-show-errors]
#       PutObject of each file under DIR (patterns relative to DIR, as the
#       CLI's filters are) whose object is missing, of another size, or older
#       than the file; nothing is deleted; with --no-follow-symlinks, links
#       are skipped

def s3_list_times(endpoint, region, bucket, prefix):
    """{key: (size, LastModified in seconds)} under prefix."""
    path = "/" + urllib.parse.quote(bucket, safe="")
    token, out = None, {}
    while True:
        query = [("list-type", "2"), ("prefix", prefix)]
        if token:
            query.append(("continuation-token", token))
        status, data = call(endpoint, region, "s3", "GET", path, query)
        if status >= 300:
            code, msg = error_of(status, data)
            raise CallError(f"An error occurred ({code}) when calling the ListObjectsV2 "
                            f"operation: {msg}")
        root = ET.fromstring(data)
        for el in root.iter():
            el.tag = el.tag.rsplit("}", 1)[-1]
        for c in root.iter("Contents"):
            when = datetime.datetime.strptime(
                (c.findtext("LastModified") or "1970-01-01T00:00:00")[:19],
                "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
            out[c.findtext("Key") or ""] = (int(c.findtext("Size") or 0), when)
        if root.findtext("IsTruncated") != "true":
            return out
        token = root.findtext("NextContinuationToken")


def sync_up(args, endpoint, region):
    """The exit status of `aws s3 sync DIR s3://...`; None for any other command."""
    if args[:2] != ["s3", "sync"]:
        return None
    o, words = options(args[2:], ("--only-show-errors", "--quiet", "--no-progress",
                                  "--no-follow-symlinks"), ("--exclude", "--sse"))
    if len(words) != 2 or words[0].startswith("s3://") or not words[1].startswith("s3://"):
        return None
    if o.get("--sse", "AES256") != "AES256":
        usage(f"--sse {o['--sse']}")
    env = os.environ
    ep = endpoint or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    show = not (o.get("--only-show-errors") or o.get("--quiet"))
    src, (bucket, prefix) = words[0], s3_url(words[1])
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if not os.path.isdir(src):
        sys.stderr.write(f"fatal error: The user-provided path {src} does not exist.\n")
        return 255
    try:
        s3 = S3(ep, region)
        there = s3_list_times(ep, region, bucket, prefix)
        ok = True
        follow = not o.get("--no-follow-symlinks")
        for root, dirs, files in os.walk(src, followlinks=follow):
            dirs.sort()
            if not follow:
                dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
            for name in sorted(files):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, src).replace(os.sep, "/")
                if any(fnmatch.fnmatchcase(rel, p) for p in o.get("--exclude", [])):
                    continue
                if not follow and os.path.islink(path):
                    continue
                st = os.stat(path)
                old = there.get(prefix + rel)
                if old and old[0] == st.st_size and old[1] >= int(st.st_mtime):
                    continue
                ok = upload_one(s3, path, bucket, prefix + rel, None, show,
                                "AES256" if "--sse" in o else None) and ok
        return 0 if ok else 1
    except CallError as e:
        sys.stderr.write(f"\n{e}\n")
        return 254
    except Fatal as e:
        sys.stderr.write(f"fatal error: {e}\n")
        return 1


# --- spot requests: what the runner calls at the end of a run -----------------
#
#   aws ec2 cancel-spot-instance-requests --spot-instance-request-ids ID [ID...]
#       CancelSpotInstanceRequests; prints {"CancelledSpotInstanceRequests":
#       [{"SpotInstanceRequestId", "State"}]} as the CLI does
#   aws ec2 describe-spot-instance-requests [--spot-instance-request-ids ID...]
#       [--filters Name=N,Values=V1,V2 ...]
#       DescribeSpotInstanceRequests; prints {"SpotInstanceRequests": [...]} with
#       the fields the fake gives (SpotInstanceRequestId, State, Status, InstanceId,
#       Type, InstanceInterruptionBehavior, LaunchedAvailabilityZone, ValidUntil,
#       CreateTime, Tags, LaunchSpecification.InstanceType/ImageId)
#   The endpoint: --endpoint-url, else AWS_ENDPOINT_URL_EC2, else AWS_ENDPOINT_URL.
#   An AWS error: "An error occurred (Code) when calling the Action operation:
#   message" on stderr, exit 254; no --query, no --output but json.

EC2_FIELDS = {"spotInstanceRequestId": "SpotInstanceRequestId", "state": "State",
              "instanceId": "InstanceId", "type": "Type",
              "instanceInterruptionBehavior": "InstanceInterruptionBehavior",
              "launchedAvailabilityZone": "LaunchedAvailabilityZone",
              "validUntil": "ValidUntil", "createTime": "CreateTime",
              "productDescription": "ProductDescription", "spotPrice": "SpotPrice"}


def ec2_call(endpoint, region, action, params):
    """The parsed XML answer of an EC2 Query call (tags without namespaces)."""
    body = urllib.parse.urlencode([("Action", action), ("Version", "2016-11-15")] +
                                  list(params)).encode()
    status, data = call(endpoint, region, "ec2", "POST", "/", (),
                        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                        body)
    try:
        root = ET.fromstring(data)
        for el in root.iter():
            el.tag = el.tag.rsplit("}", 1)[-1]
    except ET.ParseError:
        root = None
    if status >= 300 or root is None:
        code = root.findtext(".//Error/Code") if root is not None else None
        msg = root.findtext(".//Error/Message") if root is not None else None
        raise CallError(f"An error occurred ({code or status}) when calling the {action} "
                        f"operation: {msg or reason(status)}")
    return root


def spot_request_json(item):
    out = {name: item.findtext(tag) for tag, name in EC2_FIELDS.items()
           if item.find(tag) is not None}
    status = item.find("status")
    if status is not None:
        out["Status"] = {"Code": status.findtext("code"), "Message": status.findtext("message"),
                         "UpdateTime": status.findtext("updateTime")}
    spec = item.find("launchSpecification")
    if spec is not None:
        out["LaunchSpecification"] = {k: spec.findtext(t) for t, k in
                                      (("instanceType", "InstanceType"), ("imageId", "ImageId"))
                                      if spec.find(t) is not None}
    out["Tags"] = [{"Key": t.findtext("key"), "Value": t.findtext("value")}
                   for t in item.iterfind("tagSet/item")]
    return out


def ec2_commands(args, endpoint, region):
    """The exit status of an `aws ec2` command above; None when args is none of them."""
    if args[:1] != ["ec2"] or args[1:2] not in (["cancel-spot-instance-requests"],
                                                  ["describe-spot-instance-requests"]):
        return None
    ids, filters, rest, i = [], [], args[2:], 0
    while i < len(rest):
        a = rest[i]
        if a in ("--spot-instance-request-ids", "--filters"):
            i += 1
            while i < len(rest) and not rest[i].startswith("--"):
                (ids if a == "--spot-instance-request-ids" else filters).append(rest[i])
                i += 1
            continue
        if a == "--output" and i + 1 < len(rest) and rest[i + 1] == "json":
            i += 2
            continue
        usage(f"the option {a} of `aws ec2 {args[1]}`")
    params = [(f"SpotInstanceRequestId.{n}", v) for n, v in enumerate(ids, 1)]
    for n, f in enumerate(filters, 1):
        name, _, values = f.partition(",Values=")
        if not name.startswith("Name=") or not values:
            usage(f"--filters {f}: only Name=N,Values=V1,V2")
        params.append((f"Filter.{n}.Name", name[len("Name="):]))
        params += [(f"Filter.{n}.Value.{m}", v) for m, v in enumerate(values.split(","), 1)]
    ep = endpoint or os.environ.get("AWS_ENDPOINT_URL_EC2") or os.environ.get("AWS_ENDPOINT_URL")
    try:
        if not ep:
            raise Fatal("no endpoint: the stand-in reaches only 127.0.0.0/8")
        if args[1] == "cancel-spot-instance-requests":
            if not ids:
                usage("argument --spot-instance-request-ids is required")
            root = ec2_call(ep, region, "CancelSpotInstanceRequests", params)
            doc = {"CancelledSpotInstanceRequests": [
                {"SpotInstanceRequestId": it.findtext("spotInstanceRequestId"),
                 "State": it.findtext("state")}
                for it in root.iterfind("spotInstanceRequestSet/item")]}
        else:
            root = ec2_call(ep, region, "DescribeSpotInstanceRequests", params)
            doc = {"SpotInstanceRequests": [spot_request_json(it) for it in
                                            root.iterfind("spotInstanceRequestSet/item")]}
    except CallError as e:
        sys.stderr.write(f"\n{e}\n")
        return 254
    except Fatal as e:
        sys.stderr.write(f"fatal error: {e}\n")
        return 255
    print(json.dumps(doc, indent=4))
    return 0


def main(argv):
    endpoint = region = None
    args = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--endpoint-url", "--region", "--content-type"):
            if i + 1 >= len(argv):
                usage(f"argument {a}: expected one argument")
            value = argv[i + 1]
            if a == "--endpoint-url":
                endpoint = value
            elif a == "--region":
                region = value
            else:
                args += [a, value]
            i += 2
            continue
        args.append(a)
        i += 1
    if args[:2] != ["s3", "cp"]:
        some_region = region or os.environ.get("AWS_REGION") or \
            os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        rc = sync_up(args, endpoint, some_region)
        if rc is None:
            rc = data_and_secrets(args, endpoint, some_region)
        if rc is None:
            rc = ec2_commands(args, endpoint, some_region)
        if rc is not None:
            return rc
        usage(f"the command `aws {' '.join(args[:2])}`")
    recursive, show, content_type, sse, paths = False, True, None, None, []
    rest = args[2:]
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--recursive":
            recursive = True
        elif a in ("--only-show-errors", "--quiet", "--no-progress"):
            show = show and a == "--no-progress"
        elif a == "--content-type":
            content_type = rest[i + 1]
            i += 1
        elif a == "--sse":
            sse = "AES256"  # the CLI's value when none is given
            if i + 1 < len(rest) and rest[i + 1] in ("AES256", "aws:kms", "aws:kms:dsse"):
                if rest[i + 1] != "AES256":
                    usage(f"--sse {rest[i + 1]}")
                i += 1
        elif a.startswith("--"):
            usage(f"the option {a}")
        else:
            paths.append(a)
        i += 1
    if len(paths) != 2:
        usage("s3 cp takes a source and a destination")
    env = os.environ
    endpoint = endpoint or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or \
        "https://s3.amazonaws.com"
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    try:
        s3 = S3(endpoint, region)
        ok = cp(s3, paths[0], paths[1], recursive, content_type, show, sse)
    except Fatal as e:
        sys.stderr.write(f"fatal error: {e}\n")
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
