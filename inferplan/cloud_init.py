"""The cloud-init document that turns one GPU node into one model's vLLM server.

Pure on purpose (no Pulumi): the VllmService component passes the bucket name through `.apply` and
base64-encodes what `user_data` returns, so the whole boot sequence is testable with plain calls.

The node is the AWS Deep Learning Base GPU AMI (components/gpu_pool.py), which ships Docker with the
NVIDIA container toolkit, the AWS CLI and the SSM agent. What the node does, and why it needs nothing
from the internet:
- weights: `aws s3 sync s3://<bucket>/models/<model>/` through the VPC's S3 gateway endpoint, on
  every boot (a systemd oneshot), so a warm-pool instance stopped mid-download resumes where it was;
- image: the pinned vLLM OpenAI-compatible image from the stack's own ECR mirror `<stack>/vllm-openai`
  (`inferplan.images.vllm_image`; copied there once, docs/security.md) through the ECR interface
  endpoints, whatever the stack's egress: the nodes' security group opens no internet;
- metrics: the CloudWatch agent (installed from AWS's regional agent bucket through the same S3
  endpoint when the AMI lacks it) scrapes vLLM's Prometheus `/metrics` and publishes them as EMF to
  METRIC_NAMESPACE with one dimension, the Auto Scaling group, which target tracking reads;
- serving: one container, `vllm serve` with the planned `vllm_args`; data-parallel replicas run as
  vLLM's own engines behind its one API server (`--data-parallel-size`), because the load balancer
  reaches an Auto Scaling instance on exactly one port.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

import yaml

from inferplan.plan import VLLM_PORT, ModelPlan

VLLM_REPOSITORY = "vllm/vllm-openai"
# Pinned: the planner writes `vllm_args` for this version's CLI. Bump deliberately, with the sizing flags.
VLLM_TAG = "v0.33.0"

# What the node publishes and the pool's target tracking reads (one definition for both sides).
METRIC_NAMESPACE = "inferplan/vllm"
WAITING_METRIC = "vllm:num_requests_waiting"
RUNNING_METRIC = "vllm:num_requests_running"
GROUP_DIMENSION = "AutoScalingGroupName"
# Target tracking follows each engine's load: (running + waiting) / max_num_seqs, averaged over the
# group's series (one per vLLM engine). The waiting queue alone is no target: a group that keeps up
# reads 0 waiting and target tracking would shrink it to min_nodes, then scale out again once a queue
# forms — 45-minute cold starts in a loop. Above 1.0 requests queue; 0.8 scales out before they do.
LOAD_TARGET = 0.8

# How long a fresh node takes to serve: boot, a 70B-class download from S3 (~140 GiB in bf16 at a few
# hundred MB/s), the image pull, loading weights into GPU memory and CUDA graph capture. The Auto
# Scaling group's ELB health check grace period and the refresh warm-up use it.
NODE_READY_SECONDS = 2700
# After a node is InService (weights already local), how long vLLM needs before its metrics count.
ENGINE_WARMUP_SECONDS = 900

# The launch lifecycle hook a node completes once its weights and image are local (warm pools only:
# without it the group would stop a warm instance before its download finished).
WEIGHTS_READY_HOOK = "weights-ready"

MODELS_DIR = "/opt/inferplan/models"
BIN_DIR = "/opt/inferplan/bin"
PREPARE_UNIT = "inferplan-prepare.service"
AGENT_DIR = "/opt/aws/amazon-cloudwatch-agent"
USER_DATA_LIMIT = 16384  # bytes EC2 accepts before base64


def weights_prefix(model: str) -> str:
    """Key prefix of one model's weights in the stack's model bucket (what the node role may read)."""
    return f"models/{model}/"


def group_name(name_prefix: str, pool: str) -> str:
    """Physical name of a pool's Auto Scaling group (the metric dimension and the alarm use it)."""
    return f"{name_prefix}-{pool}-asg"


def ecr_registry(account: str, region: str) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def ecr_repository(image: str) -> tuple[str, str, str] | None:
    """(account, region, repository) when `image` lives in ECR (the node role may then pull it)."""
    registry, _, rest = image.partition("/")
    parts = registry.split(".")
    if len(parts) < 6 or parts[1:3] != ["dkr", "ecr"] or not rest:
        return None
    return parts[0], parts[3], rest.rsplit(":", 1)[0].split("@", 1)[0]


@dataclass(frozen=True)
class NodeSpec:
    """Where one node finds its weights, image, logs and group (all derived from the stack)."""

    bucket: str
    region: str
    group: str  # Auto Scaling group name: the metric dimension and the lifecycle hook's group
    log_group: str
    image: str
    lifecycle_hook: str | None = None  # complete this hook once the weights are local


def _has_flag(args: tuple[str, ...], *names: str) -> bool:
    return any(a in names or any(a.startswith(f"{n}=") for n in names) for a in args)


def _flag_value(args: tuple[str, ...], name: str) -> str | None:
    """The last value given for `name` (`--x v` or `--x=v`), as vLLM's parser would read it."""
    value = None
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith(f"{name}="):
            value = arg.split("=", 1)[1]
    return value


def container_model_dir(model: ModelPlan) -> str:
    return f"/models/{model.name}"


def serve_args(model: ModelPlan) -> tuple[str, ...]:
    """`vllm` arguments: serve the local weights with the planned flags, on VLLM_PORT, offline."""
    args = model.vllm_args
    extra: list[str] = []
    if not _has_flag(args, "--served-model-name"):
        # Clients (the router) may name the model by its short name or its catalog id.
        extra += ["--served-model-name", model.name, model.model_id]
    if model.replicas_per_node > 1 and not _has_flag(args, "--data-parallel-size", "-dp"):
        extra += ["--data-parallel-size", str(model.replicas_per_node)]
    if _flag_value(args, "--port") != str(VLLM_PORT):
        extra += ["--port", str(VLLM_PORT)]  # the target group's port, whatever else the args say
    return ("serve", container_model_dir(model), *args, *extra, "--host", "0.0.0.0")


def visible_gpus(model: ModelPlan) -> str:
    """CUDA_VISIBLE_DEVICES: the GPUs the planned replicas use (tensor_parallel each), from GPU 0."""
    count = max(1, model.tensor_parallel) * max(1, model.replicas_per_node)
    return ",".join(str(i) for i in range(count))


def docker_run(model: ModelPlan, node: NodeSpec) -> tuple[list[str], list[str]]:
    """`docker run` split around the per-instance log stream option (the script fills in the id)."""
    before = [
        "/usr/bin/docker",
        "run",
        "--rm",
        "--name",
        f"vllm-{model.name}",
        "--gpus",
        "all",
        "--ipc=host",
        "--network=host",  # vLLM listens on the host's VLLM_PORT: the target group's port
        "--ulimit",
        "memlock=-1",
        "-e",
        "HF_HUB_OFFLINE=1",  # never reach Hugging Face: the weights are local
        "-e",
        "TRANSFORMERS_OFFLINE=1",
        "-e",
        "VLLM_NO_USAGE_STATS=1",
        "-e",
        "DO_NOT_TRACK=1",
        "-e",
        f"CUDA_VISIBLE_DEVICES={visible_gpus(model)}",
        "-v",
        f"{MODELS_DIR}/{model.name}:{container_model_dir(model)}:ro",
        "--log-driver=awslogs",
        "--log-opt",
        f"awslogs-region={node.region}",
        "--log-opt",
        f"awslogs-group={node.log_group}",
        "--log-opt",
    ]
    after = ["--entrypoint", "vllm", node.image, *serve_args(model)]
    return before, after


_IMDS = "http://169.254.169.254/latest"
_INSTANCE_ID = (
    f'TOKEN=$(curl -sS -X PUT {_IMDS}/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")\n'
    f'INSTANCE_ID=$(curl -sS -H "X-aws-ec2-metadata-token: $TOKEN" {_IMDS}/meta-data/instance-id)\n'
)


def prepare_script(model: ModelPlan, node: NodeSpec) -> str:
    """Weights and image made local; idempotent, run on every boot before vLLM starts."""
    q = shlex.quote
    local = f"{MODELS_DIR}/{model.name}/"
    lines = [
        "#!/bin/bash",
        f"# inferplan: make {model.name}'s weights and the vLLM image local (every boot; incremental).",
        "set -euo pipefail",
        f"mkdir -p {q(local)}",
        f"aws s3 sync --region {q(node.region)} --only-show-errors --no-progress "
        f"{q(f's3://{node.bucket}/{weights_prefix(model.name)}')} {q(local)}",
    ]
    ecr = ecr_repository(node.image)
    if ecr:
        registry = node.image.split("/", 1)[0]
        lines.append(
            f"aws ecr get-login-password --region {q(ecr[1])} | "
            f"docker login --username AWS --password-stdin {q(registry)}"
        )
    lines.append(f"docker image inspect {q(node.image)} >/dev/null 2>&1 || docker pull {q(node.image)}")
    if node.lifecycle_hook:
        lines.append(_INSTANCE_ID.rstrip("\n"))
        lines.append(
            f"aws autoscaling complete-lifecycle-action --region {q(node.region)} "
            f"--lifecycle-hook-name {q(node.lifecycle_hook)} --auto-scaling-group-name {q(node.group)} "
            '--instance-id "$INSTANCE_ID" --lifecycle-action-result CONTINUE --cli-connect-timeout 10 || true'
        )
    return "\n".join(lines) + "\n"


def run_script(model: ModelPlan, node: NodeSpec) -> str:
    """Runs the vLLM container in the foreground (systemd restarts it); logs go to the pool's log group."""
    before, after = docker_run(model, node)
    return (
        "#!/bin/bash\n"
        f"# inferplan: serve {model.model_id} as '{model.name}' on port {VLLM_PORT}.\n"
        "set -euo pipefail\n"
        # Wait (systemd restarts us) until the weights and image are local.
        f"systemctl is-active --quiet {PREPARE_UNIT} || {{ echo 'weights not ready'; exit 1; }}\n"
        f"{_INSTANCE_ID}"
        f"/usr/bin/docker rm -f {shlex.quote(f'vllm-{model.name}')} >/dev/null 2>&1 || true\n"
        f'exec {shlex.join(before)} "awslogs-stream=${{INSTANCE_ID}}/vllm" {shlex.join(after)}\n'
    )


def prometheus_config(model: ModelPlan, node: NodeSpec) -> dict[str, Any]:
    """The agent's Prometheus scrape of vLLM, labelled with the group so EMF can use it as a dimension."""
    return {
        "global": {"scrape_interval": "15s", "scrape_timeout": "10s"},
        "scrape_configs": [
            {
                "job_name": "vllm",
                "metrics_path": "/metrics",
                "static_configs": [
                    {
                        "targets": [f"localhost:{VLLM_PORT}"],
                        "labels": {GROUP_DIMENSION: node.group, "model": model.name},
                    }
                ],
            }
        ],
    }


def agent_config(node: NodeSpec) -> dict[str, Any]:
    """CloudWatch agent: Prometheus → EMF in METRIC_NAMESPACE, and the boot log, into the pool's log group."""
    return {
        "agent": {"region": node.region, "run_as_user": "root"},
        "logs": {
            "force_flush_interval": 15,
            "log_stream_name": "{instance_id}",
            "logs_collected": {
                "files": {
                    "collect_list": [
                        {
                            "file_path": "/var/log/cloud-init-output.log",
                            "log_group_name": node.log_group,
                            "log_stream_name": "{instance_id}/cloud-init",
                        }
                    ]
                }
            },
            "metrics_collected": {
                "prometheus": {
                    "log_group_name": node.log_group,
                    "prometheus_config_path": f"{AGENT_DIR}/etc/inferplan-prometheus.yaml",
                    "emf_processor": {
                        "metric_namespace": METRIC_NAMESPACE,
                        "metric_declaration": [
                            {
                                "source_labels": ["job"],
                                "label_matcher": "^vllm$",
                                "dimensions": [[GROUP_DIMENSION]],
                                "metric_selectors": [
                                    f"^{WAITING_METRIC}$",
                                    f"^{RUNNING_METRIC}$",
                                    "^vllm:(gpu|kv)_cache_usage_perc$",
                                ],
                            }
                        ],
                    },
                }
            },
        },
    }


def agent_script(node: NodeSpec) -> str:
    """Start the agent; install it first from AWS's regional bucket (S3 endpoint) if the AMI lacks it."""
    q = shlex.quote
    ctl = f"{AGENT_DIR}/bin/amazon-cloudwatch-agent-ctl"
    return (
        "#!/bin/bash\n"
        "# inferplan: CloudWatch agent for vLLM's Prometheus metrics (no internet needed).\n"
        "set -euo pipefail\n"
        f"if [ ! -x {ctl} ]; then\n"
        "  ARCH=$(dpkg --print-architecture)\n"
        f'  aws s3 cp --no-sign-request --region {q(node.region)} "s3://amazoncloudwatch-agent-{node.region}'
        '/ubuntu/${ARCH}/latest/amazon-cloudwatch-agent.deb" /tmp/amazon-cloudwatch-agent.deb\n'
        "  dpkg -i -E /tmp/amazon-cloudwatch-agent.deb\n"
        "fi\n"
        f"{ctl} -a fetch-config -m ec2 -s -c file:{AGENT_DIR}/etc/inferplan-agent.json\n"
    )


def _unit(description: str, body: list[str], after: list[str], wants: list[str]) -> str:
    return "\n".join(
        [
            "[Unit]",
            f"Description={description}",
            f"After={' '.join(after)}",
            f"Wants={' '.join(wants)}",
            "",
            "[Service]",
            *body,
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def _file(path: str, content: str, permissions: str = "0644") -> dict[str, str]:
    return {"path": path, "owner": "root:root", "permissions": permissions, "content": content}


# libyaml's emitter when present (the same document, several times faster for a 100-pool stack).
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumper):  # type: ignore[valid-type,misc]
    """Multi-line strings as literal blocks, so an operator can read the user data in the console."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def cloud_config(model: ModelPlan, node: NodeSpec) -> dict[str, Any]:
    """The #cloud-config document as data: files written, then the commands that start them."""
    prepare, vllm = PREPARE_UNIT, f"inferplan-vllm-{model.name}.service"
    return {
        "write_files": [
            _file(f"{BIN_DIR}/prepare.sh", prepare_script(model, node), "0755"),
            _file(f"{BIN_DIR}/run-vllm.sh", run_script(model, node), "0755"),
            _file(f"{BIN_DIR}/start-agent.sh", agent_script(node), "0755"),
            _file(
                f"{AGENT_DIR}/etc/inferplan-prometheus.yaml",
                yaml.safe_dump(prometheus_config(model, node), sort_keys=False),
            ),
            _file(f"{AGENT_DIR}/etc/inferplan-agent.json", json.dumps(agent_config(node), indent=1) + "\n"),
            _file(
                f"/etc/systemd/system/{prepare}",
                _unit(
                    f"inferplan: weights and image for {model.name}",
                    [
                        "Type=oneshot",
                        "RemainAfterExit=yes",
                        f"ExecStart={BIN_DIR}/prepare.sh",
                        "TimeoutStartSec=0",  # a 70B download takes minutes
                        "Restart=on-failure",  # transient S3 or registry errors
                        "RestartSec=30",
                    ],
                    after=["network-online.target", "docker.service"],
                    wants=["network-online.target", "docker.service"],
                ),
            ),
            _file(
                f"/etc/systemd/system/{vllm}",
                _unit(
                    f"inferplan: vLLM serving {model.name}",
                    [
                        f"ExecStart={BIN_DIR}/run-vllm.sh",
                        f"ExecStop=/usr/bin/docker stop --time 60 vllm-{model.name}",
                        "Restart=always",
                        "RestartSec=10",
                        "TimeoutStartSec=0",
                    ],
                    after=[prepare, "docker.service"],
                    wants=[prepare, "docker.service"],
                ),
            ),
        ],
        "runcmd": [
            [f"{BIN_DIR}/start-agent.sh"],
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", prepare, vllm],
            ["systemctl", "start", "--no-block", vllm],
        ],
    }


def user_data(model: ModelPlan, node: NodeSpec) -> str:
    """The node's user data: a `#cloud-config` YAML document (EC2 takes at most 16 KiB of it)."""
    body = yaml.dump(cloud_config(model, node), Dumper=_Dumper, sort_keys=False, width=1000)
    document = "#cloud-config\n" + body
    size = len(document.encode())
    if size > USER_DATA_LIMIT:
        raise ValueError(f"user data for {model.name} is {size} bytes; EC2 accepts {USER_DATA_LIMIT}")
    return document
