"""AWS clients for `status` and `logs`: boto3's default session, every call counted, failures as MapgateErrors.

boto3's default session means the settings users expect all work: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL (and
the per-service AWS_ENDPOINT_URL_<SERVICE>), SSO, the instance role. The stack's Region is used unless AWS_REGION
says otherwise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mapgate.errors import EXIT_AWS_DENIED, Failed, MapgateError, NoAwsCredentials, UsageError

# Error codes that mean "these credentials may not do that".
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException"})
# ... and "these credentials are not credentials".
BAD_CREDENTIALS = frozenset({"InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId"})

NO_CREDENTIALS = (
    "no usable AWS credentials. Set AWS_PROFILE (after `aws sso login` if you use SSO) or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


class Aws:
    """One client per AWS service, made on first use from one session; `calls` counts each API call made."""

    def __init__(self, region: str, session: Any | None = None):
        try:
            import boto3
        except ImportError:
            raise UsageError("reading AWS needs boto3: pip install 'mapgate[cli]'") from None

        self.session = session or boto3.session.Session()
        self.region = self.session.region_name or region
        self.calls: Counter[str] = Counter()
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = self.session.client(service, region_name=self.region)

            def count(model: Any, **_: Any) -> None:
                self.calls[f"{service}:{model.name}"] += 1  # boto3's service names are the IAM prefixes here

            client.meta.events.register("before-call", count)
            self._clients[service] = client
        return self._clients[service]


@contextmanager
def aws_errors(service: str) -> Iterator[None]:
    """Turn botocore's failures into one line: no credentials (5), a denied action (11, naming it), anything else
    from AWS (1)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        yield
    except NoCredentialsError:
        raise NoAwsCredentials(NO_CREDENTIALS) from None
    except NoRegionError:
        raise Failed("no AWS Region: set AWS_REGION (the stack outputs name none)") from None
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        action = f"{service}:{error.operation_name}"  # boto3's service names are the IAM prefixes here
        if code in BAD_CREDENTIALS:
            raise NoAwsCredentials(f"{NO_CREDENTIALS} ({code})") from None
        forbidden = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403
        if code in DENIED or (forbidden and code not in BAD_CREDENTIALS):
            shown = code if code and not code.isdigit() else "HTTP 403"
            raise MapgateError(
                f"AWS denied {action} ({shown}): the caller needs permission for it, e.g. in an IAM policy "
                f'"Action": ["{action}"]',
                EXIT_AWS_DENIED,
            ) from None
        message = error.response.get("Error", {}).get("Message", "")
        raise Failed(f"AWS {action} failed: {code}: {message}") from None
    except BotoCoreError as error:
        raise Failed(f"AWS {service} call failed: {error}") from None


def paged(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item of a paginated list call."""
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items
