"""The node's cloud-init document, as a pure function of a ModelPlan and where the node lives."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex

import pytest
import yaml

from inferplan import cloud_init
from inferplan.cloud_init import NodeSpec, user_data
from inferplan.images import vllm_image
from inferplan.plan import VLLM_PORT, ModelPlan
from tests.components.recorded import contains_run, plan_of
from tests.conftest import EXAMPLE_STACKS

MODEL = ModelPlan(
    name="llama-70b",
    model_id="meta-llama/Llama-3.3-70B-Instruct",
    pool="h100",
    instance_type="p5.48xlarge",
    quantization="fp8",
    max_context=16384,
    fits=True,
    tensor_parallel=2,
    replicas_per_node=4,
    weights_gib=70.0,
    kv_cache_gib=60.0,
    max_concurrency=40,
    output_tokens_per_s=3000.0,
    calls_per_min=100.0,
    peak_calls_per_min=300.0,
    replicas_needed=4,
    nodes_needed=1,
    vllm_args=("--tensor-parallel-size", "2", "--max-model-len", "16384", "--quantization", "fp8"),
)
NODE = NodeSpec(
    bucket="prod-eu-models-123456789012",
    region="eu-central-1",
    group="prod-eu-h100-asg",
    log_group="/inferplan/prod-eu/h100",
    image=vllm_image("prod-eu", "eu-central-1").uri("123456789012"),
)
DOCKER_HUB_IMAGE = f"{cloud_init.VLLM_REPOSITORY}:{cloud_init.VLLM_TAG}"  # what the nodes never pull


def parse(text):
    assert text.startswith("#cloud-config\n")
    document = yaml.safe_load(text)
    assert set(document) == {"write_files", "runcmd"}
    return document


def file_of(document, path):
    [content] = [f["content"] for f in document["write_files"] if f["path"] == path]
    return content


def command_of(document):
    script = file_of(document, f"{cloud_init.BIN_DIR}/run-vllm.sh")
    [line] = [line for line in script.splitlines() if line.startswith("exec ")]
    return shlex.split(line)[1:]


def test_user_data_is_yaml_cloud_config_that_writes_scripts_units_and_starts_them():
    document = parse(user_data(MODEL, NODE))
    paths = {f["path"] for f in document["write_files"]}
    assert f"/etc/systemd/system/inferplan-vllm-{MODEL.name}.service" in paths
    assert f"/etc/systemd/system/{cloud_init.PREPARE_UNIT}" in paths
    scripts = [f for f in document["write_files"] if f["path"].endswith(".sh")]
    assert scripts and all(
        f["permissions"] == "0755" and f["content"].startswith("#!/bin/bash\n") for f in scripts
    )
    assert ["systemctl", "start", "--no-block", f"inferplan-vllm-{MODEL.name}.service"] in document["runcmd"]


def test_vllm_runs_the_pinned_image_with_the_planned_arguments_offline_on_the_target_port():
    command = command_of(parse(user_data(MODEL, NODE)))
    assert command[:2] == ["/usr/bin/docker", "run"]
    serve = command.index("serve")
    assert command[serve - 1] == NODE.image  # the pinned release, from the stack's mirror
    assert command[serve - 3 : serve - 1] == ["--entrypoint", "vllm"]
    assert contains_run(command, MODEL.vllm_args)
    assert command[serve + 1] == f"/models/{MODEL.name}"
    ports = [command[i + 1] for i, a in enumerate(command) if a == "--port"]
    assert ports[-1] == str(VLLM_PORT)
    assert "HF_HUB_OFFLINE=1" in command
    assert f"{cloud_init.MODELS_DIR}/{MODEL.name}:/models/{MODEL.name}:ro" in command


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_planned_model_of_the_example_stacks_gets_its_exact_arguments(stack):
    for model in plan_of(stack).models:
        command = command_of(parse(user_data(model, NODE)))
        assert contains_run(command, model.vllm_args)
        ports = [command[i + 1] for i, a in enumerate(command) if a == "--port"]
        assert ports and ports[-1] == str(VLLM_PORT)  # vLLM's parser keeps the last one
        assert command.count("--data-parallel-size") == (1 if model.replicas_per_node > 1 else 0)
        assert command.count("--served-model-name") == 1
        assert len(user_data(model, NODE).encode()) <= cloud_init.USER_DATA_LIMIT


def test_data_parallel_replicas_run_as_one_server_over_their_gpus():
    command = command_of(parse(user_data(MODEL, NODE)))
    dp = command.index("--data-parallel-size")
    assert command[dp + 1] == "4"
    assert "CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7" in command  # 4 replicas x TP 2
    single = dataclasses.replace(MODEL, replicas_per_node=1, tensor_parallel=1)
    command = command_of(parse(user_data(single, NODE)))
    assert "--data-parallel-size" not in command
    assert "CUDA_VISIBLE_DEVICES=0" in command


def test_a_port_in_the_arguments_is_overridden_by_the_target_groups_port():
    other = dataclasses.replace(MODEL, vllm_args=(*MODEL.vllm_args, "--port", "9000"))
    args = cloud_init.serve_args(other)
    ports = [args[i + 1] for i, a in enumerate(args) if a == "--port"]
    assert ports == ["9000", str(VLLM_PORT)]
    same = dataclasses.replace(MODEL, vllm_args=(*MODEL.vllm_args, f"--port={VLLM_PORT}"))
    assert "--port" not in cloud_init.serve_args(same)


def test_weights_come_from_the_models_prefix_in_the_stack_bucket_on_every_boot():
    document = parse(user_data(MODEL, NODE))
    prepare = file_of(document, f"{cloud_init.BIN_DIR}/prepare.sh")
    assert (
        f"aws s3 sync --region eu-central-1 --only-show-errors --no-progress "
        f"s3://{NODE.bucket}/models/{MODEL.name}/ {cloud_init.MODELS_DIR}/{MODEL.name}/"
    ) in prepare
    unit = file_of(document, f"/etc/systemd/system/{cloud_init.PREPARE_UNIT}")
    assert "Type=oneshot" in unit and "WantedBy=multi-user.target" in unit  # runs again after a warm start
    vllm_unit = file_of(document, f"/etc/systemd/system/inferplan-vllm-{MODEL.name}.service")
    assert f"After={cloud_init.PREPARE_UNIT}" in vllm_unit


def test_nothing_is_fetched_from_the_internet():
    for image in (NODE.image,):
        text = user_data(MODEL, dataclasses.replace(NODE, image=image))
        urls = set(re.findall(r"https?://[^\s\"')]+", text))
        assert all(url.startswith("http://169.254.169.254/") for url in urls), urls  # IMDS only
        for word in ("pip install", "apt-get", "apt install", "wget", "huggingface-cli", "snap install"):
            assert word not in text


def test_the_node_pulls_the_stack_s_ecr_mirror_after_logging_in():
    image = NODE.image
    assert (
        image == f"123456789012.dkr.ecr.eu-central-1.amazonaws.com/prod-eu/vllm-openai:{cloud_init.VLLM_TAG}"
    )
    assert cloud_init.ecr_repository(image) == ("123456789012", "eu-central-1", "prod-eu/vllm-openai")
    assert cloud_init.ecr_repository(DOCKER_HUB_IMAGE) is None
    prepare = file_of(parse(user_data(MODEL, NODE)), f"{cloud_init.BIN_DIR}/prepare.sh")
    assert "aws ecr get-login-password --region eu-central-1 | docker login" in prepare
    # An image outside ECR would need no login (and is refused by image-reachable before it gets here).
    assert "ecr get-login-password" not in file_of(
        parse(user_data(MODEL, dataclasses.replace(NODE, image=DOCKER_HUB_IMAGE))),
        f"{cloud_init.BIN_DIR}/prepare.sh",
    )


def test_the_agent_scrapes_vllm_and_publishes_the_queue_depth_by_group():
    document = parse(user_data(MODEL, NODE))
    scrape = yaml.safe_load(file_of(document, f"{cloud_init.AGENT_DIR}/etc/inferplan-prometheus.yaml"))
    [job] = scrape["scrape_configs"]
    [target] = job["static_configs"]
    assert target["targets"] == [f"localhost:{VLLM_PORT}"]
    assert target["labels"][cloud_init.GROUP_DIMENSION] == NODE.group
    agent = json.loads(file_of(document, f"{cloud_init.AGENT_DIR}/etc/inferplan-agent.json"))
    prometheus = agent["logs"]["metrics_collected"]["prometheus"]
    assert prometheus["log_group_name"] == NODE.log_group
    emf = prometheus["emf_processor"]
    assert emf["metric_namespace"] == "inferplan/vllm"
    [declaration] = emf["metric_declaration"]
    assert declaration["dimensions"] == [["AutoScalingGroupName"]]
    assert any(re.fullmatch(p, "vllm:num_requests_waiting") for p in declaration["metric_selectors"])
    assert re.fullmatch(declaration["label_matcher"], job["job_name"])
    assert [f"{cloud_init.BIN_DIR}/start-agent.sh"] in document["runcmd"]


def test_only_warm_pool_nodes_complete_the_launch_hook():
    plain = file_of(parse(user_data(MODEL, NODE)), f"{cloud_init.BIN_DIR}/prepare.sh")
    assert "complete-lifecycle-action" not in plain
    hooked = dataclasses.replace(NODE, lifecycle_hook=cloud_init.WEIGHTS_READY_HOOK)
    prepare = file_of(parse(user_data(MODEL, hooked)), f"{cloud_init.BIN_DIR}/prepare.sh")
    line = next(line for line in prepare.splitlines() if "complete-lifecycle-action" in line)
    assert f"--lifecycle-hook-name {cloud_init.WEIGHTS_READY_HOOK}" in line
    assert f"--auto-scaling-group-name {NODE.group}" in line
    # ...after the weights and the image are local.
    assert (
        prepare.index("aws s3 sync")
        < prepare.index("docker pull")
        < prepare.index("complete-lifecycle-action")
    )


def test_user_data_over_the_ec2_limit_is_refused():
    huge = dataclasses.replace(MODEL, vllm_args=tuple(f"--x{i}" for i in range(4000)))
    with pytest.raises(ValueError, match="EC2 accepts 16384"):
        user_data(huge, NODE)


def test_the_same_plan_always_gives_the_same_user_data():
    assert user_data(MODEL, NODE) == user_data(dataclasses.replace(MODEL), dataclasses.replace(NODE))
    assert user_data(MODEL, NODE) != user_data(
        dataclasses.replace(MODEL, max_context=8192, vllm_args=("--max-model-len", "8192")), NODE
    )
