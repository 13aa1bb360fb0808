"""Resource type tokens, named once, for the code that reads what a program registered (tests, `plan`).

Each is read from the SDK class itself, so a token can only be what the provider registers. Components never
need these: they create resources through the classes.
"""

from __future__ import annotations

from pulumi.type_token import get_type_token
from pulumi_aws import (
    acm,
    apigatewayv2,
    appautoscaling,
    cloudwatch,
    dynamodb,
    ec2,
    ecr,
    ecs,
    iam,
    route53,
    servicediscovery,
    sns,
    ssm,
    vpc,
)
from pulumi_awsx import ecr as awsx_ecr


def token_of(cls: type) -> str:
    token = get_type_token(cls)
    if token is None:
        raise TypeError(f"{cls.__qualname__} has no Pulumi type token")
    return token


VPC = token_of(ec2.Vpc)
SUBNET = token_of(ec2.Subnet)
INTERNET_GATEWAY = token_of(ec2.InternetGateway)
ROUTE_TABLE = token_of(ec2.RouteTable)
ROUTE_TABLE_ASSOCIATION = token_of(ec2.RouteTableAssociation)
EC2_ROUTE = token_of(ec2.Route)
EIP = token_of(ec2.Eip)
NAT_GATEWAY = token_of(ec2.NatGateway)
INSTANCE = token_of(ec2.Instance)
INSTANCE_PROFILE = token_of(iam.InstanceProfile)
VPC_ENDPOINT = token_of(ec2.VpcEndpoint)
SECURITY_GROUP = token_of(ec2.SecurityGroup)
INGRESS_RULE = token_of(vpc.SecurityGroupIngressRule)
EGRESS_RULE = token_of(vpc.SecurityGroupEgressRule)
NAMESPACE = token_of(servicediscovery.PrivateDnsNamespace)
DISCOVERY_SERVICE = token_of(servicediscovery.Service)
DYNAMODB_TABLE = token_of(dynamodb.Table)
CLUSTER = token_of(ecs.Cluster)
CAPACITY_PROVIDERS = token_of(ecs.ClusterCapacityProviders)
TASK_DEFINITION = token_of(ecs.TaskDefinition)
ECS_SERVICE = token_of(ecs.Service)
ROLE = token_of(iam.Role)
ROLE_POLICY = token_of(iam.RolePolicy)
ROLE_POLICY_ATTACHMENT = token_of(iam.RolePolicyAttachment)
LOG_GROUP = token_of(cloudwatch.LogGroup)
METRIC_ALARM = token_of(cloudwatch.MetricAlarm)
DASHBOARD = token_of(cloudwatch.Dashboard)
SNS_TOPIC = token_of(sns.Topic)
SNS_SUBSCRIPTION = token_of(sns.TopicSubscription)
SCALING_TARGET = token_of(appautoscaling.Target)
SCALING_POLICY = token_of(appautoscaling.Policy)
ECR_REPOSITORY = token_of(ecr.Repository)
ECR_LIFECYCLE_POLICY = token_of(ecr.LifecyclePolicy)
IMAGE = token_of(awsx_ecr.Image)
HTTP_API = token_of(apigatewayv2.Api)
VPC_LINK = token_of(apigatewayv2.VpcLink)
STAGE = token_of(apigatewayv2.Stage)
INTEGRATION = token_of(apigatewayv2.Integration)
ROUTE = token_of(apigatewayv2.Route)
AUTHORIZER = token_of(apigatewayv2.Authorizer)
DOMAIN_NAME = token_of(apigatewayv2.DomainName)
API_MAPPING = token_of(apigatewayv2.ApiMapping)
CERTIFICATE = token_of(acm.Certificate)
CERTIFICATE_VALIDATION = token_of(acm.CertificateValidation)
DNS_RECORD = token_of(route53.Record)
SSM_PARAMETER = token_of(ssm.Parameter)

# Invokes (data sources) the program makes before it creates anything; `mapgate.lookups` calls them.
GET_REGION = "aws:index/getRegion:getRegion"
GET_CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
GET_PARTITION = "aws:index/getPartition:getPartition"
GET_AVAILABILITY_ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones"
GET_PARAMETER = "aws:ssm/getParameter:getParameter"
GET_VPC = "aws:ec2/getVpc:getVpc"
GET_SUBNET = "aws:ec2/getSubnet:getSubnet"
