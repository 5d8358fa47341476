"""``scones monitor analyze``: the monitor DAG's analysis of one window, from a terminal."""

from __future__ import annotations

import argparse
import sys

EXIT_VIOLATIONS = 3  # with --fail-on-violations: distinct from 1 (could not run)


def analyze(args: argparse.Namespace) -> int:
    from scones.errors import SconesError
    from scones.monitoring.analyze import analyze_capture
    from scones.monitoring.checks import Thresholds
    from scones.monitoring.drift import load_baseline
    from scones.monitoring.report import build_report, format_summary, write_report
    from scones.monitoring.sinks import LocalSink
    from scones.monitoring.window import Window
    from scones.settings import load_settings

    try:
        settings = load_settings({"classes": args.classes, "confidence_threshold": args.threshold})
        is_s3 = args.input.startswith("s3://")
        s3 = None
        if is_s3 or (args.baseline or "").startswith("s3://"):
            import boto3

            s3 = boto3.client("s3")  # honours AWS_ENDPOINT_URL: AWS or the local emulator
        if args.start or args.end or is_s3:
            # S3 is only ever read by hourly partitions, so it always needs a window.
            window = Window.around(args.start, args.end)
        else:
            window = None  # a local folder without bounds: every record in it
        thresholds_args = {"confidence_threshold": settings.confidence_threshold}
        if args.max_low_confidence_rate is not None:
            thresholds_args["max_low_confidence_rate"] = args.max_low_confidence_rate
        thresholds = Thresholds(**thresholds_args)
        baseline = load_baseline(args.baseline, settings.classes, s3=s3) if args.baseline else None
        if window is not None:
            print(f"window: {window.start.isoformat()} to {window.end.isoformat()} (end excluded)", file=sys.stderr)
        analysis = analyze_capture(
            args.input,
            window,
            classes=settings.classes,
            thresholds=thresholds,
            baseline=baseline,
            s3=s3,
            workers=args.workers,
            endpoint=args.endpoint or "",
        )
        written = write_report(analysis, LocalSink(args.out))
    except SconesError as exc:
        print(f"scones monitor analyze: {exc}", file=sys.stderr)
        return 1
    print(format_summary(build_report(analysis)))
    print(f"wrote {len(written)} files to {args.out} (open {written['report.html']})")
    return EXIT_VIOLATIONS if args.fail_on_violations and not analysis.ok else 0


def register(sub: argparse._SubParsersAction) -> None:
    monitor = sub.add_parser("monitor", help="analyse the endpoint's captured inferences")
    commands = monitor.add_subparsers(dest="monitor_command", required=True, metavar="COMMAND")
    p = commands.add_parser(
        "analyze",
        help="confidence statistics, drift, plots and a report for one window",
        description="Read SageMaker Data Capture for a window and write report.json, "
        "statistics.json, constraint_violations.json, PNG plots and report.html to --out.",
    )
    p.add_argument(
        "--input",
        required=True,
        metavar="URI",
        help="s3://bucket/<capture prefix>[/<endpoint>[/<variant>]] or a local folder (searched for .jsonl)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the report and plots")
    p.add_argument("--threshold", type=float, help="confidence threshold (default 0.93)")
    p.add_argument("--start", metavar="ISO", help="window start, UTC unless an offset is given (included)")
    p.add_argument(
        "--end",
        metavar="ISO",
        help="window end (excluded); default 24 h after --start, "
        "or for S3 without bounds the 24 h up to the end of the current hour",
    )
    p.add_argument("--classes", help="comma-separated class names in label order (default bicycle,motorcycle)")
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="validation probabilities JSON or an earlier statistics.json (local or s3://)",
    )
    p.add_argument("--max-low-confidence-rate", type=float, help="flag the window above this share (default 0.25)")
    p.add_argument("--endpoint", help="endpoint name shown in the report")
    p.add_argument("--workers", type=int, help="decoding processes (default: all cores)")
    p.add_argument("--fail-on-violations", action="store_true", help=f"exit {EXIT_VIOLATIONS} if any check fails")
    p.set_defaults(func=analyze)
