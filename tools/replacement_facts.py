"""Write mapgate/data/replacement_facts.json from the terraform-provider-aws source that pulumi-aws bridges.

    python tools/replacement_facts.py --source ~/src/terraform-provider-aws --provider-version v6.x.y

`--source` is a checkout of hashicorp/terraform-provider-aws at the commit pulumi-aws's `upstream` submodule points
at for the pinned pulumi-aws tag (`git ls-tree v<pulumi-aws> upstream` in a pulumi-aws clone). For every resource
type mapgate creates (mapgate.resource_types) it finds the Go file that registers the Terraform type
(`// @SDKResource("aws_…")` or `// @FrameworkResource("aws_…")`), reads its schema, and lists the inputs that force a
replacement: `ForceNew: true` (plugin SDK v2) or a `RequiresReplace()` plan modifier (plugin framework), nested
blocks included, as Pulumi camelCase paths (`dnsConfig.dnsRecords[].type`: a block of at most one item is an
object in Pulumi, any other list gets `[]`). Each top-level name is checked against the installed pulumi_aws SDK.

What a schema cannot say (a CustomizeDiff that forces a replacement only under a condition) is in CONDITIONAL.

Each entry records whether this run read it (`readFromSource`), and, from `--revisions FILE` (JSON: source path ->
{"commit", "note"}, or a "fileId" of the code index where no commit is known), the revision of the file it read and
a note on it. With a partial checkout,
`--keep-unread` keeps the previous entry of a type the checkout lacks, marked `readFromSource: false`:

    python tools/replacement_facts.py --source /tmp/tfaws --provider-version "not determined" \
        --revisions /tmp/tfaws/REVISIONS.json --keep-unread --evidence "how the version was (not) found"
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
from dataclasses import dataclass
from importlib import import_module, metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "mapgate" / "data" / "replacement_facts.json"

# Pulumi type token -> Terraform type, for every type mapgate creates (pulumi-aws provider/resources.go maps them).
TF_NAMES = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:apigatewayv2/api:Api": "aws_apigatewayv2_api",
    "aws:apigatewayv2/apiMapping:ApiMapping": "aws_apigatewayv2_api_mapping",
    "aws:apigatewayv2/authorizer:Authorizer": "aws_apigatewayv2_authorizer",
    "aws:apigatewayv2/domainName:DomainName": "aws_apigatewayv2_domain_name",
    "aws:apigatewayv2/integration:Integration": "aws_apigatewayv2_integration",
    "aws:apigatewayv2/route:Route": "aws_apigatewayv2_route",
    "aws:apigatewayv2/stage:Stage": "aws_apigatewayv2_stage",
    "aws:apigatewayv2/vpcLink:VpcLink": "aws_apigatewayv2_vpc_link",
    "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
    "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:dynamodb/table:Table": "aws_dynamodb_table",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/instance:Instance": "aws_instance",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "aws_ecs_cluster_capacity_providers",
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:iam/instanceProfile:InstanceProfile": "aws_iam_instance_profile",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:route53/record:Record": "aws_route53_record",
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": "aws_service_discovery_private_dns_namespace",
    "aws:servicediscovery/service:Service": "aws_service_discovery_service",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
    "aws:ssm/parameter:Parameter": "aws_ssm_parameter",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
}
# Top-level fields pulumi-aws renames (its provider/resources.go), Terraform name -> Pulumi input. The SDK check in
# generate() reports any other top-level name that is not an input of the installed pulumi_aws.
RENAMED = {
    "aws_cloudwatch_metric_alarm": {"alarmName": "name"},
    "aws_sns_topic_subscription": {"topicArn": "topic"},
    # Blocks of at most one item that pulumi-aws keeps as lists (plural names; a nested path would need `[]`).
    "aws_route53_record": {
        "alias": "aliases",
        "failoverRoutingPolicy": "failoverRoutingPolicies",
        "geolocationRoutingPolicy": "geolocationRoutingPolicies",
        "latencyRoutingPolicy": "latencyRoutingPolicies",
        "weightedRoutingPolicy": "weightedRoutingPolicies",
    },
    "aws_nat_gateway": {"availabilityZoneAddress": "availabilityZoneAddresses"},  # a set block, named in the plural
}
# Not bridged from Terraform: a pulumi-awsx component (its children are the resources).
NOT_BRIDGED = {"awsx:ecr:Image": "(pulumi-awsx component: not a bridged terraform resource; its children decide)"}
# Replacements a CustomizeDiff forces under a condition, which no schema literal shows.
CONDITIONAL = {
    "aws_instance": {
        "userData": {"userDataReplaceOnChange": True},
        "userDataBase64": {"userDataReplaceOnChange": True},
    },
    # CustomizeDiff: `diff.ForceNew("private_dns_enabled")` unless the endpoint is an Interface endpoint. mapgate
    # creates Gateway and Interface endpoints only, so the other non-Interface types are left out.
    "aws_vpc_endpoint": {"privateDnsEnabled": {"vpcEndpointType": "Gateway"}},
    # CustomizeDiff: `diff.ForceNew("secondary_private_ip_address_count")` when it changes on a private NAT gateway
    # (a public one refuses the input). A regional gateway's availability_zone_address going from empty to set or
    # back forces a replacement through a computed attribute; mapgate creates zonal public gateways only.
    "aws_nat_gateway": {"secondaryPrivateIpAddressCount": {"connectivityType": "private"}},
}
_ANNOTATION = re.compile(r'//\s*@(SDKResource|FrameworkResource)\("(aws_[a-z0-9_]+)"')
_KEY = re.compile(r'\s*(?:"([a-z0-9_]+)"|names\.(Attr[A-Za-z0-9]+))\s*:\s*')
_IDENT_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*")
# `routeDestinationCIDRBlock = "destination_cidr_block"`: a file's own constants, used as schema keys.
_LOCAL_CONST = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([a-z0-9_]+)"\s*$', re.MULTILINE)


@dataclass(frozen=True)
class Found:
    source: str
    force_new: list[str]
    inputs: frozenset[str] | None = None
    """The schema's top-level inputs (plugin SDK only), to compare with the pinned SDK's."""


def attr_names(source: Path) -> dict[str, str]:
    """names.AttrX -> "x", from the provider's generated constants."""
    text = "".join(p.read_text() for p in sorted((source / "names").glob("attr_consts_gen.go")))
    return dict(re.findall(r'(Attr[A-Za-z0-9]+)\s*=\s*"([a-z0-9_]+)"', text))


def closing(text: str, opening: int) -> int:
    """The index of the brace closing the one at `opening` (Go strings and comments do not hold braces here)."""
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError("unbalanced braces")


def top_level(body: str) -> str:
    """The body with every nested {...} removed: the attribute's own settings only."""
    out, depth = [], 0
    for char in body:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


class UnknownConstant(LookupError):
    """A schema key names a `names.AttrX` constant that the checkout's names/attr_consts_gen.go does not define."""


def entries(
    text: str, start: int, end: int, attrs: dict[str, str], helpers: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """(snake name, literal body) for each `key: {…}` or `key: schema.X{…}` entry of a Go map literal.

    A key is a string, a `names.AttrX` constant, or a constant the file itself declares (`attrs` holds both kinds).
    Comments between entries are skipped. A key this cannot name is an error, never a silently dropped attribute.
    Entries whose value is a helper call or a shared variable go to `helpers` as (name, value text) when given.
    """
    found, index = [], start
    while True:
        index = _skip_blank(text, index, end)
        if index >= end:
            return found
        match = _KEY.match(text, index)
        if match is None:
            local = _IDENT_KEY.match(text, index)
            if local is None or local.group(1) not in attrs:
                snippet = text[index : index + 40].split("\n")[0]
                raise UnknownConstant(f"cannot name the schema key at {snippet!r}")
            name, value_at = attrs[local.group(1)], local.end()
        elif match.group(2):
            if match.group(2) not in attrs:
                # Skipping it would silently drop an attribute (and any ForceNew it carries).
                raise UnknownConstant(f"names.{match.group(2)} is not in names/attr_consts_gen.go")
            name, value_at = attrs[match.group(2)], match.end()
        else:
            name, value_at = match.group(1), match.end()
        brace = re.compile(r"[A-Za-z0-9_.]*\{").match(text, value_at)
        if brace is None:  # a helper call (tftags.TagsSchema()) or a shared variable: skip to the next entry
            index = _next_entry(text, value_at, end)
            if helpers is not None:
                helpers.append((name, text[value_at:index]))
            continue
        opening = brace.end() - 1
        close = closing(text, opening)
        found.append((name, text[opening + 1 : close]))
        index = close + 1


def _skip_blank(text: str, index: int, end: int) -> int:
    """Past whitespace, commas and Go comments."""
    while index < end:
        if text[index] in ", \t\r\n":
            index += 1
        elif text.startswith("//", index):
            newline = text.find("\n", index)
            index = end if newline == -1 else newline + 1
        elif text.startswith("/*", index):
            close = text.find("*/", index + 2)
            index = end if close == -1 else close + 2
        else:
            break
    return index


def _next_entry(text: str, index: int, end: int) -> int:
    depth = 0
    while index < end:
        char = text[index]
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char == "," and depth == 0:
            return index + 1
        index += 1
    return end


def sdk_paths(body: str, attrs: dict[str, str], prefix: str = "") -> list[str]:
    """ForceNew paths of a plugin-SDK `map[string]*schema.Schema{…}` body."""
    paths = []
    for name, entry in entries(body, 0, len(body), attrs):
        own = top_level(entry)
        single = re.search(r"MaxItems:\s*1\b", own) is not None
        many = re.search(r"Type:\s*schema\.Type(List|Set)", own) is not None
        path = prefix + pulumi_name(name, plural=many and not single)
        if re.search(r"ForceNew:\s*true", own):
            paths.append(path)
        nested = re.search(r"Elem:\s*&schema\.Resource\{", entry)
        if nested:
            inner = entry[nested.end() - 1 : closing(entry, nested.end() - 1) + 1]
            schema = re.search(r"map\[string\]\*schema\.Schema\{", inner)
            if schema:
                block = inner[schema.end() : closing(inner, schema.end() - 1)]
                paths += sdk_paths(block, attrs, path + ("." if single or not many else "[]."))
    return paths


def sdk_source_inputs(body: str, attrs: dict[str, str]) -> set[str]:
    """The top-level inputs (Optional or Required) of a plugin-SDK schema body, as Pulumi names."""
    helpers: list[tuple[str, str]] = []
    inputs = set()
    for name, entry in entries(body, 0, len(body), attrs, helpers):
        own = top_level(entry)
        if re.search(r"\b(Optional|Required):\s*true", own):
            single = re.search(r"MaxItems:\s*1\b", own) is not None
            many = re.search(r"Type:\s*schema\.Type(List|Set)", own) is not None
            inputs.add(pulumi_name(name, plural=many and not single))
    for name, value in helpers:  # tftags.TagsSchema() is an input, tftags.TagsSchemaComputed() is not
        if "Optional" in value or not value.strip(" \t\n,").endswith("Computed()"):
            inputs.add(pulumi_name(name, plural=False))
    return inputs


def framework_paths(body: str, attrs: dict[str, str], prefix: str = "") -> list[str]:
    """RequiresReplace paths of a plugin-framework `Attributes: map[string]schema.Attribute{…}` body."""
    paths = []
    for name, entry in entries(body, 0, len(body), attrs):
        if re.search(r"planmodifier\.RequiresReplace\(\)", entry):
            paths.append(prefix + pulumi_name(name, plural=False))
    return paths


def framework_source_inputs(body: str, attrs: dict[str, str]) -> set[str]:
    """The top-level inputs (Optional or Required) of a plugin-framework `Attributes` body, as Pulumi names."""
    helpers: list[tuple[str, str]] = []
    inputs = {
        pulumi_name(name, plural=False)
        for name, entry in entries(body, 0, len(body), attrs, helpers)
        if re.search(r"\b(Optional|Required):\s*true", top_level(entry))
    }
    for name, value in helpers:  # tftags.TagsAttribute() is an input; …ComputedOnly() and framework.IDAttribute() not
        if not value.strip(" \t\n,").endswith(("ComputedOnly()", "IDAttribute()")):
            inputs.add(pulumi_name(name, plural=False))
    return inputs


def resource_paths(text: str, attrs: dict[str, str], tf_name: str) -> list[str] | None:
    """The replacement-forcing paths of the resource `tf_name` registers in `text`, or None when it is not there."""
    read = resource_schema(text, attrs, tf_name)
    return None if read is None else read[0]


def resource_schema(text: str, attrs: dict[str, str], tf_name: str) -> tuple[list[str], frozenset[str] | None] | None:
    """(replacement-forcing paths, top-level inputs or None) of `tf_name` in `text`, or None when it is not there."""
    attrs = {**attrs, **dict(_LOCAL_CONST.findall(text))}
    marker = next((m for m in _ANNOTATION.finditer(text) if m.group(2) == tf_name), None)
    if marker is None:
        return None
    if marker.group(1) == "SDKResource":
        opening = _sdk_schema(text, marker.end())
        if opening is None:
            raise LookupError(f"{tf_name}: no schema literal after its @SDKResource annotation")
        body = text[opening + 1 : closing(text, opening)]
        return sdk_paths(body, attrs), frozenset(sdk_source_inputs(body, attrs))
    framework = re.compile(r"Attributes:\s*map\[string\]schema\.Attribute\{").search(text)
    if framework:
        body = text[framework.end() : closing(text, framework.end() - 1)]
        return framework_paths(body, attrs), frozenset(framework_source_inputs(body, attrs))
    return [], None


_SDK_LITERAL = re.compile(r"map\[string\]\*schema\.Schema\{")
_SDK_RETURN = re.compile(r"\breturn\s+&schema\.Resource\{")
# `Schema: topicSchema,`: the schema is a package variable declared elsewhere in the file.
_SDK_VARIABLE = re.compile(r"\bSchema:\s*([A-Za-z_][A-Za-z0-9_]*)\s*,")


def _sdk_schema(text: str, start: int) -> int | None:
    """The index of the `{` opening the resource's schema map: the first literal after `start`, or the package
    variable that `Schema:` names when that comes first."""
    returned = _SDK_RETURN.search(text, start)
    if returned:  # past schemas built before it, e.g. `resourceV0 := &schema.Resource{…}` for a state upgrade
        start = returned.end()
    literal = _SDK_LITERAL.search(text, start)
    variable = _SDK_VARIABLE.search(text, start)
    if variable and (literal is None or variable.start() < literal.start()):
        declared = re.search(rf"\b{variable.group(1)}\s*=\s*map\[string\]\*schema\.Schema\{{", text)
        return declared.end() - 1 if declared else None
    return literal.end() - 1 if literal else None


def pulumi_name(snake: str, *, plural: bool) -> str:
    """How the bridge names a Terraform attribute: camelCase, and a list of blocks in the plural."""
    head, *rest = snake.split("_")
    name = head + "".join(part[:1].upper() + part[1:] for part in rest)
    if plural and not name.endswith("s"):
        name = name[:-1] + "ies" if re.search(r"[^aeiou]y$", name) else name + "s"
    return name


def sdk_inputs(token: str) -> set[str] | None:
    """The input names pulumi_aws's Args class takes for a token, as camelCase, or None when it cannot be read."""
    _, module, kind = token.split(":")
    try:
        args = getattr(import_module(f"pulumi_aws.{module.split('/')[0]}"), f"{kind}Args")
    except (ImportError, AttributeError):
        return None
    skip = {"self", "__self__"}
    return {pulumi_name(p, plural=False) for p in inspect.signature(args.__init__).parameters if p not in skip}


def find(source: Path, tf_name: str, attrs: dict[str, str]) -> Found:
    service_dir = source / "internal" / "service"
    hint = f'"{tf_name}"'
    for path in sorted(service_dir.glob("*/*.go")):
        if path.name.endswith("_test.go"):
            continue
        text = path.read_text()
        if hint not in text:
            continue
        read = resource_schema(text, attrs, tf_name)
        if read is None:
            continue
        paths, inputs = read
        if not paths and tf_name.endswith("_egress_rule"):  # it embeds the ingress rule's resource and schema
            shared = path.with_name("vpc_security_group_ingress_rule.go")
            shared_read = resource_schema(shared.read_text(), attrs, tf_name.replace("_egress_", "_ingress_"))
            if shared_read is None:
                raise LookupError(f"{tf_name}: no ingress rule schema in {shared.name} to share")
            return Found(str(shared.relative_to(source)), sorted(set(shared_read[0])), shared_read[1])
        return Found(str(path.relative_to(source)), sorted(set(paths)), inputs)
    raise LookupError(f"{tf_name}: no @SDKResource/@FrameworkResource annotation under {service_dir}")


def generate(
    source: Path,
    provider_version: str,
    pulumi_aws: str,
    tokens: dict[str, str],
    *,
    revisions: dict[str, dict[str, str]] | None = None,
    previous: dict[str, Any] | None = None,
    evidence: str = "",
) -> dict[str, Any]:
    """The facts document for `tokens` from the checkout at `source`.

    `revisions` maps a source path to what is known of the file read there (`commit`, `note`): each entry records
    it, so a reader sees which revision of the provider every fact came from. With `previous` (the document written
    before), a type whose file is not in a partial checkout keeps its previous entry, marked `readFromSource: false`,
    instead of stopping the run; without it, a missing type is an error.
    """
    attrs = attr_names(source)
    resources: dict[str, Any] = {}
    for token, tf_name in sorted(tokens.items()):
        try:
            found = find(source, tf_name, attrs)
        except LookupError:
            if previous is None or token not in previous.get("resources", {}):
                raise
            kept = {
                k: v
                for k, v in previous["resources"][token].items()
                if k in ("tf", "source", "forceNew", "forceNewWhen")
            }
            why = (revisions or {}).get(kept["source"], {}).get("note", "")
            note = f"{why or 'not in the checkout this run read'}; {NOT_READ}"
            resources[token] = {**kept, "readFromSource": False, "sourceNote": note}
            continue
        renamed = RENAMED.get(tf_name, {})
        if renamed:
            inputs = None if found.inputs is None else frozenset(_renamed(name, renamed) for name in found.inputs)
            found = Found(found.source, sorted({_renamed(path, renamed) for path in found.force_new}), inputs)
        known = sdk_inputs(token)
        unknown = [p for p in found.force_new if known is not None and re.split(r"[.\[]", p)[0] not in known]
        if unknown:
            print(f"warning: {token}: not inputs of the pulumi_aws SDK: {', '.join(unknown)}", file=sys.stderr)
        entry: dict[str, Any] = {"tf": tf_name, "source": found.source, "forceNew": found.force_new}
        if tf_name in CONDITIONAL:
            entry["forceNewWhen"] = CONDITIONAL[tf_name]
        entry["readFromSource"] = True
        if found.inputs is not None and known is not None:
            entry["pinnedSdkInputs"] = sdk_comparison(found.inputs, known)
        revision = (revisions or {}).get(found.source, {})
        if revision.get("commit"):
            entry["sourceCommit"] = revision["commit"]
        if revision.get("fileId"):  # found by the code index's string search, which gives no commit
            entry["sourceFileId"] = revision["fileId"]
        if revision.get("note"):
            entry["sourceNote"] = revision["note"]
        resources[token] = entry
    for token, why in NOT_BRIDGED.items():
        if token not in tokens:
            resources[token] = {"tf": "", "source": why, "forceNew": []}
    document: dict[str, Any] = {
        "schema": "mapgate-replacement-facts/1",
        "pulumiAws": pulumi_aws,
        "terraformProviderAws": provider_version,
        "sourceRepository": "https://github.com/hashicorp/terraform-provider-aws",
        "resources": resources,
    }
    if evidence:
        document["terraformProviderAwsEvidence"] = evidence
    return document


def sdk_comparison(source: frozenset[str], sdk: set[str]) -> str | dict[str, list[str]]:
    """ "match" when the schema's top-level inputs are the installed pulumi_aws SDK's (less `region`, which the v6
    provider adds to every regional resource outside its schema), else what only one side has: evidence of whether
    the file read is the revision the pinned pulumi-aws bridges (a match is necessary, not sufficient)."""
    sdk = sdk - {"region"}
    if source == sdk:
        return "match"
    return {"onlyInSource": sorted(source - sdk), "onlyInSdk": sorted(sdk - source)}


def _renamed(path: str, renamed: dict[str, str]) -> str:
    """`path` with its top-level name as pulumi-aws names it."""
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    return renamed.get(head, head) + path[len(head) :]


NOT_READ = "the entry is carried over from the previous data, not regenerated (docs/changes.md, Provenance)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="terraform-provider-aws checkout")
    parser.add_argument("--provider-version", required=True, help="its tag or commit, recorded in the data")
    parser.add_argument("--pulumi-aws", default=metadata.version("pulumi-aws"), help="default: the installed one")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--revisions",
        type=Path,
        help="JSON {source path: {commit, note}}: the revision of each file in the checkout, recorded per entry",
    )
    parser.add_argument(
        "--keep-unread",
        action="store_true",
        help="partial checkout: keep the --out file's entry (marked readFromSource: false) for a type not found",
    )
    parser.add_argument("--evidence", default="", help="how the provider version was found (recorded as written)")
    args = parser.parse_args(argv)
    revisions = json.loads(args.revisions.read_text()) if args.revisions else None
    previous = json.loads(args.out.read_text()) if args.keep_unread and args.out.exists() else None
    document = generate(
        args.source,
        args.provider_version,
        args.pulumi_aws,
        TF_NAMES,
        revisions=revisions,
        previous=previous,
        evidence=args.evidence,
    )
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"{args.out}: {len(document['resources'])} resource types")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
