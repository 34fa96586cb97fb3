"""`cdk synth` through the pinned CDK CLI, as `make synth` runs it: no AWS credentials, no Docker.

It bundles for real (pip, from PyPI or the local pip cache), so it is the slow test of the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infra import names
from infra.pipelines import deployed
from tests.infra.synth import ROOT, mask, read_assembly
from tests.infra.test_snapshot import snapshot_path

CDK = ROOT / "node_modules" / ".bin" / "cdk"
TIMEOUT_SECONDS = 600


def environment_without_aws_or_docker(home: Path) -> dict[str, str]:
    """The current environment minus AWS credentials and configuration, and minus Docker."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "CDK_"))}
    env.update(
        {
            # no credentials, no profile, no instance metadata to fall back on
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
            "AWS_SESSION_TOKEN": "",
            # any Docker call fails
            "CDK_DOCKER": "/bin/false",
            # a clean home (no ~/.cdk.json context); keep pip's cache for speed
            "HOME": str(home),
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
            "CDK_DISABLE_VERSION_CHECK": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }
    )
    # and no docker executable on the PATH: node is reached through a directory of its own
    node = shutil.which("node")
    assert node, "node is required for the CDK CLI"
    node_dir = home / "bin"
    node_dir.mkdir(exist_ok=True)
    (node_dir / "node").symlink_to(node)
    entries = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry]
    env["PATH"] = os.pathsep.join(
        [str(node_dir), *(entry for entry in entries if not (Path(entry) / "docker").exists())]
    )
    return env


@pytest.fixture(scope="module")
def cli_outdir(tmp_path_factory) -> Path:
    if not CDK.exists():
        pytest.fail("node_modules/.bin/cdk is missing: run `make install`")
    outdir = tmp_path_factory.mktemp("cdk-out")
    home = tmp_path_factory.mktemp("home")
    result = subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(outdir)],
        cwd=ROOT,
        env=environment_without_aws_or_docker(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
    return outdir


def function_asset_dirs(outdir: Path) -> dict[str, Path]:
    template = json.loads((outdir / f"{names.STATELESS_STACK_NAME}.template.json").read_text())
    return {
        resource["Properties"]["Handler"]: outdir / resource["Metadata"]["aws:asset:path"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }


@pytest.mark.slow
def test_cli_synth_bundles_icalendar_and_the_lambdas_package(cli_outdir: Path):
    assets = function_asset_dirs(cli_outdir)
    # cdk.json's defaults: replies received, no event address (no organizer function)
    assert set(assets) == {pipeline.handler for pipeline in deployed(receive_replies=True)}
    for asset in assets.values():
        assert (asset / "icalendar" / "__init__.py").is_file()
        assert (asset / "lambdas" / "send_invite" / "handler.py").is_file()
        assert (asset / "lambdas" / "send_cancellation" / "handler.py").is_file()
        assert not list(asset.glob("lambdas/**/__pycache__"))


@pytest.mark.slow
def test_cli_synth_matches_the_snapshot(cli_outdir: Path):
    """The snapshot the unit tests compare against is what `cdk synth` really produces."""
    templates, _ = read_assembly(cli_outdir)
    for stack_name in (names.STATEFUL_STACK_NAME, names.STATELESS_STACK_NAME):
        expected = json.loads(snapshot_path(stack_name).read_text())
        assert mask(templates[stack_name]) == expected, stack_name
