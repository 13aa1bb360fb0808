"""Facts about AWS that mapgate's config rules and components rely on, each with the page that states it.

Only AWS's own numbers and grammars live here; mapgate's own choices (defaults, the AZ range it offers) live
with the config field they shape. `docs/aws-rules.md` explains each rule in prose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# --- ECS on Fargate -------------------------------------------------------------------------------------------

# Task sizes: cpu units -> the memory (MiB) Fargate accepts with them. Any other pair fails RegisterTaskDefinition
# with "Invalid 'cpu' setting for task".
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_MEMORY_BY_CPU: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# runtimePlatform.cpuArchitecture values (ARM64 runs on Fargate Spot since September 2024).
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html
CPU_ARCHITECTURE: Mapping[str, str] = {"arm64": "ARM64", "x86_64": "X86_64"}

# The two Fargate capacity providers; a cluster must have them associated before a service may use them.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
CAPACITY_PROVIDER: Mapping[str, str] = {"onDemand": "FARGATE", "spot": "FARGATE_SPOT"}

# Container health check bounds, in seconds (retries is a count).
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
HEALTH_CHECK_INTERVAL = (5, 300)
HEALTH_CHECK_TIMEOUT = (2, 60)
HEALTH_CHECK_RETRIES = (1, 10)
HEALTH_CHECK_START_PERIOD = (0, 300)
# command[0]: CMD runs the arguments directly, CMD-SHELL runs one string through the container's shell.
HEALTH_CHECK_COMMAND_KINDS = ("CMD", "CMD-SHELL")

# A service that registers in Cloud Map can run at most 1,000 tasks (a Route 53 limit).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html#service-discovery-considerations
MAX_TASKS_WITH_SERVICE_DISCOVERY = 1000

# The Docker platform that matches each CPU architecture, for image builds.
DOCKER_PLATFORM: Mapping[str, str] = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}

# UpdateService starts a new deployment (new tasks replace the old ones) when one of these changes, or when
# forceNewDeployment is true; everything else (desired count, deployment bounds, grace period, tags, and the
# capacity provider strategy) applies without replacing running tasks. Keys are aws.ecs.Service input names;
# the UpdateService documentation says "This parameter triggers a new service deployment" for exactly these.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
ECS_INPUTS_THAT_START_A_DEPLOYMENT = frozenset(
    {
        "taskDefinition",
        "networkConfiguration",
        "platformVersion",
        "serviceRegistries",
        "loadBalancers",
        "serviceConnectConfiguration",
        "volumeConfiguration",
        "vpcLatticeConfigurations",
        "forceNewDeployment",
    }
)

# --- Cloud Map ------------------------------------------------------------------------------------------------

# A private DNS namespace is a domain name of at most 253 characters; each label at most 63.
# https://docs.aws.amazon.com/cloud-map/latest/api/API_CreatePrivateDnsNamespace.html
DNS_NAME_MAX = 253
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")

# Record TTL range. https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html
DNS_TTL_MAX = 2_147_483_647

# Instance attribute keys are at most 255 printable characters, values at most 1,024.
# https://docs.aws.amazon.com/cloud-map/latest/api/API_RegisterInstance.html
ATTRIBUTE_KEY = re.compile(r"^[!-~]{1,255}$")
ATTRIBUTE_VALUE_MAX = 1024

# A MULTIVALUE service answers a DNS query with up to eight healthy records, chosen at random when there are
# more. https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsConfig.html
MULTIVALUE_MAX_RECORDS = 8

# An SRV-only service still resolves: Cloud Map creates an A record named like each SRV target
# (`<instance id>.<service>.<namespace>`). https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html

# ECS deregisters a stopping task from Cloud Map at once, without waiting for the record TTL, so a caller
# may still hold its address for up to a TTL: https://github.com/aws/containers-roadmap/issues/343

# A service created with Type HTTP in a DNS namespace is discoverable only through DiscoverInstances: Cloud Map
# creates no DNS records for its instances, so registering one changes nothing in Route 53 and needs no Route 53
# permission. The election's roles services are of this type. DiscoverInstances ignores HealthStatus for a service
# without a health check and returns every instance.
# https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html (Type)
# https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html (HealthStatus)
API_ONLY_SERVICE_TYPE = "HTTP"
# Each dot-separated label of a Cloud Map service name is at most 63 characters (CreateService's Name pattern).
SERVICE_NAME_LABEL_MAX = 63

# What the election's IAM policy may name, per action (the Service Authorization Reference's resource types):
# GetNamespace on the namespace; DiscoverInstances on the namespace and the service; RegisterInstance,
# DeregisterInstance and GetInstance on the service; GetOperation on the namespace and the service.
# https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html
# DynamoDB's dynamodb:LeadingKeys condition limits a role to the items whose partition key it names.
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html

# A namespace's HttpName is what DiscoverInstances takes as NamespaceName. It is usually the namespace's name, but
# when that name is already taken in the account and Region, Cloud Map adds a generated hash to the HttpName.
# https://docs.aws.amazon.com/cloud-map/latest/api/API_DiscoverInstances.html (NamespaceName)
# So the election finds the HttpName by namespace id (GetNamespace), never by the configured name.

# A Fargate container that does not exit within its stopTimeout after SIGTERM is killed; unset, that is 30 s
# (120 s at most). The gRPC worker's drain fits inside the default.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html (stopTimeout)
FARGATE_DEFAULT_STOP_TIMEOUT_SECONDS = 30

# --- ECS port mappings ----------------------------------------------------------------------------------------

# `appProtocol` (http, http2, grpc) only applies to Service Connect, which mapgate does not use; AWS recommends
# setting it to the protocol the application speaks, so a gRPC port says grpc (ECS console, ready for Service
# Connect). mapgate's own `protocol: http` sets nothing, so HTTP services keep their task definitions as they were.
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html
APP_PROTOCOL = {"grpc": "grpc"}

# --- API Gateway HTTP APIs --------------------------------------------------------------------------------------

# Integration timeout: 50 ms to 30 s, and 30 s is a hard limit.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
INTEGRATION_TIMEOUT_MS = (50, 30_000)

# Stage throttling cannot exceed the account's default of 10,000 requests per second and a burst of 5,000.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html
ACCOUNT_RATE_LIMIT = 10_000
ACCOUNT_BURST_LIMIT = 5_000

# Route keys are "METHOD /path" (or $default); paths use {param} segments and at most one greedy {proxy+}, last.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
DEFAULT_ROUTE = "$default"
_ROUTE_SEGMENT = r"(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\})"
ROUTE_PATH = re.compile(rf"^/$|^(?:/{_ROUTE_SEGMENT})*(?:/\{{[A-Za-z_][A-Za-z0-9_]*\+\}})?$")


_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9._~-]+$")
_PARAMETER_SEGMENT = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\+?\}$")


def _path_problem(path: str) -> str:
    """Which rule of ROUTE_PATH `path` breaks, said for that rule alone."""
    if not path.startswith("/"):
        return f"path {path!r} must start with '/'"
    if path.endswith("/"):
        return f"path {path!r} ends with '/'; drop it (only the root path is '/')"
    segments = path[1:].split("/")
    for i, segment in enumerate(segments):
        if not segment:
            return f"path {path!r} has an empty segment ('//')"
        if segment.startswith("{"):
            if not _PARAMETER_SEGMENT.match(segment):
                return f"path {path!r}: {segment!r} is no parameter; write {{name}} or {{name+}} (letters, digits, '_')"
            if segment.endswith("+}") and i != len(segments) - 1:
                return f"path {path!r}: the greedy {segment} may only be the last segment"
        elif not _PLAIN_SEGMENT.match(segment):
            bad = "".join(sorted({c for c in segment if not _PLAIN_SEGMENT.match(c)}))
            return (
                f"path {path!r}: segment {segment!r} has {bad!r}; segments use letters, digits, '-', '.', '_', '~' "
                "or {param}"
            )
    return f"path {path!r} is not a route path"  # not reached while the rules above mirror ROUTE_PATH


def parse_route_key(key: str) -> tuple[str, str]:
    """'GET /leader' -> ('GET', '/leader'). Raises ValueError, naming the rule it breaks, when malformed."""
    method, _, path = key.partition(" ")
    if method not in HTTP_METHODS or not path:
        raise ValueError(f'must be "METHOD /path" with METHOD one of {", ".join(HTTP_METHODS)}')
    if not ROUTE_PATH.match(path):
        raise ValueError(_path_problem(path))
    return method, path


# Access log formats must include $context.requestId and stay under 3 KB.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html
ACCESS_LOG_REQUIRED_VARIABLE = "$context.requestId"
ACCESS_LOG_FORMAT_MAX_BYTES = 3 * 1024

# --- VPC link v2 ------------------------------------------------------------------------------------------------

# VPC links for HTTP APIs work only in these zone IDs (zone *IDs*, which are the same in every account; zone
# names are shuffled per account). Regions missing here are not listed by AWS; their zones are used unchecked.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html#http-api-vpc-link-availability
VPC_LINK_ZONE_IDS: Mapping[str, frozenset[str]] = {
    "us-east-2": frozenset({"use2-az1", "use2-az2", "use2-az3"}),
    "us-east-1": frozenset({"use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"}),
    "us-west-1": frozenset({"usw1-az1", "usw1-az3"}),
    "us-west-2": frozenset({"usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"}),
    "ap-east-1": frozenset({"ape1-az2", "ape1-az3"}),
    "ap-south-1": frozenset({"aps1-az1", "aps1-az2", "aps1-az3"}),
    "ap-northeast-2": frozenset({"apne2-az1", "apne2-az2", "apne2-az3"}),
    "ap-southeast-1": frozenset({"apse1-az1", "apse1-az2", "apse1-az3"}),
    "ap-southeast-2": frozenset({"apse2-az1", "apse2-az2", "apse2-az3"}),
    "ap-northeast-1": frozenset({"apne1-az1", "apne1-az2", "apne1-az4"}),
    "ca-central-1": frozenset({"cac1-az1", "cac1-az2"}),
    "eu-central-1": frozenset({"euc1-az1", "euc1-az2", "euc1-az3"}),
    "eu-west-1": frozenset({"euw1-az1", "euw1-az2", "euw1-az3"}),
    "eu-west-2": frozenset({"euw2-az1", "euw2-az2", "euw2-az3"}),
    "eu-west-3": frozenset({"euw3-az1", "euw3-az3"}),
    "eu-south-2": frozenset({"eus2-az1", "eus2-az2", "eus2-az3"}),
    "eu-north-1": frozenset({"eun1-az1", "eun1-az2", "eun1-az3"}),
    "me-south-1": frozenset({"mes1-az1", "mes1-az2", "mes1-az3"}),
    "sa-east-1": frozenset({"sae1-az1", "sae1-az2", "sae1-az3"}),
    "us-gov-west-1": frozenset({"usgw1-az1", "usgw1-az2", "usgw1-az3"}),
}


def vpc_link_supports(region: str, zone_id: str) -> bool:
    supported = VPC_LINK_ZONE_IDS.get(region)
    return supported is None or zone_id in supported


# --- CloudWatch -------------------------------------------------------------------------------------------------

# The retention periods CloudWatch Logs accepts (0, "never expire", is deliberately not offered by mapgate).
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                      3288, 3653)  # fmt: skip

# --- SNS --------------------------------------------------------------------------------------------------------

# Topic ARNs; names are 1-256 of letters, digits, '-' and '_', plus '.fifo' for FIFO topics.
# https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")

# --- EC2 / VPC: the network mapgate builds ----------------------------------------------------------------------

# The default route every internet-bound packet takes.
ANYWHERE_V4 = "0.0.0.0/0"

# The current Amazon Linux 2023 arm64 AMI, published by AWS as a public SSM parameter: never a hard-coded id.
# https://docs.aws.amazon.com/linux/al2023/ug/ec2.html ("Launching AL2023 using the SSM parameter")
AL2023_ARM64_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
# The AL2023 AMI's root volume: 8 GiB (mapgate keeps that size; gp3 and encrypted instead of the AMI's gp2).
AL2023_ROOT_VOLUME_GIB = 8
# That AMI is arm64, so a NAT instance runs on a Graviton type: <family><generation>g[extras].<size>.
# https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
GRAVITON_INSTANCE_TYPE = re.compile(r"^[a-z]+[0-9]+g[a-z]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal)$")

# Resource ids, as EC2 prints them (8 or 17 hex digits after the prefix).
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html
VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")

# The managed policy that lets SSM Session Manager reach an instance (no SSH, no key pair).
# https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html
SSM_MANAGED_INSTANCE_POLICY = "AmazonSSMManagedInstanceCore"

# Interface endpoints mapgate offers (`network.interfaceEndpoints`): what a private Fargate task of this platform
# calls. ECR needs ecr.api and ecr.dkr (plus the S3 gateway endpoint, always there), logs is the awslogs driver,
# servicediscovery / data-servicediscovery the Cloud Map control and discovery APIs, sts and ssm / secretsmanager
# what apps commonly call. https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html ,
# https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html
INTERFACE_ENDPOINT_SERVICES = (
    "ecr.api",
    "ecr.dkr",
    "logs",
    "servicediscovery",
    "data-servicediscovery",
    "sts",
    "ssm",
    "secretsmanager",
    "monitoring",
)
HTTPS_PORT = 443

# Default quotas `mapgate plan` checks, each adjustable through Service Quotas.
# Rules per security group: 60 inbound and 60 outbound (IPv4).
# https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
SECURITY_GROUP_RULES_PER_DIRECTION = 60
# Routes per route table (non-propagated): 50. Same page, "Route tables".
ROUTES_PER_ROUTE_TABLE = 50
# Services per cluster: 5,000. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
ECS_SERVICES_PER_CLUSTER = 5000
# Routes per HTTP API: 300, adjustable, but only per API (Service Quotas code L-65B5C802): an API must exist before
# its quota can be raised. Integrations per HTTP API: 300, not adjustable.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
ROUTES_PER_HTTP_API = 300
ROUTES_PER_HTTP_API_QUOTA_CODE = "L-65B5C802"
INTEGRATIONS_PER_HTTP_API = 300
# A task definition (the RegisterTaskDefinition request: container definitions, environment included) is at most
# 64 KiB; not adjustable. https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
# ("Task definition size")
TASK_DEFINITION_MAX_BYTES = 64 * 1024
# --- Secrets for tasks (ECS `secrets`, SSM Parameter Store, Secrets Manager, KMS) ------------------------------

# A container's `secrets[].valueFrom` is the full ARN of an SSM parameter (or its name, in the task's Region) or of
# a Secrets Manager secret, optionally followed by `:json-key:version-stage:version-id` (at most one of the two
# version fields). https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
# The execution role needs ssm:GetParameters on the parameters and secretsmanager:GetSecretValue on the secrets, and
# kms:Decrypt only when a customer managed key encrypts them (not with the AWS managed aws/ssm or
# aws/secretsmanager key). https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
SECRETS_MANAGER_READ_ACTION = "secretsmanager:GetSecretValue"
SSM_READ_ACTION = "ssm:GetParameters"
KMS_DECRYPT_ACTION = "kms:Decrypt"
# Secrets Manager appends '-' and six random characters to a secret's name in its ARN; names are at most 512 of
# letters, digits and /_+=.@-. IAM can name one secret only by that full ARN (without it, only by a wildcard).
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
SECRETS_MANAGER_ARN = re.compile(
    r"^(?P<secret>arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6})"
    r"(?::(?P<json_key>[^:]*):(?P<version_stage>[^:]*):(?P<version_id>[^:]*))?$"
)
# SSM parameter names: letters, digits and _.-/, at most 1011 characters; a hierarchical name starts with '/'; no
# name starts with "aws" or "ssm" (any case). https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html
SSM_PARAMETER_NAME = re.compile(r"^(?!/?(?i:aws|ssm))(?:/?[A-Za-z0-9_.-]+)(?:/[A-Za-z0-9_.-]+)*$")
SSM_PARAMETER_NAME_MAX = 1011
SSM_PARAMETER_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/(?P<name>[A-Za-z0-9_.\-/]+)$")
# A Standard-tier parameter (free) holds at most 4 KB.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
SSM_STANDARD_VALUE_MAX_BYTES = 4096
# kms:Decrypt takes a key ARN as its resource (an alias ARN does not name the key).
# https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32})$")


def ssm_parameter_arn(name: str, *, partition: str, region: str, account_id: str) -> str:
    """The ARN of a parameter named in the task's Region: `/a/b` and `a` become `parameter/a/b` and `parameter/a`."""
    return f"arn:{partition}:ssm:{region}:{account_id}:parameter/{name.lstrip('/')}"


# --- API Gateway HTTP API authorization ---------------------------------------------------------------------

# Route authorization types mapgate offers (CUSTOM, a Lambda authorizer, is not offered), as CreateRoute spells them.
# IAM: callers sign with SigV4 and need execute-api:Invoke on the route.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html
ROUTE_AUTHORIZATION_TYPE: Mapping[str, str] = {"none": "NONE", "iam": "AWS_IAM", "jwt": "JWT"}
# The service name SigV4 signs execute-api requests for.
EXECUTE_API_SIGNING_NAME = "execute-api"
# JWT authorizers: the issuer is the identity provider's base URL (API Gateway reads its OpenID discovery document
# and JWKS from it, so it must be https); a token's `aud` or `client_id` must match one audience; the identity
# source is one request header or query string parameter, by default the Authorization header ("Bearer <jwt>" or
# the bare token). If a route lists scopes, the token must carry at least one of them.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html
# https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html (identitySource)
JWT_DEFAULT_IDENTITY_SOURCE = "$request.header.Authorization"
JWT_IDENTITY_SOURCE = re.compile(r"^\$request\.(header|querystring)\.[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
JWT_ISSUER = re.compile(r"^https://[^\s/?#]+(/[^\s?#]*)?$")
JWT_ISSUER_MAX = 2048
# OAuth 2.0 scope tokens: printable ASCII except space, '"' and '\'. https://www.rfc-editor.org/rfc/rfc6749#section-3.3
OAUTH_SCOPE = re.compile(r"^[!#-\[\]-~]+$")
# HTTP API quotas: 10 authorizers per API (raisable by AWS Support), 50 audiences per authorizer, 10 scopes per route.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
AUTHORIZERS_PER_API = 10
AUDIENCES_PER_AUTHORIZER = 50
SCOPES_PER_ROUTE = 10
# Authorizer names are 1-128 characters (CreateAuthorizer Name); mapgate also uses them in logical names, so it
# takes DNS labels. Authorization on $default is allowed for HTTP APIs (only WebSocket APIs limit authorization to
# $connect): https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html

# --- Custom domains for HTTP APIs -----------------------------------------------------------------------------

# HTTP APIs take Regional custom domains only, with a certificate from ACM in the API's own Region; the mapping of
# the domain to the API goes on a stage (mapgate: `$default`). TLS_1_2 is the minimum TLS version offered.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html
# https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/domainnames.html (SecurityPolicy, EndpointType)
DOMAIN_ENDPOINT_TYPE = "REGIONAL"
DOMAIN_SECURITY_POLICY = "TLS_1_2"
# ACM certificate ARNs. https://docs.aws.amazon.com/acm/latest/userguide/authen-overview.html#acm-resources-operations
ACM_CERTIFICATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{12}$"
)
# A certificate mapgate requests is validated by DNS: ACM names one CNAME per domain, which mapgate writes in the
# given hosted zone; ACM renews it automatically while the record stays.
# https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html
# Route 53 hosted zone ids. https://docs.aws.amazon.com/Route53/latest/APIReference/API_HostedZone.html
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
# Turning off the execute-api endpoint leaves the custom domain as the only way in.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-disable-default-endpoint.html
