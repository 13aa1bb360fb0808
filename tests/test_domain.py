"""Custom domain: a Regional domain on the $default stage, TLS 1.2, an alias record, and a DNS-validated certificate."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from mapgate import resource_types as types
from mapgate.cli.plan import tree_lines
from mapgate.config import ConfigError, parse_config
from mapgate.naming import DOMAIN, DomainChildren
from tests.aws_models import request_errors
from tests.harness import ACCOUNT, API, ROOT, StackRun, changed, run_stack, with_prefix

NAME = "api.example.com"
ZONE = "Z0123456789ABCDEFGHIJ"
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
CHILDREN = DomainChildren(DOMAIN)


def with_domain(domain: dict[str, Any], **api: Any) -> dict[str, Any]:
    config = changed("prod", ["api", "domain"], domain)
    config["api"] |= api
    return config


def problems_of(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(config, stack="prod", project_dir=ROOT)
    return caught.value.problems


@pytest.fixture(scope="module")
def zone_run() -> StackRun:
    return run_stack(
        with_prefix(with_domain({"name": NAME, "hostedZoneId": ZONE}, disableDefaultEndpoint=True)), "prod"
    )


@pytest.fixture(scope="module")
def cert_run() -> StackRun:
    return run_stack(with_prefix(with_domain({"name": NAME, "certificateArn": CERT})), "prod")


# --- validation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ({"name": NAME}, "give certificateArn"),
        ({"name": "*.example.com", "hostedZoneId": ZONE}, "no wildcard"),
        ({"name": "API.example.com", "hostedZoneId": ZONE}, "lowercase DNS name"),
        ({"name": "localhost", "hostedZoneId": ZONE}, "lowercase DNS name"),
        ({"name": NAME, "hostedZoneId": "z123"}, "Route 53 hosted zone id"),
        ({"name": NAME, "certificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/x"}, "ACM certificate ARN"),
        ({"name": NAME, "hostedZone": ZONE}, "did you mean 'hostedZoneId'?"),
    ],
)
def test_bad_domains_are_rejected(domain: dict[str, Any], expected: str) -> None:
    problems = problems_of(with_domain(domain))
    assert any(p.startswith("api.domain") and expected in p for p in problems), problems


def test_the_default_endpoint_stays_on_without_a_domain() -> None:
    assert problems_of(changed("prod", ["api", "disableDefaultEndpoint"], True)) == [
        "api.disableDefaultEndpoint: true — without api.domain this leaves no way into the API: "
        "set a domain, or drop disableDefaultEndpoint"
    ]


def test_a_domain_needs_routes() -> None:
    config = with_domain({"name": NAME, "certificateArn": CERT}, routes={})
    assert problems_of(config) == [
        f'api.domain: "{NAME}" — needs at least one route in api.routes: without routes mapgate creates no API'
    ]


def test_the_certificate_must_be_in_the_stacks_region() -> None:
    other = CERT.replace("us-east-1", "eu-west-1")
    with pytest.raises(pulumi.RunError, match="the certificate is in eu-west-1, and a Regional custom domain"):
        run_stack(with_prefix(with_domain({"name": NAME, "certificateArn": other})), "prod")


# --- what the run registers ---------------------------------------------------------------------------------


def test_domain_is_regional_tls_1_2_on_the_default_stage(cert_run: StackRun) -> None:
    domain = cert_run.one(types.DOMAIN_NAME, CHILDREN.domain_name)
    assert domain.inputs["domainName"] == NAME
    assert domain.inputs["domainNameConfiguration"] == {
        "certificateArn": CERT,
        "endpointType": "REGIONAL",
        "securityPolicy": "TLS_1_2",
    }
    config = domain.inputs["domainNameConfiguration"]
    configuration = {
        "CertificateArn": config["certificateArn"],
        "EndpointType": config["endpointType"],
        "SecurityPolicy": config["securityPolicy"],
    }
    request = {"DomainName": NAME, "DomainNameConfigurations": [configuration]}
    assert request_errors("apigatewayv2", "CreateDomainName", request) == ""
    mapping = cert_run.inputs(types.API_MAPPING, CHILDREN.mapping)
    assert mapping["apiId"] == cert_run.one(types.HTTP_API, API.api).id
    assert mapping["stage"] == cert_run.one(types.STAGE, API.stage).id
    assert mapping["domainName"] == domain.id
    assert "apiMappingKey" not in mapping  # the whole domain, so paths reach the tasks unchanged
    request = {"ApiId": mapping["apiId"], "DomainName": NAME, "Stage": "$default"}
    assert request_errors("apigatewayv2", "CreateApiMapping", request) == ""
    # A given certificate: nothing requested, no record written without a zone.
    assert cert_run.of_type(types.CERTIFICATE) == []
    assert cert_run.of_type(types.DNS_RECORD) == []


def test_outputs_use_the_custom_domain(cert_run: StackRun) -> None:
    assert cert_run.outputs["apiUrl"] == f"https://{NAME}"
    assert cert_run.outputs["routeUrls"]["GET /leader"] == f"https://{NAME}/leader"
    assert "disableExecuteApiEndpoint" not in cert_run.inputs(types.HTTP_API, API.api)


def test_a_zone_gets_a_dns_validated_certificate_and_an_alias(zone_run: StackRun) -> None:
    certificate = zone_run.one(types.CERTIFICATE, CHILDREN.certificate)
    assert certificate.inputs["domainName"] == NAME
    assert certificate.inputs["validationMethod"] == "DNS"
    request = {"DomainName": NAME, "ValidationMethod": "DNS"}
    assert request_errors("acm", "RequestCertificate", request) == ""
    record = zone_run.inputs(types.DNS_RECORD, CHILDREN.validation_record)
    (option,) = certificate.state["domainValidationOptions"]
    assert (record["zoneId"], record["name"], record["type"], record["records"]) == (
        ZONE, option["resourceRecordName"], "CNAME", [option["resourceRecordValue"]]
    )  # fmt: skip
    validation = zone_run.inputs(types.CERTIFICATE_VALIDATION, CHILDREN.validation)
    assert validation["certificateArn"] == certificate.state["arn"]
    assert validation["validationRecordFqdns"] == [option["resourceRecordName"].rstrip(".")]
    # The domain uses the certificate only once it is issued.
    domain = zone_run.one(types.DOMAIN_NAME, CHILDREN.domain_name)
    assert domain.inputs["domainNameConfiguration"]["certificateArn"] == certificate.state["arn"]
    alias = zone_run.inputs(types.DNS_RECORD, CHILDREN.alias)
    assert (alias["zoneId"], alias["name"], alias["type"]) == (ZONE, NAME, "A")
    assert alias["aliases"] == [
        {
            "name": domain.state["domainNameConfiguration"]["targetDomainName"],
            "zoneId": domain.state["domainNameConfiguration"]["hostedZoneId"],
            "evaluateTargetHealth": False,
        }
    ]


def test_the_default_endpoint_can_be_turned_off(zone_run: StackRun) -> None:
    assert zone_run.inputs(types.HTTP_API, API.api)["disableExecuteApiEndpoint"] is True
    request = {"Name": "mapgate", "ProtocolType": "HTTP", "DisableExecuteApiEndpoint": True}
    assert request_errors("apigatewayv2", "CreateApi", request) == ""


def test_plan_shows_the_domain_and_certificate(zone_run: StackRun) -> None:
    lines = "\n".join(tree_lines(zone_run))
    assert f"domain-name  [apigatewayv2.DomainName]  https://{NAME}/ · REGIONAL · TLS_1_2" in lines
    assert f"domain-certificate  [acm.Certificate]  ACM certificate for {NAME}, validated by DNS" in lines
    assert f"A {NAME} -> alias to d-" in lines
    assert "execute-api endpoint off" in lines
