"""The private network every other component lives in: VPC, private subnets, endpoints, NAT only if planned.

It builds exactly what `NetworkPlan` says. No subnet maps public IPs on launch, not even the public
ones that hold NAT gateways (a NAT gateway gets its Elastic IP explicitly). Every endpoint carries the
policy the plan decided (`inferplan.perimeter`), rendered here with the deploying account, and the
VPC's flow logs go to the planned log group, encrypted with the stack key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.logs import log_group
from inferplan.perimeter import DeployFacts
from inferplan.plan import NetworkPlan


@dataclass
class NetworkArgs:
    network: NetworkPlan
    key_arn: pulumi.Input[str]  # the stack key: the KMS endpoint admits it, the flow logs use it


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    private_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    availability_zones: list[str]
    s3_prefix_list_id: pulumi.Output[str]  # the S3 gateway endpoint's prefix list (security group egress)

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:Network", name, None, opts)
        self._plan = args.network
        self._child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        self._account, self._partition, self._key_arn = account, partition, args.key_arn
        self.availability_zones = self._zones()
        self.vpc = self._vpc()
        self._flow_logs(args.key_arn, account, partition)
        private_subnets = self._private_subnets()
        self.private_subnet_ids = [s.id for s in private_subnets]
        nat_ids = self._egress() if self._plan.egress else []
        self.private_route_table_ids = self._private_routes(private_subnets, nat_ids)
        self._gateway_endpoints()
        self._interface_endpoints()
        self.register_outputs(
            {
                "vpc_id": self.vpc.id,
                "private_subnet_ids": self.private_subnet_ids,
                "availability_zones": self.availability_zones,
            }
        )

    def _policy(self, service: str) -> pulumi.Output[str]:
        """The planned policy of one endpoint, rendered with the deploying account (and the key, if named:
        only that policy waits for the key, so a first preview can judge the others)."""
        planned = self._plan.endpoint_policy(service)
        key = self._key_arn if planned.needs_key else ""
        return pulumi.Output.all(self._account, self._partition, key).apply(
            lambda a: json.dumps(planned.document(DeployFacts(account=a[0], partition=a[1], key_arn=a[2])))
        )

    def _flow_logs(
        self, key_arn: pulumi.Input[str], account: pulumi.Output[str], partition: pulumi.Output[str]
    ) -> None:
        """Every flow of the VPC (accepted and rejected) to the planned, KMS-encrypted log group."""
        plan = self._plan
        if plan.flow_logs is None:
            return
        group = log_group(plan.flow_logs, key_arn, self)
        region = plan.region
        trust = pulumi.Output.all(account, partition).apply(
            lambda a: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            # Only flow logs of this account may use the role (confused deputy).
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": a[0]},
                                "ArnLike": {
                                    "aws:SourceArn": f"arn:{a[1]}:ec2:{region}:{a[0]}:vpc-flow-log/*"
                                },
                            },
                        }
                    ],
                }
            )
        )
        role = aws.iam.Role(
            self._physical("vpc-flow-logs-role"),
            name=plan.flow_log_role_name,
            description=f"inferplan {plan.name_prefix}: VPC Flow Logs writes to {plan.flow_logs.name}",
            assume_role_policy=trust,
            tags=self._tagged(plan.flow_log_role_name),
            opts=self._child,
        )
        policy = aws.iam.RolePolicy(
            self._physical("vpc-flow-logs-policy"),
            role=role.id,
            policy=pulumi.Output.all(group.arn, account, partition).apply(
                lambda a: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "WriteFlowLogGroup",
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [a[0], f"{a[0]}:*"],
                            },
                            {
                                "Sid": "FindLogGroups",
                                "Effect": "Allow",
                                "Action": "logs:DescribeLogGroups",
                                "Resource": f"arn:{a[2]}:logs:{region}:{a[1]}:log-group:*",
                            },
                        ],
                    }
                )
            ),
            opts=self._child,
        )
        aws.ec2.FlowLog(
            self._physical("vpc-flow-log"),
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=600,  # the default: one record per flow per 10 minutes
            tags=self._tagged(self._physical("vpc-flow-log")),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

    def _tagged(self, name: str, **extra: str) -> dict[str, str]:
        return {**self._plan.tags, "Name": name, **extra}

    def _physical(self, *parts: str) -> str:
        return "-".join((self._plan.name_prefix, *parts))

    def _zones(self) -> list[str]:
        """The first `availability_zones` zones of the region (the account must offer that many)."""
        plan = self._plan
        zones = aws.get_availability_zones(state="available", opts=pulumi.InvokeOptions(parent=self))
        if len(zones.names) < plan.availability_zones:
            raise pulumi.RunError(
                f"network.availability_zones is {plan.availability_zones} but {plan.region} offers "
                f"{len(zones.names)} available zones ({', '.join(zones.names)}); lower it"
            )
        return sorted(zones.names)[: plan.availability_zones]

    def _vpc(self) -> aws.ec2.Vpc:
        vpc = aws.ec2.Vpc(
            self._physical("vpc"),
            cidr_block=self._plan.cidr,
            enable_dns_hostnames=True,  # interface endpoints need private DNS
            enable_dns_support=True,
            tags=self._tagged(self._physical("vpc")),
            opts=self._child,
        )
        # Take every rule off the default security group so nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(
            self._physical("default-sg"),
            vpc_id=vpc.id,
            tags=self._tagged(self._physical("default-sg")),
            opts=self._child,
        )
        return vpc

    def _private_subnets(self) -> list[aws.ec2.Subnet]:
        return [
            aws.ec2.Subnet(
                self._physical("private", zone),
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags=self._tagged(self._physical("private", zone), **{"inferplan:tier": "private"}),
                opts=self._child,
            )
            for zone, cidr in zip(self.availability_zones, self._plan.private_subnets, strict=True)
        ]

    def _private_routes(
        self, subnets: list[aws.ec2.Subnet], nat_ids: list[pulumi.Output[str]]
    ) -> list[pulumi.Output[str]]:
        """One route table per private subnet; a default route through a NAT gateway only when planned."""
        tables = []
        for index, (zone, subnet) in enumerate(zip(self.availability_zones, subnets, strict=True)):
            table = aws.ec2.RouteTable(
                self._physical("private-rt", zone),
                vpc_id=self.vpc.id,
                tags=self._tagged(self._physical("private-rt", zone)),
                opts=self._child,
            )
            aws.ec2.RouteTableAssociation(
                self._physical("private-rta", zone),
                subnet_id=subnet.id,
                route_table_id=table.id,
                opts=self._child,
            )
            if nat_ids:
                aws.ec2.Route(
                    self._physical("private-default", zone),
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_ids[index % len(nat_ids)],
                    opts=self._child,
                )
            tables.append(table.id)
        return tables

    def _gateway_endpoints(self) -> None:
        for service in self._plan.gateway_endpoints:
            endpoint = aws.ec2.VpcEndpoint(
                self._physical(service, "gateway-endpoint"),
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{self._plan.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=self.private_route_table_ids,
                policy=self._policy(service),
                tags=self._tagged(self._physical(service, "endpoint")),
                opts=self._child,
            )
            if service == "s3":
                self.s3_prefix_list_id = endpoint.prefix_list_id

    def _interface_endpoints(self) -> None:
        """The AWS APIs the nodes and the router call, on private DNS, HTTPS from the VPC only."""
        plan = self._plan
        security_group = aws.ec2.SecurityGroup(
            self._physical("endpoints-sg"),
            vpc_id=self.vpc.id,
            description="HTTPS from inside the VPC to the AWS service endpoints",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=[plan.cidr],
                    description="AWS APIs from the VPC",
                )
            ],
            tags=self._tagged(self._physical("endpoints-sg")),
            opts=self._child,
        )
        for service in plan.interface_endpoints:
            aws.ec2.VpcEndpoint(
                self._physical(service.replace(".", "-"), "endpoint"),
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{plan.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[security_group.id],
                policy=self._policy(service),
                tags=self._tagged(self._physical(service, "endpoint")),
                opts=self._child,
            )

    def _egress(self) -> list[pulumi.Output[str]]:
        """Internet gateway, public subnets and NAT gateways: only built when the plan has egress."""
        plan, child = self._plan, self._child
        igw = aws.ec2.InternetGateway(
            self._physical("igw"), vpc_id=self.vpc.id, tags=self._tagged(self._physical("igw")), opts=child
        )
        public_table = aws.ec2.RouteTable(
            self._physical("public-rt"),
            vpc_id=self.vpc.id,
            tags=self._tagged(self._physical("public-rt")),
            opts=child,
        )
        aws.ec2.Route(
            self._physical("public-default"),
            route_table_id=public_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        nat_ids: list[pulumi.Output[str]] = []
        for index, (zone, cidr) in enumerate(zip(self.availability_zones, plan.public_subnets, strict=True)):
            subnet = aws.ec2.Subnet(
                self._physical("public", zone),
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags=self._tagged(self._physical("public", zone), **{"inferplan:tier": "public"}),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                self._physical("public-rta", zone),
                subnet_id=subnet.id,
                route_table_id=public_table.id,
                opts=child,
            )
            if index < plan.nat_gateways:
                eip = aws.ec2.Eip(
                    self._physical("nat-eip", zone),
                    domain="vpc",
                    tags=self._tagged(self._physical("nat", zone)),
                    opts=child,
                )
                nat = aws.ec2.NatGateway(
                    self._physical("nat", zone),
                    subnet_id=subnet.id,
                    allocation_id=eip.id,
                    tags=self._tagged(self._physical("nat", zone)),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nat_ids.append(nat.id)
        return nat_ids
