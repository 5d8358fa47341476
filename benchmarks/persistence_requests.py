"""What persistence costs a small request, and how that grows with unrelated state.

Starts one emulator on a fresh state folder and prints, in milliseconds (medians):

- send_message_ms: SQS SendMessage (written before it is answered);
- send_message_after_logs_ms: the same once CloudWatch Logs holds ``--log-events`` events
  (state of another service: it should cost nothing here);
- idle_cpu_ms_per_s: the emulator's CPU while nobody calls it, measured after ``--settle`` s.

Run: ``.venv/bin/python benchmarks/persistence_requests.py`` (about a minute);
``--ephemeral`` for the same figures without persistence.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from scones.emulator import EmulatorProcess


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _send_ms(sqs, queue_url: str, count: int) -> float:
    times = []
    for i in range(count):
        started = time.perf_counter()
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"message {i}")
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--log-events", type=int, default=40_000)
    parser.add_argument("--settle", type=float, default=35.0, help="seconds idle before the idle CPU is measured")
    parser.add_argument("--ephemeral", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        emulator = EmulatorProcess(state_dir=None if args.ephemeral else Path(folder) / "aws-state").start()
        try:
            session = emulator.session()
            sqs, logs = session.client("sqs"), session.client("logs")
            queue_url = sqs.create_queue(QueueName="bench")["QueueUrl"]
            _send_ms(sqs, queue_url, 20)  # warm up
            print(f"send_message_ms: {_send_ms(sqs, queue_url, args.messages):.2f}")
            logs.create_log_group(logGroupName="bench")
            logs.create_log_stream(logGroupName="bench", logStreamName="s")
            now = int(time.time() * 1000)
            for start in range(0, args.log_events, 5000):
                logs.put_log_events(
                    logGroupName="bench",
                    logStreamName="s",
                    logEvents=[
                        {"timestamp": now, "message": f"event {i} " + "x" * 60}
                        for i in range(start, min(start + 5000, args.log_events))
                    ],
                )
            print(
                f"send_message_after_logs_ms ({args.log_events} log events): {_send_ms(sqs, queue_url, args.messages):.2f}"
            )
            assert emulator.pid is not None
            time.sleep(args.settle)
            before, started = _cpu_seconds(emulator.pid), time.monotonic()
            time.sleep(10)
            print(
                f"idle_cpu_ms_per_s: {1000 * (_cpu_seconds(emulator.pid) - before) / (time.monotonic() - started):.1f}"
            )
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
