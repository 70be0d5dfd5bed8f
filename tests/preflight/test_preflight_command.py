"""`python -m inferplan preflight` against moto on 127.0.0.1 (real HTTP, real botocore), plus recorded
Service Quotas answers where moto has none for EC2."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.preflight.conftest import FakeAws, Outcome, client, free_port

Run = Callable[..., Outcome]
Project = Callable[..., str]


def findings(outcome: Outcome, check: str) -> dict[str, dict[str, Any]]:
    return {f["subject"]: f for f in outcome.json()["findings"] if f["check"] == check}


def put_secret(moto_url: str, name: str, region: str, stack: str | None = "dev", value: bool = True) -> None:
    """A secret as `pulumi up` of `stack` leaves it (tagged), with its key set out of band when `value`."""
    tags = [{"Key": "inferplan:stack", "Value": stack}] if stack else []
    extra = {"SecretString": "sk-test"} if value else {}
    client(moto_url, "secretsmanager", region).create_secret(Name=name, Tags=tags, **extra)


def test_dev_stack_passes_every_check_and_exits_0(
    aws_env: Any, moto_url: str, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    fake_aws.quota("L-DB2E81BA")  # recorded: 64 vCPUs of on-demand G and VT
    put_secret(moto_url, "inferplan/dev/anthropic-api-key", "us-east-1")
    stack = project("dev")

    out = preflight(
        "--stack", stack, "--endpoint-url", moto_url,
        "--service-quotas-endpoint-url", fake_aws.url, "--format", "json",
    )  # fmt: skip

    assert out.code == 0, out.out
    assert out.err == ""  # not a terminal: no progress output
    report = out.json()
    assert report["account"] == "123456789012"
    assert report["availability_zones"] == ["us-east-1a", "us-east-1b"]
    assert report["summary"] == {"pass": 5, "fail": 0, "unknown": 0, "info": 0}
    assert findings(out, "offering")["pool l40s"]["status"] == "pass"
    quota = findings(out, "quota")["on-demand G and VT instances (L-DB2E81BA)"]
    assert quota["status"] == "pass"
    assert "quota 64 vCPUs covers 8 needed" in quota["message"]
    assert findings(out, "secret")["inferplan/dev/anthropic-api-key"]["status"] == "pass"


def test_shape_offered_in_one_az_but_not_another(
    aws_env: Any, moto_url: str, project: Project, preflight: Run
) -> None:
    # moto's us-east-1 offers p4de.24xlarge in us-east-1b and -1c only; the network uses -1a and -1b.
    def edit(platform: dict[str, Any]) -> None:
        platform["pools"][0]["instance_type"] = "p4de.24xlarge"

    out = preflight("--stack", project("dev", edit), "--endpoint-url", moto_url, "--format", "json")

    assert out.code == 1
    offering = findings(out, "offering")["pool l40s"]
    assert offering["status"] == "fail"
    assert offering["message"] == (
        "p4de.24xlarge is not offered in us-east-1a; us-east-1 offers it in us-east-1b, us-east-1c"
    )
    # Enough GPU memory and offered in both AZs: p5.48xlarge (8x H100). p5en.48xlarge has more memory
    # but moto lists it in us-east-1a and -1c only, so it is not suggested.
    assert "p5.48xlarge (8x H100, " in offering["remedy"]
    assert "p5en" not in offering["remedy"]


def test_shape_offered_nowhere_in_the_region(
    aws_env: Any, moto_url: str, project: Project, preflight: Run
) -> None:
    out = preflight(
        "--stack", project("prod-eu"), "--endpoint-url", moto_url
    )  # moto's eu-central-1 has no p5

    assert out.code == 1
    assert (
        "FAIL     offering  pool h100: p5.48xlarge is not offered in eu-central-1a, eu-central-1b, "
        "eu-central-1c; no AZ of eu-central-1 offers it"
    ) in out.out
    assert "the account would fail `pulumi up` (exit 1)" in out.out


def test_quota_too_low_prints_the_exact_increase(
    aws_env: Any, moto_url: str, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    fake_aws.quota("L-417A185B")  # recorded: 384 vCPUs of on-demand P
    out = preflight(
        "--stack", project("prod-eu"), "--endpoint-url", moto_url,
        "--service-quotas-endpoint-url", fake_aws.url, "--format", "json",
    )  # fmt: skip

    quota = findings(out, "quota")["on-demand P instances (L-417A185B)"]
    assert quota["status"] == "fail"
    # h100: 3 x p5.48xlarge (192 vCPUs) + h200: 2 x p5en.48xlarge (192 vCPUs), summed in one P quota.
    assert "quota 384 vCPUs < 960 needed at max_nodes" in quota["message"]
    assert "request L-417A185B from 384 to 960" in quota["message"]
    assert quota["remedy"] == (
        "aws service-quotas request-service-quota-increase --service-code ec2 "
        "--quota-code L-417A185B --desired-value 960 --region eu-central-1"
    )
    # The warm pool's stopped instance is not counted, and the message says so.
    assert "warm pool (192 vCPUs) not counted: stopped instances use no running quota" in quota["message"]
    assert ("ServiceQuotasV20190624.GetServiceQuota", {"ServiceCode": "ec2", "QuotaCode": "L-417A185B"}) in (
        fake_aws.requests
    )


def test_quota_that_covers_max_nodes_passes(
    aws_env: Any, moto_url: str, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    fake_aws.quota("L-417A185B", value=960)  # exactly what the pools need
    out = preflight(
        "--stack", project("prod-eu"), "--endpoint-url", moto_url,
        "--service-quotas-endpoint-url", fake_aws.url, "--format", "json",
    )  # fmt: skip

    quota = findings(out, "quota")["on-demand P instances (L-417A185B)"]
    assert quota["status"] == "pass"
    assert quota["remedy"] == ""


def test_quota_is_unknown_where_moto_has_no_ec2_quotas(
    aws_env: Any, moto_url: str, project: Project, preflight: Run
) -> None:
    put_secret(moto_url, "inferplan/dev/anthropic-api-key", "us-east-1")
    out = preflight("--stack", project("dev"), "--endpoint-url", moto_url, "--format", "json")

    quota = findings(out, "quota")["on-demand G and VT instances (L-DB2E81BA)"]
    assert quota["status"] == "unknown"
    assert "not available in the current Region" in quota["message"]
    assert out.json()["summary"]["pass"] == 4  # unknown is not counted as a pass
    assert out.code == 0  # and not as a failure either


def test_quota_access_denied_is_unknown_not_an_error(
    aws_env: Any, moto_url: str, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    fake_aws.deny.add("ServiceQuotasV20190624.GetServiceQuota")
    out = preflight(
        "--stack", project("dev"), "--endpoint-url", moto_url,
        "--service-quotas-endpoint-url", fake_aws.url, "--format", "json",
    )  # fmt: skip

    quota = findings(out, "quota")["on-demand G and VT instances (L-DB2E81BA)"]
    assert quota["status"] == "unknown"
    assert "access denied" in quota["message"]


def test_spot_pool_is_checked_against_the_spot_quota(
    aws_env: Any, moto_url: str, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    def edit(platform: dict[str, Any]) -> None:
        platform["pools"][0]["capacity"] = "spot"

    out = preflight(
        "--stack", project("dev", edit), "--endpoint-url", moto_url,
        "--service-quotas-endpoint-url", fake_aws.url, "--format", "json",
    )  # fmt: skip

    assert set(findings(out, "quota")) == {"spot G and VT instances (L-3819A6DF)"}
    assert [r[1]["QuotaCode"] for r in fake_aws.requests if r[0].endswith("GetServiceQuota")] == [
        "L-3819A6DF"
    ]


def test_existing_and_missing_secrets(aws_env: Any, moto_url: str, project: Project, preflight: Run) -> None:
    def two_keys(platform: dict[str, Any]) -> None:
        extra = dict(
            platform["frontier"][0], name="gpt", provider="openai", model="gpt-4.1", secret="openai-key"
        )
        platform["frontier"].append(extra)

    stack = project("dev", two_keys)
    put_secret(moto_url, "inferplan/dev/anthropic-api-key", "us-east-1")

    out = preflight("--stack", stack, "--endpoint-url", moto_url, "--format", "json")

    secrets = findings(out, "secret")
    assert secrets["inferplan/dev/anthropic-api-key"]["status"] == "pass"
    # Missing is fine before the first deploy: components/fallback_secrets.py creates it (empty).
    missing = secrets["inferplan/dev/openai-key"]
    assert missing["status"] == "info"
    assert missing["message"].startswith("does not exist yet: `pulumi up` creates it empty")
    assert missing["remedy"].startswith(
        "aws secretsmanager put-secret-value --secret-id inferplan/dev/openai-key"
    )
    assert out.code == 0


@pytest.mark.parametrize(("owner", "shown"), [(None, "no inferplan stack"), ("prod-eu", "stack 'prod-eu'")])
def test_a_secret_name_taken_outside_the_stack_fails(
    aws_env: Any, moto_url: str, project: Project, preflight: Run, owner: str | None, shown: str
) -> None:
    name = "inferplan/dev/anthropic-api-key"
    put_secret(moto_url, name, "us-east-1", stack=owner)

    out = preflight("--stack", project("dev"), "--endpoint-url", moto_url, "--format", "json")

    secret = findings(out, "secret")[name]
    assert secret["status"] == "fail"
    assert secret["message"] == (
        f"already exists, created by {shown}: `pulumi up` would fail creating it (name taken)"
    )
    assert out.code == 1


def test_secret_scheduled_for_deletion_fails(
    aws_env: Any, moto_url: str, project: Project, preflight: Run
) -> None:
    name = "inferplan/dev/anthropic-api-key"
    put_secret(moto_url, name, "us-east-1")
    client(moto_url, "secretsmanager", "us-east-1").delete_secret(SecretId=name, RecoveryWindowInDays=7)

    out = preflight("--stack", project("dev"), "--endpoint-url", moto_url, "--format", "json")

    secret = findings(out, "secret")[name]
    assert secret["status"] == "fail"
    assert "is scheduled for deletion" in secret["message"]
    assert secret["remedy"].startswith(
        f"aws secretsmanager delete-secret --secret-id {name} --force-delete-without-recovery"
    )


def test_secret_of_the_stack_without_a_value_fails(
    aws_env: Any, moto_url: str, project: Project, preflight: Run
) -> None:
    name = "inferplan/dev/anthropic-api-key"
    put_secret(moto_url, name, "us-east-1", value=False)  # deployed, key never set

    out = preflight("--stack", project("dev"), "--endpoint-url", moto_url, "--format", "json")

    secret = findings(out, "secret")[name]
    assert (secret["status"], secret["message"]) == (
        "fail",
        "holds no value: the router cannot start until the key is set",
    )
    assert secret["remedy"].startswith(f"aws secretsmanager put-secret-value --secret-id {name}")


def test_keys_in_pulumi_state_need_the_stack_config(
    aws_env: Any, moto_url: str, project: Project, preflight: Run
) -> None:
    def in_state(platform: dict[str, Any]) -> None:
        platform["router"] = {"secrets_in_state": True}

    name = "inferplan/dev/anthropic-api-key"
    without = preflight("--stack", project("dev", in_state), "--endpoint-url", moto_url, "--format", "json")
    secure = {"inferplan:anthropic-api-key": {"secure": "v1:AAAA"}}
    with_key = preflight(
        "--stack",
        project("dev", in_state, extra_config=secure),
        "--endpoint-url",
        moto_url,
        "--format",
        "json",
    )

    assert findings(without, "secret")[name]["status"] == "fail"
    assert findings(without, "secret")[name]["remedy"] == (
        "pulumi config set --secret inferplan:anthropic-api-key <key> --stack dev"
    )
    assert findings(with_key, "secret")[name]["status"] == "pass"


def test_missing_credentials_is_one_line_and_exit_2(
    no_aws_env: Any, moto_url: str, project: Project, preflight: Run
) -> None:
    out = preflight("--stack", project("dev"), "--endpoint-url", moto_url)

    assert out.code == 2
    assert out.out == ""
    assert out.err.count("\n") == 1
    assert out.err.startswith("error: no AWS credentials found while asking STS who we are")


def test_unreachable_endpoint_is_one_line_and_exit_2(aws_env: Any, project: Project, preflight: Run) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    out = preflight("--stack", project("dev"), "--endpoint-url", closed)

    assert out.code == 2
    assert out.out == ""
    assert out.err.count("\n") == 1
    assert out.err.startswith(f"error: cannot reach {closed}/ while asking STS who we are")


def test_access_denied_is_one_line_and_exit_2(
    aws_env: Any, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    out = preflight(
        "--stack", project("dev"), "--endpoint-url", fake_aws.url
    )  # answers STS with AccessDenied

    assert out.code == 2
    assert out.err.count("\n") == 1
    assert out.err.startswith("error: access denied while asking STS who we are (sts:GetCallerIdentity)")
    assert "not authorized to perform: sts:GetCallerIdentity" in out.err


def test_unknown_profile_is_one_line_and_exit_2(aws_env: Any, project: Project, preflight: Run) -> None:
    out = preflight("--stack", project("dev"), "--profile", "nope")

    assert out.code == 2
    assert out.err == "error: AWS profile not found: nope (see `aws configure list-profiles`)\n"


def test_help_documents_the_exit_codes(preflight: Run, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_:
        preflight("--help")
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "1  the account would fail `pulumi up`" in text
    assert "2  invalid input, or AWS could not be asked" in text


def test_an_endpoint_that_is_not_aws_is_one_line_and_exit_2(
    aws_env: Any, fake_aws: FakeAws, project: Project, preflight: Run
) -> None:
    fake_aws.garbage = True
    out = preflight("--stack", project("dev"), "--endpoint-url", fake_aws.url)

    assert out.code == 2
    assert out.err.count("\n") == 1
    assert out.err.startswith("error: ")
    assert "while asking STS who we are" in out.err
