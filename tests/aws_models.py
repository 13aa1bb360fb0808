"""botocore's service models: the request shapes AWS itself documents, used as an external check."""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.validate import ParamValidator


@cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def as_json_numbers(value: Any) -> Any:
    """Pulumi's RPC carries every number as a double; on AWS's JSON wire 2.0 is the integer 2."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: as_json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json_numbers(v) for v in value]
    return value


def shape_errors(service: str, shape_name: str, value: Any) -> str:
    """'' when `value` fits the named shape, else botocore's report (unknown keys, types, ranges)."""
    report = ParamValidator().validate(as_json_numbers(value), _model(service).shape_for(shape_name))
    return report.generate_report() if report.has_errors() else ""


def request_errors(service: str, operation: str, params: dict[str, Any]) -> str:
    """'' when `params` is a valid request for the operation, else botocore's report."""
    shape = _model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(as_json_numbers(params), shape)
    return report.generate_report() if report.has_errors() else ""


class RecordingClient:
    """A boto3 client (a real one on moto) that notes every request: the API operation and its parameters."""

    def __init__(self, client: Any):
        self._client = client
        self.exceptions = client.exceptions
        self.requests: list[tuple[str, dict[str, Any]]] = []

    @property
    def operations(self) -> set[str]:
        return {operation for operation, _ in self.requests}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        operation = self._client.meta.method_to_api_mapping[name]

        def call(**kwargs: Any) -> Any:
            self.requests.append((operation, kwargs))
            return method(**kwargs)

        return call
