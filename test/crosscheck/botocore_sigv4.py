"""Signs @connections requests with botocore's SigV4Auth, the signer boto3 and SAM CLI use.

The oracle for test/crosscheck/sigv4-botocore.crosscheck.ts: reads a JSON list of cases on
stdin and writes, for each, what botocore puts on the request and the canonical request it
hashed. Every case is signed the way boto3's apigatewaymanagementapi client would sign it: the
connection id percent-encoded into the path by botocore itself, the payload hash computed by
botocore and sent as x-amz-content-sha256 (the header the JavaScript SDK's signer adds).
"""

import base64
import datetime
import json
import sys

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode


def sign(case):
    # botocore reads the clock through this module-level function: pin it to the case's instant.
    when = datetime.datetime.fromtimestamp(case["epochMs"] / 1000, tz=datetime.timezone.utc)
    botocore.auth.get_current_datetime = lambda: when.replace(tzinfo=None)
    body = base64.b64decode(case["bodyBase64"])
    # A URI label (not greedy) as botocore's REST serializer escapes it: everything but unreserved.
    path = case["basePath"] + "/@connections/" + percent_encode(case["connectionId"], safe="~")
    request = AWSRequest(method=case["method"], url=case["scheme"] + "://" + case["host"] + path, data=body)
    credentials = Credentials(case["accessKeyId"], case["secretAccessKey"], case.get("sessionToken"))
    auth = SigV4Auth(credentials, "execute-api", case["region"])
    request.headers["X-Amz-Content-SHA256"] = auth.payload(request)
    # Keep the canonical request add_auth hashes (computing it again afterwards would also
    # sign the Authorization header add_auth has just set).
    hashed = []
    canonical_request = auth.canonical_request
    auth.canonical_request = lambda r: hashed.append(canonical_request(r)) or hashed[-1]
    auth.add_auth(request)
    return {
        "path": path,
        "authorization": request.headers["Authorization"],
        "amzDate": request.headers["X-Amz-Date"],
        "contentSha256": request.headers["X-Amz-Content-SHA256"],
        "securityToken": request.headers.get("X-Amz-Security-Token"),
        "canonicalRequest": hashed[0],
        "botocore": botocore.__version__,
    }


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(case) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
