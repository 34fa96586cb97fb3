"""bin/cisctl, the way the docs run the tool: from a fresh shell, any directory, no virtualenv activated."""

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "bin" / "cisctl"
# A fresh shell: no virtualenv on PATH, no PYTHONPATH, nothing that would make `python -m cisctl` work.
FRESH_SHELL = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "LANG": "C.UTF-8"}


def run(*args: str, cwd: Path, wrapper: Path = WRAPPER) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(wrapper), *args], cwd=cwd, env=FRESH_SHELL, capture_output=True, text=True, timeout=60
    )


def test_runs_the_tool_from_another_directory(tmp_path):
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: bin/cisctl")
    assert "dlq" in result.stdout


def test_a_relative_file_is_read_from_where_it_runs(tmp_path):
    request = {
        "event": {
            "uid": "kickoff@example.com",
            "summary": "Kickoff",
            "start": "2026-12-01T10:00:00Z",
            "end": "2026-12-01T11:00:00Z",
            "organizer": {"email": "alice@example.com"},
        },
        "attendee": {"email": "ana@example.org"},
    }
    (tmp_path / "request.json").write_text(json.dumps(request))
    result = run("invite", "--dry-run", "--file", "request.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "kickoff@example.com" in result.stdout


def test_a_checkout_without_its_virtualenv_says_what_to_run(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "bin").mkdir(parents=True)
    wrapper = checkout / "bin" / "cisctl"
    shutil.copy2(WRAPPER, wrapper)
    result = run("--help", cwd=tmp_path, wrapper=wrapper)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{checkout}/.venv is missing: run `make install` in {checkout} first" in result.stderr
