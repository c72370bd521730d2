#!/usr/bin/env python3
"""moto-zygote.py <socket> <make pid>: one moto, imported once per make run,
forked into a fresh moto server for each test script that asks.

Starting moto_server costs about three seconds of CPU, nearly all of it
importing moto and loading its EC2 data; a dozen scripts that each start one
spend half a minute of a make check doing the same work. This process does it
once, then waits on a Unix socket. A script (test-lib.sh's test_start_moto)
connects and sends lines, up to an empty one:

    <script pid>
    <log file>
    [VAR=value...]

and reads back one line: "<port> <server pid>". The server is a fork of this
process: its own moto, with no state but what a freshly started moto_server has
(the zygote never serves a request itself), the variables set in its
environment before any backend exists, its output in the log file, gone when
the script is (or when it is killed, as test_done does). The zygote itself ends
with the make that started the tests, taking its servers with it."""
import os
import shutil
import signal
import socket
import sys
import threading
import time


def serve(conn, script_pid, log, env):
    """In the forked child: a moto server on a free port for one script."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.environ.update(env)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.socket.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)

    def watch():
        while True:
            try:
                os.kill(script_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()
    conn.sendall(f"{port} {os.getpid()}\n".encode())
    conn.close()
    server.serve_forever()


def main():
    path, make_pid = sys.argv[1], int(sys.argv[2])
    # nothing of the script that started it: a test driver reads its output
    # to the end, which would be when the make ends
    os.closerange(3, 1024)
    # the loading that every server would repeat
    from moto.backends import get_backend
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication  # noqa: F401
    import werkzeug.serving  # noqa: F401

    for name in ("ec2", "s3", "ssm", "iam", "sts", "servicequotas"):
        get_backend(name)

    children = set()

    def reap(*_):
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)

    signal.signal(signal.SIGCHLD, reap)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = f"{path}.{os.getpid()}"
    listener.bind(tmp)
    listener.listen(16)
    os.rename(tmp, path)  # ready: whoever sees the socket can connect
    try:
        while True:
            try:
                os.kill(make_pid, 0)
            except ProcessLookupError:
                break
            listener.settimeout(1)
            try:
                conn, _ = listener.accept()
            except (socket.timeout, InterruptedError):
                continue
            try:
                conn.settimeout(10)
                lines = []
                for line in conn.makefile("r"):
                    if line == "\n":
                        break
                    lines.append(line.rstrip("\n"))
                script_pid, log = int(lines[0]), lines[1]
                env = dict(v.split("=", 1) for v in lines[2:])
            except (OSError, ValueError, IndexError):
                conn.close()
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                try:
                    serve(conn, script_pid, log, env)
                finally:
                    os._exit(1)
            children.add(pid)
            conn.close()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        shutil.rmtree(path + ".lock", ignore_errors=True)
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass


if __name__ == "__main__":
    main()
