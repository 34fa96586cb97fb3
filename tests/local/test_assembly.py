"""Finding the cloud assembly: cdk.out when it is fresh, otherwise a cached synthesis of the app."""

from __future__ import annotations

import json
import os
import textwrap

import pytest

from local import assembly as assemblies
from tests.local import fixture

# A stand-in CDK app: writes a one-stack assembly where the CDK CLI would tell it to, and records
# the context it was given.
FAKE_APP = textwrap.dedent(
    """
    import json, os, pathlib
    out = pathlib.Path(os.environ["CDK_OUTDIR"])
    context = json.loads(os.environ["CDK_CONTEXT_JSON"])
    (out / "Only.template.json").write_text(json.dumps({"Resources": {}, "Metadata": {"context": context}}))
    manifest = {"artifacts": {"Only": {"type": "aws:cloudformation:stack",
                                       "properties": {"templateFile": "Only.template.json"}}}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    counter = pathlib.Path("synth-count")
    counter.write_text(str(int(counter.read_text() if counter.exists() else "0") + 1))
    """
)


@pytest.fixture
def app_root(tmp_path):
    (tmp_path / "app.py").write_text(FAKE_APP)
    (tmp_path / "cdk.json").write_text(
        json.dumps({"app": ".venv/bin/python app.py", "context": {"sender": "x@y.z"}})
    )
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "stack.py").write_text("# v1\n")
    return tmp_path


def test_stacks_are_loaded_in_dependency_order(tmp_path):
    loaded = assemblies.load(fixture.write(tmp_path))
    assert loaded.names == [fixture.DATA, fixture.WORKERS]
    assert loaded.stack(fixture.WORKERS).dependencies == (fixture.DATA,)


def test_a_nested_assembly_of_a_stage_is_followed(tmp_path):
    fixture.write(tmp_path / "assembly-Prod")
    manifest = {
        "artifacts": {
            "Prod": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Prod"}}
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert assemblies.load(tmp_path).names == [fixture.DATA, fixture.WORKERS]


def test_a_directory_without_manifest_is_refused(tmp_path):
    with pytest.raises(assemblies.AssemblyError, match="not a cloud assembly"):
        assemblies.load(tmp_path)


def test_the_app_is_synthesized_once_per_input_without_bundling(app_root):
    first = assemblies.locate(app_root)
    context = first.stacks[0].template["Metadata"]["context"]
    assert context["aws:cdk:bundling-stacks"] == []
    assert context["sender"] == "x@y.z"
    assert assemblies.locate(app_root).names == ["Only"]
    assert (app_root / "synth-count").read_text() == "1"  # the second call read the cache

    (app_root / "infra" / "stack.py").write_text("# v2\n")
    assemblies.locate(app_root)
    assert (app_root / "synth-count").read_text() == "2"


def test_a_fresh_cdk_out_is_preferred_and_a_stale_one_ignored(app_root):
    fixture.write(app_root / "cdk.out")
    assert assemblies.locate(app_root).source == "cdk.out"

    later = (app_root / "cdk.out" / "manifest.json").stat().st_mtime + 10
    os.utime(app_root / "infra" / "stack.py", (later, later))
    assert assemblies.locate(app_root).names == ["Only"]
    assert assemblies.locate(app_root, prefer_cdk_out=False).names == ["Only"]


def test_a_failing_synthesis_shows_the_apps_output(app_root):
    (app_root / "app.py").write_text("raise SystemExit('Configuration error: sender is missing')\n")
    with pytest.raises(assemblies.AssemblyError, match="sender is missing"):
        assemblies.locate(app_root)


def test_no_cdk_out_and_no_app_is_a_clear_error(tmp_path):
    with pytest.raises(assemblies.AssemblyError, match=r"no cdk\.out and no cdk\.json"):
        assemblies.locate(tmp_path)
