"""`mapgate call`: against a real HTTP server on loopback that checks each SigV4 signature by recomputing it with
botocore (and rejects a wrong one), as API Gateway does for an IAM route."""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mapgate.cli import automation, call, main
from mapgate.cli.call import Call, CallError, Target, route_for

REGION = "eu-west-1"
KEY_ID, SECRET, SESSION = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-1"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"
AUTH = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<scope>[^,]+), SignedHeaders=(?P<signed>[^,]+), "
                  r"Signature=(?P<signature>[0-9a-f]{64})$")  # fmt: skip
ROUTES = {"GET /": "none", "GET /leader": "iam", "GET /follower": "iam", "GET /orders/{id}": "jwt"}


class Verifier(BaseHTTPRequestHandler):
    """Answers like the sample app, after checking what the route needs: IAM routes a valid SigV4 signature for
    execute-api in REGION by the known key, JWT routes a bearer token."""

    protocol_version = "HTTP/1.1"
    tasks: ClassVar[tuple[str, ...]] = ("task-a", "task-b", "task-c")
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        type(self).seen.append(headers)
        kind = route_for("GET", self.path, list(ROUTES))
        problem = self._check_signature(headers) if ROUTES.get(kind or "") == "iam" else None
        if ROUTES.get(kind or "") == "jwt" and headers.get("authorization") != f"Bearer {TOKEN}":
            problem = "no bearer token"
        if problem:
            self._reply(403, {"message": problem})
            return
        task = self.tasks[len(self.seen) % len(self.tasks)]
        role = "leader" if self.path == "/leader" else "follower"
        self._reply(200, {"role": role, "service": "app", "task": task, "request": {"path": self.path}})

    def _check_signature(self, headers: dict[str, str]) -> str | None:
        match = AUTH.match(headers.get("authorization", ""))
        if not match:
            return "missing or malformed SigV4 Authorization header"
        _date, region, service, terminator = match["scope"].split("/")
        if (match["key"], region, service, terminator) != (KEY_ID, REGION, "execute-api", "aws4_request"):
            return f"wrong credential scope {match['key']}/{match['scope']}"
        if headers.get("x-amz-security-token") != SESSION:
            return "missing session token"
        signed = match["signed"].split(";")
        request = AWSRequest(
            method=self.command,
            url=f"http://{headers['host']}{self.path}",
            headers={name: headers[name] for name in signed if name != "host"},
            data=b"",
        )
        request.context["timestamp"] = headers["x-amz-date"]
        signer = SigV4Auth(Credentials(KEY_ID, SECRET, SESSION), "execute-api", REGION)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        return None if expected == match["signature"] else "signature does not match"

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[Target]:
    Verifier.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Verifier)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Target(api_url=f"http://127.0.0.1:{server.server_port}", region=REGION, route_authorization=ROUTES)
    finally:
        server.shutdown()
        server.server_close()


def good_credentials() -> Credentials:
    return Credentials(KEY_ID, SECRET, SESSION)


def run(target: Target, request: Call, credentials: Any = good_credentials) -> tuple[int, str]:
    out = io.StringIO()
    code = call.run(request, target, out, credentials=credentials)
    return code, out.getvalue()


def test_an_iam_route_is_signed_and_the_server_accepts_the_signature(api: Target) -> None:
    code, text = run(api, Call("GET", "/leader"))
    assert code == 0
    assert text.startswith("200 OK\n")
    assert "Content-Type: application/json" in text
    assert json.loads(text.split("\n\n", 1)[1])["role"] == "leader"
    (headers,) = Verifier.seen
    assert headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")


def test_a_wrong_secret_is_rejected_by_the_server(api: Target) -> None:
    # The verifier is not a rubber stamp: a signature made with another secret fails.
    code, text = run(api, Call("GET", "/leader"), credentials=lambda: Credentials(KEY_ID, "not-the-secret", SESSION))
    assert code == 0  # the API answered, as curl counts it; the status says what
    assert text.startswith("403 Forbidden\n")
    assert "signature does not match" in text


def test_an_open_route_is_sent_unsigned(api: Target) -> None:
    def no_credentials() -> Any:
        raise AssertionError("an open route must not need credentials")

    code, _ = run(api, Call("GET", "/"), credentials=no_credentials)
    assert code == 0
    assert "authorization" not in Verifier.seen[0]


def test_a_jwt_route_sends_the_bearer_token(api: Target) -> None:
    assert run(api, Call("GET", "/orders/42", token=TOKEN))[0] == 0
    assert Verifier.seen[-1]["authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(CallError, match="needs a JWT: pass --token <jwt> or set MAPGATE_TOKEN"):
        run(api, Call("GET", "/orders/42"))


def test_repeat_counts_the_tasks_that_answered(api: Target) -> None:
    code, text = run(api, Call("GET", "/follower", repeat=6))
    assert code == 0
    assert "status: 200 x6" in text
    counts = re.findall(r"^\s+(\d+)\s+(task-\w) \(follower\)$", text, re.MULTILINE)
    assert sorted(counts) == [("2", "task-a"), ("2", "task-b"), ("2", "task-c")]
    # Each request carries a signature of its own, and all were accepted.
    assert len(Verifier.seen) == 6


def test_answers_without_task_info_count_as_unidentified() -> None:
    assert call.who_answered(call.Answer(200, "OK", [], b'{"role": "leader", "service": "app"}')) == (
        "unidentified task (leader)"
    )
    assert call.who_answered(call.Answer(200, "OK", [], b"<html>")) == "unidentified (not JSON)"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/", "GET /"),
        ("GET", "/leader", "GET /leader"),
        ("GET", "/orders/7", "GET /orders/{id}"),
        ("GET", "/orders/7/items", "ANY /orders/{proxy+}"),
        ("POST", "/orders", "$default"),
        ("GET", "/orders/special", "GET /orders/special"),
    ],
)
def test_the_route_is_picked_as_api_gateway_picks_it(method: str, path: str, expected: str) -> None:
    keys = ["GET /", "GET /leader", "GET /orders/{id}", "ANY /orders/{proxy+}", "GET /orders/special", "$default"]
    assert route_for(method, path, keys) == expected


def test_no_matching_route_is_a_clear_error(api: Target) -> None:
    with pytest.raises(CallError, match=r"no route of this stack matches GET /nope; routes: GET /, "):
        run(api, Call("GET", "/nope"))


def test_outputs_without_the_authorization_map_ask_for_an_up() -> None:
    with pytest.raises(CallError, match="run `mapgate up -s dev` first"):
        Target.from_outputs({"apiUrl": "https://x"}, "dev")


def test_the_command_line_reads_the_stack_outputs(
    api: Target, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Stack:
        def outputs(self) -> dict[str, Any]:
            return {"apiUrl": api.api_url, "region": REGION, "routeAuthorization": ROUTES}

    def open_stack(stack: str, work_dir: Any, create: bool) -> Stack:
        assert (stack, create) == ("prod", False)  # selected, never created
        return Stack()

    monkeypatch.setattr(automation, "open_stack", open_stack)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert main.main(["call", "-s", "prod", "GET", "/leader", "--repeat", "3"]) == 0
    assert "status: 200 x3" in capsys.readouterr().out
    monkeypatch.setenv("MAPGATE_TOKEN", TOKEN)
    assert main.main(["call", "-s", "prod", "/orders/1"]) == 0
    assert Verifier.seen[-1]["authorization"] == f"Bearer {TOKEN}"
    assert main.main(["call", "-s", "prod", "/nope"]) == automation.EXIT_USAGE
    assert "no route of this stack matches GET /nope" in capsys.readouterr().err


def test_no_credentials_for_an_iam_route_is_exit_5(api: Target) -> None:
    def none() -> Any:
        raise call.NoCredentials("no AWS credentials were found")

    with pytest.raises(call.NoCredentials) as caught:
        run(api, Call("GET", "/leader"), credentials=none)
    assert caught.value.exit_code == automation.EXIT_NO_AWS_CREDENTIALS
