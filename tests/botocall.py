#!/usr/bin/python3
"""botocall.py <endpoint> <service> <Operation> [<JSON parameters>
               [<service> <Operation> <JSON parameters>...]]

One AWS call made by botocore, the library inside the AWS CLI: the same
request serializers, response parsers, signing and retries (AWS_MAX_ATTEMPTS
is honoured), in a third of the CLI's start-up time. Tests use it where the
point is that an AWS client understands what an endpoint answers (the fake,
moto); the real CLI stays where the CLI itself is the point.

Several calls in one process go one after the other; the first that fails
ends it. Each response is printed as JSON (a streaming body as its text, dates in
ISO 8601), without ResponseMetadata. A failed call prints the CLI's message,
"An error occurred (<Code>) when calling the <Operation> operation: <message>",
on stderr and exits 254, as the CLI does. Credentials and region come from
the environment, as for the CLI.
"""
import datetime
import json
import sys

import botocore.exceptions
import botocore.session


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if hasattr(value, "read"):
        return value.read().decode()
    return value


def call(session, endpoint, service, operation, params):
    client = session.create_client(service, endpoint_url=endpoint,
                                   region_name=session.get_config_variable("region") or "us-east-1")
    try:
        response = getattr(client, botocore.xform_name(operation))(**params)
    except botocore.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        print(f"An error occurred ({err.get('Code')}) when calling the {operation} "
              f"operation: {err.get('Message')}", file=sys.stderr)
        sys.exit(254)
    except botocore.exceptions.BotoCoreError as e:
        print(e, file=sys.stderr)
        sys.exit(255)
    json.dump(plain(response), sys.stdout, indent=2)
    print()


def main():
    endpoint, args = sys.argv[1], sys.argv[2:]
    if len(args) == 2:
        args.append("{}")
    if len(args) < 3 or len(args) % 3:
        sys.exit("usage: botocall.py <endpoint> <service> <Operation> [<JSON>] [<service> <Operation> <JSON>...]")
    session = botocore.session.get_session()
    for i in range(0, len(args), 3):
        call(session, endpoint, args[i], args[i + 1], json.loads(args[i + 2]))


if __name__ == "__main__":
    main()
