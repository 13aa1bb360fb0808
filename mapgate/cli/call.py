"""`mapgate call [-s STACK] [METHOD] PATH`: one request (or `--repeat N`) to the stack's API, as the route needs it.

Which routes need what comes from the stack output `routeAuthorization` (route key -> none, iam or jwt):
- iam: the request is signed with SigV4 by botocore, with the user's normal AWS credentials (profile, environment,
  SSO…), for the service `execute-api` in the stack's Region;
- jwt: `Authorization: Bearer <token>` from `--token` or `MAPGATE_TOKEN`;
- none: sent as is.

With `--repeat N` it also counts which tasks answered, read from the sample app's JSON fields `task` and `role`
(answers without them count as unidentified: production hides task ids unless `exposeTaskInfo: true`).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from mapgate.aws_facts import DEFAULT_ROUTE, EXECUTE_API_SIGNING_NAME, HTTP_METHODS, parse_route_key
from mapgate.errors import EXIT_FAILED, EXIT_NO_AWS_CREDENTIALS, EXIT_USAGE, MapgateError

TOKEN_VARIABLE = "MAPGATE_TOKEN"
TIMEOUT_SECONDS = 30.0


class CallError(MapgateError):
    """A request that cannot be made as asked; the message says what to do."""

    exit_code = EXIT_USAGE


class NoCredentials(CallError):
    exit_code = EXIT_NO_AWS_CREDENTIALS


class NoAnswer(CallError):
    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Target:
    """What the stack outputs say about its API."""

    api_url: str
    region: str
    route_authorization: Mapping[str, str]

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any], stack: str) -> Target:
        def value(key: str) -> Any:
            item = outputs.get(key)
            return getattr(item, "value", item)

        api_url, region, routes = value("apiUrl"), value("region"), value("routeAuthorization")
        if not api_url:
            raise CallError(f"stack {stack} has no API (no apiUrl output): add api.routes, then `mapgate up`")
        if not isinstance(routes, dict) or not region:
            raise CallError(f"stack {stack} has no routeAuthorization output yet: run `mapgate up -s {stack}` first")
        return cls(api_url=str(api_url).rstrip("/"), region=str(region), route_authorization=dict(routes))


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


def _pattern(path: str) -> re.Pattern[str]:
    """A route path as a regex: `{name}` is one segment, a last `{proxy+}` one or more."""
    if path == "/":
        return re.compile("^/$")
    parts = []
    for segment in path.strip("/").split("/"):
        if segment.endswith("+}"):
            parts.append(r"/.+")
        elif segment.startswith("{"):
            parts.append(r"/[^/]+")
        else:
            parts.append("/" + re.escape(segment))
    return re.compile("^" + "".join(parts) + "$")


def route_for(method: str, path: str, route_keys: list[str]) -> str | None:
    """The route API Gateway picks for a request: the most specific match (a full literal match first, then
    fewer variables, a greedy {proxy+} last), else `$default`.
    https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html#http-api-develop-routes.evaluation
    """
    candidates = []
    for key in route_keys:
        if key == DEFAULT_ROUTE:
            continue
        route_method, route_path = parse_route_key(key)
        if route_method not in (method, "ANY") or not _pattern(route_path).match(path):
            continue
        greedy = route_path.endswith("+}")
        variables = route_path.count("{")
        candidates.append((greedy, variables, route_method == "ANY", -len(route_path), key))
    if candidates:
        return min(candidates)[-1]
    return DEFAULT_ROUTE if DEFAULT_ROUTE in route_keys else None


def signed_headers(method: str, url: str, region: str, headers: Mapping[str, str], credentials: Any) -> dict[str, str]:
    """The headers after botocore's SigV4 signer for execute-api (Authorization, X-Amz-Date, a session token)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, headers=dict(headers), data=b"")
    SigV4Auth(credentials, EXECUTE_API_SIGNING_NAME, region).add_auth(request)
    return dict(request.headers.items())


def user_credentials() -> Any:
    """The caller's AWS credentials, found as the AWS CLI finds them."""
    import botocore.session

    credentials = botocore.session.Session().get_credentials()
    if credentials is None:
        raise NoCredentials(
            "this route needs IAM (SigV4) and no AWS credentials were found: set AWS_PROFILE, run "
            "`aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    return credentials.get_frozen_credentials()


Send = Callable[[str, str, Mapping[str, str]], Answer]


def send(method: str, url: str, headers: Mapping[str, str]) -> Answer:
    request = urllib.request.Request(url, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return Answer(response.status, response.reason, list(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:  # a 4xx/5xx is an answer to print, not a failure of the call
        return Answer(error.code, str(error.reason), list(error.headers.items()), error.read())
    except (urllib.error.URLError, OSError) as error:
        raise NoAnswer(f"{method} {url} got no answer: {getattr(error, 'reason', error)}") from None


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    token: str | None = None
    repeat: int = 1


def who_answered(answer: Answer) -> str:
    """The task (and its role) an answer came from, read defensively from the app's JSON."""
    try:
        body = json.loads(answer.body)
    except ValueError:
        return "unidentified (not JSON)"
    if not isinstance(body, dict):
        return "unidentified"
    task, role = body.get("task"), body.get("role")
    name = str(task) if isinstance(task, str) and task else "unidentified task"
    return f"{name} ({role})" if isinstance(role, str) and role else name


def prepare(call: Call, target: Target) -> tuple[str, str, str]:
    """(method, url, authorization kind) for the call, or CallError when it cannot be made."""
    method = call.method.upper()
    if method not in HTTP_METHODS or method == "ANY":
        raise CallError(
            f"unknown method {call.method!r}; use one of {', '.join(m for m in HTTP_METHODS if m != 'ANY')}"
        )
    path = call.path if call.path.startswith("/") else "/" + call.path
    route = route_for(method, urllib.parse.urlsplit(path).path, list(target.route_authorization))
    if route is None:
        routes = ", ".join(sorted(target.route_authorization))
        raise CallError(f"no route of this stack matches {method} {path}; routes: {routes}")
    kind = target.route_authorization[route]
    if kind == "jwt" and not call.token:
        raise CallError(f"route {route} needs a JWT: pass --token <jwt> or set {TOKEN_VARIABLE}")
    return method, target.api_url + path, kind


def exchange(
    call: Call,
    target: Target,
    *,
    transport: Send = send,
    credentials: Callable[[], Any] = user_credentials,
) -> list[Answer]:
    """Send the call `call.repeat` times, as its route needs; the answers, whatever their status."""
    method, url, kind = prepare(call, target)
    creds = credentials() if kind == "iam" else None
    answers: list[Answer] = []
    for _ in range(call.repeat):
        headers = {"Accept": "application/json"}
        if kind == "jwt":
            headers["Authorization"] = f"Bearer {call.token}"
        if kind == "iam":
            headers = signed_headers(method, url, target.region, headers, creds)  # fresh date per request
        answers.append(transport(method, url, headers))
    return answers


def render(method: str, url: str, kind: str, answers: Sequence[Answer], out: TextIO) -> None:
    """One answer in full (status, headers, body), or, for several, the statuses and who answered how often."""
    if len(answers) == 1:
        (answer,) = answers
        out.write(f"{answer.status} {answer.reason}\n")
        for name, value in answer.headers:
            out.write(f"{name}: {value}\n")
        out.write("\n" + answer.body.decode(errors="replace") + "\n")
        return
    out.write(f"{method} {url} ({kind}) x{len(answers)}\n")
    statuses = Counter(a.status for a in answers)
    out.write("status: " + ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items())) + "\n")
    out.write("answered by:\n")
    for who, count in sorted(Counter(who_answered(a) for a in answers).items(), key=lambda i: (-i[1], i[0])):
        out.write(f"  {count:>4}  {who}\n")


def run(
    call: Call,
    target: Target,
    out: TextIO,
    *,
    transport: Send = send,
    credentials: Callable[[], Any] = user_credentials,
) -> int:
    """Make the call; print the answer (one call) or the answers per task (--repeat). 0 once the API answered,
    whatever the status (as curl does): the status is printed."""
    method, url, kind = prepare(call, target)
    render(method, url, kind, exchange(call, target, transport=transport, credentials=credentials), out)
    return 0
