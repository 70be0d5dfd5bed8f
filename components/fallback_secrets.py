"""The frontier API keys: one Secrets Manager secret per key a frontier entry names, on the stack's CMK.

Only the router's execution role may read them: ECS injects them into the LiteLLM container at task
start (the task definition's `secrets`), so the running proxy sees an environment variable and never
an ARN or a policy. The resource policy allows that one role and denies `GetSecretValue` to every
other principal, administrators included; administrators keep writing values and managing the secret.
(With the value in state, the deployer is spared the deny: the provider reads back what it wrote.)

By default the value is NOT in Pulumi state: the secret is created empty and set once, out of band,
with `aws secretsmanager put-secret-value --secret-id inferplan/<stack>/<secret> --secret-string "$KEY"`.
A stack that sets `router.secrets_in_state: true` takes the value from
`pulumi config set --secret <secret> ...` instead (encrypted in the stack's config and state).

The router creates this component (as its child): the policy names the router's execution role and the
router's task definition names these secrets, so the role must exist first and the task definition last.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.identity import deployer_principal_arns
from inferplan.front_door import FrontierSecretsPlan

READ_ACTIONS = ("secretsmanager:GetSecretValue",)


@dataclass
class FallbackSecretsArgs:
    secrets: FrontierSecretsPlan
    key_arn: pulumi.Input[str]  # the stack key (components/encryption.py)
    reader_role_arn: pulumi.Input[str]  # the router's ECS execution role: the only reader


def secret_policy(secret_arn: str, reader_role_arn: str, also_exempt: Sequence[str] = ()) -> str:
    """Resource policy: the reader may read; nobody else may, whatever their IAM policies say.

    `also_exempt` (principal ARN patterns) are spared the deny but not granted anything: with the value
    in state, the deployer must read back the version it writes (the provider does after each write).
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "RouterExecutionRoleReads",
                    "Effect": "Allow",
                    "Principal": {"AWS": reader_role_arn},
                    "Action": list(READ_ACTIONS),
                    "Resource": secret_arn,
                },
                {
                    "Sid": "NobodyElseReads",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": list(READ_ACTIONS),
                    "Resource": secret_arn,
                    "Condition": {"ArnNotLike": {"aws:PrincipalArn": [reader_role_arn, *also_exempt]}},
                },
            ],
        }
    )


class FallbackSecrets(pulumi.ComponentResource):
    secrets: dict[str, aws.secretsmanager.Secret]  # Secrets Manager name -> secret
    arns: dict[str, pulumi.Output[str]]  # Secrets Manager name -> secret ARN

    def __init__(
        self, name: str, args: FallbackSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("inferplan:components:FallbackSecrets", name, None, opts)
        plan = args.secrets
        tags = {**dict(plan.tags), "inferplan:component": "secrets"}
        exempt: list[str] = []
        if plan.in_state:
            caller = aws.get_caller_identity(opts=pulumi.InvokeOptions(parent=self))
            exempt = deployer_principal_arns(caller.arn)
        self.secrets = {
            secret_name: self._secret(plan, key, secret_name, args, tags, exempt)
            for key, secret_name in plan.secrets  # two frontier entries may share one key: one secret
        }
        self.arns = {secret_name: s.arn for secret_name, s in self.secrets.items()}
        self.register_outputs({"secret_arns": self.arns})

    def _secret(
        self,
        plan: FrontierSecretsPlan,
        key: str,
        secret_name: str,
        args: FallbackSecretsArgs,
        tags: dict[str, str],
        exempt: Sequence[str],
    ) -> aws.secretsmanager.Secret:
        child = pulumi.ResourceOptions(parent=self)
        resource = aws.secretsmanager.Secret(
            plan.name(key),
            name=secret_name,
            description=f"inferplan {plan.stack}: frontier API key '{key}', read by the router only",
            kms_key_id=args.key_arn,
            tags={**tags, "Name": secret_name},
            opts=child,
        )
        aws.secretsmanager.SecretPolicy(
            plan.name(key, "policy"),
            secret_arn=resource.arn,
            policy=pulumi.Output.all(resource.arn, args.reader_role_arn).apply(
                lambda arns: secret_policy(arns[0], arns[1], exempt)
            ),
            block_public_policy=True,
            opts=child,
        )
        if plan.in_state:
            value = pulumi.Config("inferplan").get_secret(key)
            if value is None:
                raise pulumi.RunError(
                    f"router.secrets_in_state is true but inferplan:{key} is not set "
                    f"(run `pulumi config set --secret {key} <key> --stack {plan.stack}`)"
                )
            aws.secretsmanager.SecretVersion(
                plan.name(key, "value"), secret_id=resource.id, secret_string=value, opts=child
            )
        return resource
