"""The synthesized CDK cloud assembly that drives the local runtime.

Where the templates come from, in order:

1. ``cdk.out`` (from ``make synth``), when it is newer than every input of the synthesis;
2. otherwise a synthesis of the CDK app into ``.cache/local-runtime/<digest of the inputs>``, reused
   until an input changes. It runs the app command of ``cdk.json`` the way the CDK CLI does
   (``CDK_OUTDIR``, ``CDK_CONTEXT_JSON`` with the context of ``cdk.json``), without the node CLI,
   and with asset bundling switched off (``aws:cdk:bundling-stacks: []``): the local runtime runs the
   handlers from this checkout, so the pip install that builds the Lambda asset is not needed.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(".cache") / "local-runtime"
SYNTH_FILES = ("app.py", "cdk.json", "cdk.context.json", "requirements.txt")
SYNTH_DIRS = ("infra", "lambdas")
IGNORED_PARTS = ("__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis")
SYNTH_TIMEOUT_SECONDS = 300
KEEP_CACHED = 3


class AssemblyError(RuntimeError):
    """No usable cloud assembly, or the synthesis failed."""


@dataclass(frozen=True)
class StackTemplate:
    artifact_id: str
    name: str  # the CloudFormation stack name
    template: dict
    dependencies: tuple[str, ...] = ()  # artifact ids of the stacks this one depends on


@dataclass(frozen=True)
class Assembly:
    stacks: tuple[StackTemplate, ...]  # dependencies first
    source: str  # where the templates came from, for the report

    @property
    def names(self) -> list[str]:
        return [stack.name for stack in self.stacks]

    def stack(self, name: str) -> StackTemplate:
        for stack in self.stacks:
            if stack.name == name:
                return stack
        raise AssemblyError(f"no stack named {name!r} (stacks: {', '.join(self.names)})")

    def editable(self) -> Assembly:
        """A deep copy whose templates may be changed (tests that break the template)."""
        return replace(
            self, stacks=tuple(replace(s, template=copy.deepcopy(s.template)) for s in self.stacks)
        )

    def resources(self, kind: str) -> Iterator[tuple[StackTemplate, str, dict]]:
        for stack in self.stacks:
            for logical_id, definition in stack.template.get("Resources", {}).items():
                if definition.get("Type") == kind:
                    yield stack, logical_id, definition


# ------------------------------------------------------------------------------------------ loading


def load(directory: Path, source: str | None = None) -> Assembly:
    """Read the stacks of a cloud assembly directory (nested assemblies included)."""
    directory = Path(directory)
    if not (directory / "manifest.json").is_file():
        raise AssemblyError(f"{directory} is not a cloud assembly (no manifest.json)")
    stacks = list(_stacks(directory))
    if not stacks:
        raise AssemblyError(f"{directory} holds no CloudFormation stack")
    return Assembly(tuple(_dependency_order(stacks)), source or str(directory))


def _stacks(directory: Path) -> Iterator[StackTemplate]:
    manifest = json.loads((directory / "manifest.json").read_text())
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties") or {}
        kind = artifact.get("type")
        if kind == "aws:cloudformation:stack":
            template = json.loads((directory / properties["templateFile"]).read_text())
            yield StackTemplate(
                artifact_id=artifact_id,
                name=properties.get("stackName") or artifact.get("displayName") or artifact_id,
                template=template,
                dependencies=tuple(artifact.get("dependencies") or ()),
            )
        elif kind == "cdk:cloud-assembly":  # a Stage: its stacks live in a nested assembly
            yield from _stacks(directory / properties["directoryName"])


def _dependency_order(stacks: list[StackTemplate]) -> list[StackTemplate]:
    by_id = {stack.artifact_id: stack for stack in stacks}
    ordered: list[StackTemplate] = []
    seen: set[str] = set()

    def visit(stack: StackTemplate, path: tuple[str, ...]) -> None:
        if stack.artifact_id in seen:
            return
        if stack.artifact_id in path:
            raise AssemblyError(f"stack dependency cycle: {' -> '.join(path)}")
        for dependency in stack.dependencies:
            if dependency in by_id:
                visit(by_id[dependency], (*path, stack.artifact_id))
        seen.add(stack.artifact_id)
        ordered.append(stack)

    for stack in stacks:
        visit(stack, ())
    return ordered


# ----------------------------------------------------------------------------------------- locating


def locate(
    root: Path = ROOT,
    *,
    prefer_cdk_out: bool = True,
    log: Callable[[str], None] | None = None,
    context: dict[str, str] | None = None,
) -> Assembly:
    """The assembly for this checkout: a fresh ``cdk.out``, else a (cached) synthesis. ``context``:
    values on top of cdk.json's (``-c key=value``), synthesized and cached apart."""
    root = Path(root)
    cdk_out = root / "cdk.out"
    if prefer_cdk_out and not context and _is_fresh(cdk_out, root):
        return load(cdk_out, "cdk.out")
    if not (root / "cdk.json").is_file():
        raise AssemblyError(
            f"no cdk.out and no cdk.json in {root}: nothing to read the stacks from (run `make synth`)"
        )
    return synthesize_cached(root, log=log, context=context)


def synthesis_inputs(root: Path) -> list[Path]:
    files = [root / name for name in SYNTH_FILES if (root / name).is_file()]
    for directory in SYNTH_DIRS:
        files += sorted(
            path
            for path in (root / directory).rglob("*")
            if path.is_file()
            and not any(part in IGNORED_PARTS for part in path.parts)
            and path.suffix != ".pyc"
        )
    return files


def input_digest(root: Path, context: dict[str, str] | None = None) -> str:
    digest = hashlib.sha256(json.dumps(context or {}, sort_keys=True).encode())
    for path in synthesis_inputs(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _is_fresh(cdk_out: Path, root: Path) -> bool:
    manifest = cdk_out / "manifest.json"
    if not manifest.is_file():
        return False
    built = manifest.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in synthesis_inputs(root))


def synthesize_cached(
    root: Path, *, log: Callable[[str], None] | None = None, context: dict[str, str] | None = None
) -> Assembly:
    """Synthesize into the cache unless this exact input was synthesized before."""
    cache = root / CACHE
    digest = input_digest(root, context)[:16]
    target = cache / digest
    source = f"{CACHE / digest} ({_app_command(root)[-1]} synthesized, bundling skipped)"
    if (target / "manifest.json").is_file():
        return load(target, source)
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / ".lock"):  # parallel test workers synthesize once
        if not (target / "manifest.json").is_file():
            if log:
                log(f"synthesizing the CDK app into {CACHE / digest} (no bundling, takes a few seconds)...")
            scratch = Path(tempfile.mkdtemp(prefix="synth-", dir=cache))
            try:
                synthesize(root, scratch, context)
                scratch.rename(target)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            _prune(cache, keep=target)
    return load(target, source)


def synthesize(root: Path, outdir: Path, extra_context: dict[str, str] | None = None) -> None:
    """Run the CDK app like ``cdk synth`` does, but without the CLI and without asset bundling."""
    config = json.loads((root / "cdk.json").read_text())
    context = dict(config.get("context", {}))
    context_file = root / "cdk.context.json"
    if context_file.is_file():
        context.update(json.loads(context_file.read_text()))
    context.update(extra_context or {})
    context["aws:cdk:bundling-stacks"] = []  # no stack needs its assets built
    environment = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    # The app command is trusted: it is this repository's own cdk.json.
    result = subprocess.run(  # noqa: S603
        _app_command(root),
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0 or not (outdir / "manifest.json").is_file():
        output = (result.stdout + result.stderr).strip().splitlines()
        raise AssemblyError("synthesis failed:\n" + "\n".join(output[-30:]))


def _app_command(root: Path) -> list[str]:
    config = json.loads((root / "cdk.json").read_text())
    command = shlex.split(config["app"])
    # ".venv/bin/python app.py": run it with this interpreter, which is that virtualenv's.
    if Path(command[0]).name.startswith("python"):
        command[0] = sys.executable
    return command


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _prune(cache: Path, keep: Path) -> None:
    entries = sorted(
        (p for p in cache.iterdir() if p.is_dir() and p != keep and not p.name.startswith("synth-")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[KEEP_CACHED - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)
