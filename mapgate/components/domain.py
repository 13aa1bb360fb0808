"""The API's own name: a Regional custom domain on the HTTP API's `$default` stage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import acm, apigatewayv2, route53

from mapgate import aws_facts, naming
from mapgate.components.base import Component


@dataclass(frozen=True)
class ApiDomainArgs:
    name: str
    """The domain name, such as api.example.com."""
    api_id: pulumi.Input[str]
    stage_id: pulumi.Input[str]
    """The `$default` stage the domain maps to (its id is its name)."""
    tags: Mapping[str, str]
    certificate_arn: str | None = None
    """An ACM certificate for the name in the stack's Region. Without one, the component requests one."""
    hosted_zone_id: str | None = None
    """A public Route 53 zone for the name: where the alias record (and a requested certificate's validation
    record) go."""


class ApiDomain(Component):
    """`https://<name>/` in front of the HTTP API.

    Creates: without a given certificate, an `acm.Certificate` validated by DNS, its validation `route53.Record`
    (CNAME) in the zone and an `acm.CertificateValidation` that waits until ACM issues it; an
    `apigatewayv2.DomainName` (Regional, TLS_1_2); an `apigatewayv2.ApiMapping` of the whole domain to the `$default`
    stage; and with a zone, the `route53.Record` (A, alias) that points the name at the domain's API Gateway target.
    """

    url: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]
    target_domain_name: pulumi.Output[str]

    def __init__(self, name: str, args: ApiDomainArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        children = naming.DomainChildren(name)
        certificate_arn = (
            pulumi.Output.from_input(args.certificate_arn)
            if args.certificate_arn
            else self._requested_certificate(children, args)
        )
        domain = apigatewayv2.DomainName(
            children.domain_name,
            domain_name=args.name,
            domain_name_configuration=apigatewayv2.DomainNameDomainNameConfigurationArgs(
                certificate_arn=certificate_arn,
                endpoint_type=aws_facts.DOMAIN_ENDPOINT_TYPE,
                security_policy=aws_facts.DOMAIN_SECURITY_POLICY,
            ),
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        apigatewayv2.ApiMapping(
            children.mapping,
            api_id=args.api_id,
            domain_name=domain.id,
            stage=args.stage_id,
            opts=self.child_opts,
        )
        target = domain.domain_name_configuration.apply(lambda c: c.target_domain_name or "")
        if args.hosted_zone_id:
            route53.Record(
                children.alias,
                zone_id=args.hosted_zone_id,
                name=args.name,
                type="A",
                aliases=[
                    route53.RecordAliasArgs(
                        name=target,
                        zone_id=domain.domain_name_configuration.apply(lambda c: c.hosted_zone_id or ""),
                        evaluate_target_health=False,
                    )
                ],
                opts=self.child_opts,
            )
        self.url = pulumi.Output.from_input(f"https://{args.name}")
        self.certificate_arn = certificate_arn
        self.target_domain_name = target
        self.register_outputs(
            {"url": self.url, "certificateArn": self.certificate_arn, "targetDomainName": self.target_domain_name}
        )

    def _requested_certificate(self, children: naming.DomainChildren, args: ApiDomainArgs) -> pulumi.Output[str]:
        assert args.hosted_zone_id  # the config requires a certificate or a zone
        certificate = acm.Certificate(
            children.certificate,
            domain_name=args.name,
            validation_method="DNS",
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        # One name, so one validation record: ACM's CNAME, written in the zone.
        option = certificate.domain_validation_options.apply(lambda options: options[0])
        record = route53.Record(
            children.validation_record,
            zone_id=args.hosted_zone_id,
            name=option.apply(lambda o: o.resource_record_name or ""),
            type=option.apply(lambda o: o.resource_record_type or ""),
            records=[option.apply(lambda o: o.resource_record_value or "")],
            ttl=300,
            allow_overwrite=True,  # the CNAME ACM names is the same for every certificate of this name
            opts=self.child_opts,
        )
        validation = acm.CertificateValidation(
            children.validation,
            certificate_arn=certificate.arn,
            validation_record_fqdns=[record.fqdn],
            opts=self.child_opts,
        )
        return validation.certificate_arn
