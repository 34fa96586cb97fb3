"""``bin/cisctl``: enqueue invitations and cancellations, inspect events and dead letters."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from cisctl import ops, render
from cisctl.requests import (
    cancellations_from_flags,
    conflicting_flags,
    from_file,
    invite_from_flags,
    validate,
)
from cisctl.target import DEFAULT_STACKS, OPTIONAL_QUEUES, QUEUES, CliError, Target
from lambdas.domain.items import as_dict

PROG = "bin/cisctl"
EXAMPLES = f"""
where the commands go:
  (default)             the deployed stacks, found by name in your AWS account and region
  --local               the local runtime started by `make serve`
  --endpoint-url URL    any AWS-compatible endpoint (a moto server, LocalStack...)

examples:
  {PROG} --local invite --uid kickoff@example.com --summary "Project kickoff" \\
      --start 2026-12-01T10:00:00 --end 2026-12-01T11:00:00 --timezone Europe/Paris \\
      --organizer "Alice Martin <alice@example.com>" \\
      --attendee "Ana Lima <ana@example.org>" --attendee ben@example.org
  {PROG} --local invite --uid kickoff@example.com --attendee carla@example.org
  {PROG} --local invite --file request.json
  {PROG} --local cancel --uid kickoff@example.com
  {PROG} --local status kickoff@example.com
  {PROG} --local suppressed kickoff@example.com
  {PROG} --local receive saved-answer.eml
  {PROG} --region eu-west-1 dlq
  {PROG} --region eu-west-1 dlq --queue invite --redrive
"""


def _common() -> argparse.ArgumentParser:
    """Options accepted before or after the command (defaults applied in main)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("target")
    group.add_argument(
        "--local",
        action="store_true",
        default=argparse.SUPPRESS,
        help="use the local runtime (make serve)",
    )
    group.add_argument("--endpoint-url", metavar="URL", default=argparse.SUPPRESS, help="use this endpoint")
    group.add_argument(
        "--stack",
        action="append",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="stack whose outputs name the queues and table; repeatable"
        f" (default: {', '.join(DEFAULT_STACKS)})",
    )
    group.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (default: your configuration)")
    group.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile of the deployed stacks")
    return common


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operate the Calendar Invite Server: enqueue invitations and cancellations,"
        " show an event's state, list and redrive dead letters.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    invite = commands.add_parser(
        "invite",
        parents=[common],
        help="enqueue an invitation (or an update: a higher --sequence)",
        description="Enqueue an invitation on the invite queue. Several --attendee flags make one"
        " fan-out request, which the function splits into one request per attendee. --uid with"
        " --attendee and no other detail adds attendees to the stored event (one created earlier, or"
        " from the organizer's calendar): they get it as stored, at its stored sequence.",
    )
    invite.add_argument("--file", metavar="PATH", help="a JSON request (or a list of them); '-' reads stdin")
    invite.add_argument(
        "--uid",
        help="the event's unique id, e.g. kickoff-2026@example.com; alone with --attendee: add"
        " attendees to the stored event",
    )
    invite.add_argument("--summary", help="the event's title")
    invite.add_argument(
        "--start", help="2026-12-01T15:00:00Z, 2026-12-01T10:00:00 with --timezone, or 2026-12-24"
    )
    invite.add_argument("--end", help="same form as --start (exclusive for all-day events)")
    invite.add_argument("--timezone", help="IANA zone of local --start/--end times, e.g. Europe/Paris")
    invite.add_argument("--organizer", help="'Name <email>' or 'email'")
    invite.add_argument(
        "--attendee", action="append", default=[], help="'Name <email>' or 'email'; repeatable"
    )
    invite.add_argument(
        "--sequence", type=_non_negative, help="0 for the invitation (default), higher for updates"
    )
    invite.add_argument("--description")
    invite.add_argument("--location")
    invite.add_argument(
        "--rrule", help="a recurring series: an RRULE value, e.g. 'FREQ=WEEKLY;BYDAY=TU;COUNT=8'"
    )
    invite.add_argument(
        "--exdate",
        action="append",
        default=[],
        help="an occurrence start to leave out (like --start); repeatable",
    )
    invite.add_argument(
        "--occurrence",
        help="change one occurrence of a series: its original start (like --start);"
        " --start/--end are its new times",
    )
    _sending_flags(invite)

    cancel = commands.add_parser(
        "cancel",
        parents=[common],
        help="enqueue a cancellation of an event, or of some attendees",
        description="Enqueue a cancellation on the cancellation queue. Without --attendee the whole event is"
        " cancelled for everyone invited (with --occurrence, only that occurrence is cancelled for everyone"
        " invited to it); with --attendee, each attendee is removed from an event that"
        " goes on for the others (one request per attendee).",
    )
    cancel.add_argument("--file", metavar="PATH", help="a JSON request (or a list of them); '-' reads stdin")
    cancel.add_argument("--uid", help="the event's unique id")
    cancel.add_argument("--sequence", type=_non_negative, help="default: above anything sent for the event")
    cancel.add_argument(
        "--attendee", action="append", default=[], help="'Name <email>' or 'email'; repeatable"
    )
    cancel.add_argument(
        "--occurrence",
        help="cancel one occurrence of a series: its original start (like the series' --start)",
    )
    cancel.add_argument(
        "--scope",
        choices=("event", "attendee"),
        help="event: the whole event is cancelled for everyone (no --attendee); attendee: each --attendee"
        " is removed from an event that goes on (the default with --attendee)",
    )
    _sending_flags(cancel)

    status = commands.add_parser(
        "status",
        parents=[common],
        help="show an event, its counters, answers and delivery, and its attendees",
    )
    status.add_argument("uid", help="the event's unique id")
    status.add_argument("--json", action="store_true", help="print the items as JSON")

    suppressed = commands.add_parser(
        "suppressed",
        parents=[common],
        help="list the attendees of an event whose address hard-bounced or complained",
        description="List the attendees of an event that nothing more is sent to: their address"
        " bounced for good or its owner reported an email as spam (docs/feedback.md). Exit 0, also"
        " when there are none.",
    )
    suppressed.add_argument("uid", help="the event's unique id")
    suppressed.add_argument("--json", action="store_true", help="print the attendee items as JSON")

    receive = commands.add_parser(
        "receive",
        parents=[common],
        help="feed a saved email (.eml) to the local runtime's SES receiving",
        description="Play SES email receiving with a raw email, for example an answer saved from your"
        " mail client: the active receipt rule stores it in its bucket and notifies its topic, and the"
        " local runtime delivers it to the function the reply queue feeds. Only with --local or"
        " --endpoint-url: against a deployed account it would forge SES's notification.",
    )
    receive.add_argument("file", metavar="FILE.eml", help="the raw email ('-' reads stdin)")
    receive.add_argument(
        "--recipient", help="the envelope recipient (default: the receipt rule's first, the RSVP address)"
    )
    receive.add_argument(
        "--verdict",
        action="append",
        metavar="CHECK=STATUS",
        help="SES's verdict for spam, virus, spf, dkim or dmarc (default PASS), e.g. dmarc=FAIL; repeatable",
    )

    dlq = commands.add_parser(
        "dlq",
        parents=[common],
        help="list the dead-letter queues, or redrive them",
        description=f"List the messages of the dead-letter queues ({', '.join(QUEUES)})"
        " with the reason they were rejected, or move them back to their source queue (--redrive)"
        " once the cause is fixed.",
    )
    dlq.add_argument("--queue", choices=(*QUEUES, "cancel", "all"), default="all")
    dlq.add_argument("--redrive", action="store_true", help="move the messages back to their source queue")
    dlq.add_argument(
        "--id", action="append", metavar="MESSAGE_ID", help="only these messages (with --redrive)"
    )
    dlq.add_argument("--limit", type=_positive, default=100, help="at most this many messages per queue")
    dlq.add_argument("--json", action="store_true", help="print the messages as JSON")
    return parser


def _sending_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-validate", action="store_true", help="enqueue even if the request breaks the message contract"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the request(s) instead of enqueueing")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed by argparse
        return int(exit_.code or 0)
    try:
        return _run(args)
    except CliError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.code
    except (ClientError, BotoCoreError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1


def _target(args) -> Target:
    local = getattr(args, "local", False)
    endpoint = getattr(args, "endpoint_url", None)
    stacks = tuple(getattr(args, "stack", None) or ())
    region = getattr(args, "region", None)
    profile = getattr(args, "profile", None)
    if local and endpoint:
        raise CliError("--local and --endpoint-url are exclusive", code=2)
    if profile and (local or endpoint):
        raise CliError("--profile applies to deployed stacks, not to --local or --endpoint-url", code=2)
    if local:
        return Target.local(region=region, stacks=stacks or None)
    if endpoint:
        return Target.endpoint(endpoint, region=region, stacks=stacks or DEFAULT_STACKS)
    return Target.deployed(region=region, profile=profile, stacks=stacks or DEFAULT_STACKS)


def _run(args) -> int:
    if args.command in ("invite", "cancel"):
        return _send(args)
    target = _target(args)
    if args.command == "status":
        status = ops.event_status(target, args.uid)
        if not status.found:
            raise CliError(f"no event with uid {args.uid!r} in table {target.table_name()}")
        if args.json:
            print(json.dumps(status.as_dict(), indent=2, ensure_ascii=False, default=str))
        else:
            print("\n".join(render.event_lines(status)))
        return 0
    if args.command == "suppressed":
        return _suppressed(args, target)
    if args.command == "receive":
        return _receive(args, target)
    return _dlq(args, target)


def _suppressed(args, target: Target) -> int:
    attendees = ops.suppressed(target, args.uid)
    if args.json:
        print(json.dumps([as_dict(a) for a in attendees], indent=2, ensure_ascii=False))
    else:
        print("\n".join(render.suppressed_lines(args.uid, attendees)))
    return 0


def _receive(args, target: Target) -> int:
    ops.require_emulated(target)
    verdicts = {}
    for entry in args.verdict or ():
        check, sep, status = entry.partition("=")
        if not sep or not check or not status:
            raise CliError(f"--verdict {entry!r}: expected CHECK=STATUS, e.g. dmarc=FAIL", code=2)
        verdicts[check.strip().lower()] = status.strip().upper()
    raw = sys.stdin.buffer.read() if args.file == "-" else _read_bytes(args.file)
    for receipt in ops.receive(target, raw, recipient=args.recipient, verdicts=verdicts):
        where = f"s3://{receipt.bucket}/{receipt.key}"
        notified = f", notified {receipt.topic_arn}" if receipt.topic_arn else ""
        print(f"received for {receipt.recipient}: stored {where}{notified}")
    return 0


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}", code=2) from None


def _send(args) -> int:
    kind = "invite" if args.command == "invite" else "cancellation"
    if args.file:
        names = ("uid", "summary", "start", "end", "timezone", "organizer", "attendee", "sequence")
        names += ("description", "location", "scope")
        conflicting = conflicting_flags(args, names)
        if conflicting:
            raise CliError(f"--file cannot be combined with {', '.join(conflicting)}", code=2)
        bodies = from_file(args.file)
    elif kind == "invite":
        bodies = [invite_from_flags(args)]
    else:
        bodies = cancellations_from_flags(args)
    if not args.no_validate:
        validate(kind, bodies)
    if args.dry_run:
        for body in bodies:
            print(json.dumps(body, indent=2, ensure_ascii=False))
        return 0
    target = _target(args)
    for sent in ops.enqueue(target, kind, bodies):
        queue = sent.queue_url.rpartition("/")[2]
        print(f"enqueued {_describe(kind, sent.body)} on {queue} (message {sent.message_id})")
    return 0


def _describe(kind: str, body: dict) -> str:
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    uid = event.get("uid", "?")
    if kind == "invite":
        attendees = body.get("attendees")
        who = f"{len(attendees)} attendees" if isinstance(attendees, list) else _email(body.get("attendee"))
        if set(event) == {"uid"}:
            return f"invite for {uid} (the stored event, at its stored sequence) to {who}"
        return f"invite for {uid} (sequence {event.get('sequence', 0)}) to {who}"
    occurrence = event.get("occurrence")
    if occurrence:
        # Say "to it": a bare "for everyone invited" reads as the whole event being cancelled.
        who = _email(body.get("attendee")) if "attendee" in body else "everyone invited to it"
        return f"cancellation of the occurrence {occurrence} of {uid} (that occurrence only) for {who}"
    who = _email(body.get("attendee")) if "attendee" in body else "everyone invited"
    return f"cancellation of {uid} for {who}"


def _email(person) -> str:
    return person.get("email", "?") if isinstance(person, dict) else "?"


def _dlq(args, target: Target) -> int:
    if args.id and not args.redrive:
        raise CliError("--id selects messages to redrive; add --redrive", code=2)
    kinds = ops.queue_kinds(args.queue)
    if args.queue in (None, "all"):
        kinds, absent = ops.deployed_kinds(target, kinds)
        for kind in absent:
            print(f"note: no {kind} queue: {OPTIONAL_QUEUES[kind]}", file=sys.stderr)
    if args.redrive:
        ids = set(args.id) if args.id else None
        results = [ops.redrive(target, kind, ids, args.limit) for kind in kinds]
        if args.json:
            print(
                json.dumps(
                    [
                        {"queue": r.kind, "moved": [m.message_id for m in r.moved], "left": r.left}
                        for r in results
                    ],
                    indent=2,
                )
            )
            return 0
        for result in results:
            queue = result.source_url.rpartition("/")[2]
            noun = "message" if len(result.moved) == 1 else "messages"
            print(f"{result.kind}: moved {len(result.moved)} {noun} back to {queue}")
            for letter in result.moved:
                if letter.reason:
                    print(f"  {letter.message_id} had been rejected: {letter.reason}")
        return 0
    listed = ops.dead_letters(target, kinds, args.limit)
    if args.json:
        print(
            json.dumps({kind: [m.as_dict() for m in letters] for kind, letters in listed.items()}, indent=2)
        )
        return 0
    for kind, letters in listed.items():
        print("\n".join(render.dead_letter_lines(kind, target.dlq_url(kind), letters)))
    return 0
