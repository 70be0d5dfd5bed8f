"""The private network every other component lives in: VPC, private subnets, endpoints, NAT only if planned.

It builds exactly what `NetworkPlan` says. No subnet maps public IPs on launch, not even the public
ones that hold NAT gateways (a NAT gateway gets its Elastic IP explicitly).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from inferplan.plan import NetworkPlan


@dataclass
class NetworkArgs:
    network: NetworkPlan
    name_prefix: str  # the stack name: physical names are `<stack>-<thing>`
    region: str
    tags: dict[str, str]


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    private_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    availability_zones: list[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("inferplan:components:Network", name, None, opts)
        plan, prefix = args.network, args.name_prefix
        child = pulumi.ResourceOptions(parent=self)
        self._tags = {**args.tags, "inferplan:component": "network"}
        tagged = self._tagged

        zones = aws.get_availability_zones(state="available", opts=pulumi.InvokeOptions(parent=self))
        if len(zones.names) < plan.availability_zones:
            raise pulumi.RunError(
                f"network.availability_zones is {plan.availability_zones} but {args.region} offers "
                f"{len(zones.names)} available zones ({', '.join(zones.names)}); lower it"
            )
        self.availability_zones = sorted(zones.names)[: plan.availability_zones]

        self.vpc = aws.ec2.Vpc(
            f"{prefix}-vpc",
            cidr_block=plan.cidr,
            enable_dns_hostnames=True,  # interface endpoints need private DNS
            enable_dns_support=True,
            tags=tagged(f"{prefix}-vpc"),
            opts=child,
        )
        # Take every rule off the default security group so nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{prefix}-default-sg", vpc_id=self.vpc.id, tags=tagged(f"{prefix}-default-sg"), opts=child
        )

        private_subnets = [
            aws.ec2.Subnet(
                f"{prefix}-private-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tagged(f"{prefix}-private-{zone}"), "inferplan:tier": "private"},
                opts=child,
            )
            for zone, cidr in zip(self.availability_zones, plan.private_subnets, strict=True)
        ]
        self.private_subnet_ids = [s.id for s in private_subnets]

        nat_ids = self._egress(plan, prefix, child) if plan.egress else []

        route_tables = []
        for index, (zone, subnet) in enumerate(zip(self.availability_zones, private_subnets, strict=True)):
            table = aws.ec2.RouteTable(
                f"{prefix}-private-rt-{zone}",
                vpc_id=self.vpc.id,
                tags=tagged(f"{prefix}-private-rt-{zone}"),
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{prefix}-private-rta-{zone}", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            if nat_ids:
                aws.ec2.Route(
                    f"{prefix}-private-default-{zone}",
                    route_table_id=table.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat_ids[index % len(nat_ids)],
                    opts=child,
                )
            route_tables.append(table)
        self.private_route_table_ids = [t.id for t in route_tables]

        for service in plan.gateway_endpoints:
            aws.ec2.VpcEndpoint(
                f"{prefix}-{service}-gateway-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=self.private_route_table_ids,
                tags=tagged(f"{prefix}-{service}-endpoint"),
                opts=child,
            )

        self.endpoint_security_group = aws.ec2.SecurityGroup(
            f"{prefix}-endpoints-sg",
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
            tags=tagged(f"{prefix}-endpoints-sg"),
            opts=child,
        )
        for service in plan.interface_endpoints:
            aws.ec2.VpcEndpoint(
                f"{prefix}-{service.replace('.', '-')}-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[self.endpoint_security_group.id],
                tags=tagged(f"{prefix}-{service}-endpoint"),
                opts=child,
            )

        self.register_outputs(
            {
                "vpc_id": self.vpc.id,
                "private_subnet_ids": self.private_subnet_ids,
                "availability_zones": self.availability_zones,
            }
        )

    def _tagged(self, name: str) -> dict[str, str]:
        return {**self._tags, "Name": name}

    def _egress(
        self, plan: NetworkPlan, prefix: str, child: pulumi.ResourceOptions
    ) -> list[pulumi.Output[str]]:
        """Internet gateway, public subnets and NAT gateways: only built when the plan has egress."""
        tagged = self._tagged
        igw = aws.ec2.InternetGateway(
            f"{prefix}-igw", vpc_id=self.vpc.id, tags=tagged(f"{prefix}-igw"), opts=child
        )
        public_table = aws.ec2.RouteTable(
            f"{prefix}-public-rt", vpc_id=self.vpc.id, tags=tagged(f"{prefix}-public-rt"), opts=child
        )
        aws.ec2.Route(
            f"{prefix}-public-default",
            route_table_id=public_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        nat_ids: list[pulumi.Output[str]] = []
        zones = self.availability_zones
        for index, (zone, cidr) in enumerate(zip(zones, plan.public_subnets, strict=True)):
            subnet = aws.ec2.Subnet(
                f"{prefix}-public-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={**tagged(f"{prefix}-public-{zone}"), "inferplan:tier": "public"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{prefix}-public-rta-{zone}", subnet_id=subnet.id, route_table_id=public_table.id, opts=child
            )
            if index < plan.nat_gateways:
                eip = aws.ec2.Eip(
                    f"{prefix}-nat-eip-{zone}", domain="vpc", tags=tagged(f"{prefix}-nat-{zone}"), opts=child
                )
                nat = aws.ec2.NatGateway(
                    f"{prefix}-nat-{zone}",
                    subnet_id=subnet.id,
                    allocation_id=eip.id,
                    tags=tagged(f"{prefix}-nat-{zone}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
                nat_ids.append(nat.id)
        return nat_ids
