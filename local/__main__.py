"""``python -m local demo`` (what ``make demo`` runs) and ``python -m local serve``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from local import assembly as assemblies
from local.outbox import Outbox
from local.runtime import LocalRuntime, RuntimeProblem
from local.template import TemplateError

WORK_DIR = assemblies.ROOT / ".local-runtime"  # cisctl --local finds state.json here
OUTBOX = assemblies.ROOT / "outbox"
IDLE_SECONDS = 0.2
# After SIGTERM, how long the threads of an abandoned invocation get to notice that their
# environment is reset (their next AWS call raises) before the process exits regardless.
STOP_GRACE_SECONDS = 2.0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local",
        description="Run the Calendar Invite Server on this machine, driven by the synthesized stacks,"
        " on a moto server: no AWS account, no Docker.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser("demo", help="play the demo scenario and print its report (make demo)")
    serve = commands.add_parser("serve", help="keep a local runtime up for `bin/cisctl --local`")
    serve.add_argument("--port", type=int, default=0, help="port of the moto server (default: a free one)")
    for command in (demo, serve):
        command.add_argument("--cdk-out", type=Path, metavar="DIR", help="read this cloud assembly")
        command.add_argument("--synth", action="store_true", help="synthesize even if cdk.out is up to date")
        command.add_argument("--outbox", type=Path, default=OUTBOX, help="where sent emails are written")
        command.add_argument(
            "--work-dir", type=Path, default=WORK_DIR, help="function logs and runtime state"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    running = _running_serve(args)
    if running:
        print(f"python -m local: error: {running}", file=sys.stderr)
        return 1
    try:
        if args.cdk_out:
            cloud_assembly = assemblies.load(args.cdk_out)
        else:
            # The demo's stacks have an event address, so it can show events run from a calendar.
            context = _demo_context() if args.command == "demo" else None
            cloud_assembly = assemblies.locate(prefer_cdk_out=not args.synth, log=_progress, context=context)
        if args.command == "demo":
            return _demo(args, cloud_assembly, started)
        return _serve(args, cloud_assembly)
    except (assemblies.AssemblyError, RuntimeProblem, TemplateError) as error:
        print(f"python -m local: error: {error}", file=sys.stderr)
        return 1


def _demo_context() -> dict[str, str]:
    from local.demo_organizer import CONTEXT

    return CONTEXT


def _running_serve(args) -> str | None:
    """Why this command must not start: a live ``serve`` whose outbox (or state file) it would take.

    Both commands empty their outbox when they start, and ``serve`` rewrites, then removes, the
    state file ``cisctl --local`` reads: running one beside a live ``serve`` on the same
    directories would silently wipe the emails it wrote. A state file left by a killed ``serve``
    (its pid gone) is no obstacle."""
    outbox = args.outbox.resolve()
    for state_file in dict.fromkeys((args.work_dir / "state.json", WORK_DIR / "state.json")):
        try:
            state = json.loads(state_file.read_text())
            pid = int(state["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if pid == os.getpid() or not _alive(pid):
            continue
        same_outbox = Path(state.get("outbox", "")).resolve() == outbox
        same_state = (
            args.command == "serve" and state_file.resolve() == (args.work_dir / "state.json").resolve()
        )
        if same_outbox or same_state:
            return (
                f"`python -m local serve` (pid {pid}, {state_file}) is running with outbox"
                f" {state.get('outbox')}; stop it first, or give this command its own"
                " --outbox DIR and --work-dir DIR"
            )
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, under another user
        return True
    return True


def _demo(args, cloud_assembly, started: float) -> int:
    from local import demo

    with LocalRuntime(cloud_assembly, work_dir=args.work_dir) as runtime:
        result = demo.run(runtime, Outbox(args.outbox))
        print(demo.report(result, runtime), end="")
    _progress(f"(demo finished in {time.monotonic() - started:.1f} s)")
    return 1 if result.defects else 0


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


def _serve(args, cloud_assembly) -> int:
    # Ctrl-C or a plain kill stops it cleanly (state file removed), also when started in background.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    code = _run_served(args, cloud_assembly)
    _exit_without_waiting_for_abandoned_work(code)
    return code


def _exit_without_waiting_for_abandoned_work(code: int) -> None:
    """Exit within seconds, as a stopped Lambda environment does.

    An invocation interrupted by the signal is abandoned (local/execution.py): its worker threads
    stop at their next AWS call. Python would still join them at exit, and one in a long back-off
    or a read timeout kept the process alive for minutes. Past a short grace, they are left."""
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    if any(
        t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.current_thread()
    ):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run_served(args, cloud_assembly) -> int:
    runtime = LocalRuntime(cloud_assembly, work_dir=args.work_dir, port=args.port)
    state_file = args.work_dir / "state.json"
    outbox = Outbox(args.outbox)
    with runtime:
        outbox.clear()
        state = {
            "endpoint": runtime.endpoint,
            "region": runtime.region,
            "stacks": cloud_assembly.names,
            "pid": os.getpid(),
            "outbox": str(args.outbox),
        }
        state_file.write_text(json.dumps(state, indent=2))
        print(f"Local runtime on {runtime.endpoint} (stacks {', '.join(cloud_assembly.names)})")
        for mapping in runtime.mappings:
            print(f"  {mapping.function.label} <- {mapping.queue.name}")
        for rule in runtime.inventory.receipt_rules:
            mailboxes = ", ".join(rule.recipients) or "any recipient"
            print(f"  SES receiving for {mailboxes}: bin/cisctl --local receive FILE.eml")
        print(f"Emails go to {args.outbox}/, function logs to {runtime.log_dir}/.")
        print("Try: bin/cisctl --local --help      (Ctrl-C stops)", flush=True)
        try:
            while True:
                invocations = runtime.poll_once()
                for invocation in invocations:
                    outcomes = ", ".join(f"{o} {n}" for o, n in sorted(invocation.outcomes.items()))
                    failed = (
                        f", {len(invocation.failed)} back after the visibility timeout"
                        f" ({invocation.queue.visibility_timeout} s)"
                        if invocation.failed
                        else ""
                    )
                    error = f", error: {invocation.error}" if invocation.error else ""
                    print(
                        f"{invocation.function.label}: {len(invocation.message_ids)} record(s): "
                        f"{outcomes or 'no outcome'}{failed}{error}",
                        flush=True,
                    )
                for sent in runtime.new_emails():
                    written = outbox.write(sent)
                    print(
                        f"  email to {sent.recipient}: {sent.method} SEQUENCE {sent.sequence}"
                        f" -> {written.eml}"
                    )
                if not invocations:
                    time.sleep(IDLE_SECONDS)
        except KeyboardInterrupt:
            print("stopped")
        finally:
            with contextlib.suppress(FileNotFoundError):
                state_file.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
