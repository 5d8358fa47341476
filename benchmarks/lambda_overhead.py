"""Lambda invocation overhead on the local emulator: a trivial function, cold and warm.

The function returns its event, so what an Invoke costs is the emulator's overhead. Prints, in
milliseconds (medians; p95 for warm):

- cold_invoke_ms: an Invoke that has to start a worker (new configuration each time, so the
  pool starts a fresh python process and imports the handler); cold_init_ms is the REPORT
  line's Init Duration of those invocations;
- warm_invoke_ms / warm_invoke_p95_ms: Invokes answered by a warm worker, one after another;
- http_round_trip_ms: GetFunction through the same boto3 client and server, the floor of any
  emulator call; executor_overhead_ms, warm_invoke_ms minus it, is what running the
  handler in a warm worker adds (the pipe to the worker, its log lines to CloudWatch);
- warm_invocations_per_s at ``--threads`` concurrent clients (bounded by max_concurrency).

Run: ``.venv/bin/python benchmarks/lambda_overhead.py`` (starts its own emulator; about 30 s),
or pass ``--endpoint-url`` of a running ``scones local-aws``.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import statistics
import time
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

from scones.emulator import EmulatorProcess, EndpointSession

TRIVIAL = "def handler(event, context):\n    return event\n"
_INIT = re.compile(r"Init Duration: ([0-9.]+) ms")


def trivial_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", TRIVIAL)
    return buffer.getvalue()


def timed(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", help="a running emulator (default: start one)")
    parser.add_argument("--cold", type=int, default=10, help="cold invocations")
    parser.add_argument("--warm", type=int, default=300, help="warm invocations")
    parser.add_argument("--threads", type=int, default=8, help="concurrent clients for the throughput figure")
    args = parser.parse_args()

    with ExitStack() as stack:
        endpoint = args.endpoint_url or stack.enter_context(EmulatorProcess()).endpoint_url
        session = EndpointSession(endpoint)
        client = session.client("lambda")
        role = session.client("iam").create_role(
            RoleName=f"bench-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps({})
        )["Role"]["Arn"]
        name = f"bench-trivial-{uuid.uuid4().hex[:8]}"
        client.create_function(
            FunctionName=name, Runtime="python3.11", Handler="app.handler", Role=role, Code={"ZipFile": trivial_zip()}
        )
        event = json.dumps({"ping": 1}).encode()

        cold, init = [], []
        for attempt in range(args.cold):
            # A new configuration retires the warm workers: the next Invoke starts a new one.
            client.update_function_configuration(FunctionName=name, Environment={"Variables": {"RUN": str(attempt)}})
            ms, response = timed(lambda: client.invoke(FunctionName=name, Payload=event, LogType="Tail"))
            cold.append(ms)
            report = base64.b64decode(response["LogResult"]).decode()  # type: ignore[index]
            init.append(float(_INIT.search(report).group(1)))  # type: ignore[union-attr]

        for _ in range(20):  # settle: connection pool, caches
            client.invoke(FunctionName=name, Payload=event)["Payload"].read()
        warm = [
            timed(lambda: client.invoke(FunctionName=name, Payload=event)["Payload"].read())[0]
            for _ in range(args.warm)
        ]
        http = [timed(lambda: client.get_function(FunctionName=name))[0] for _ in range(args.warm // 3)]

        clients = [session.client("lambda") for _ in range(args.threads)]
        per_thread = max(args.warm // args.threads, 10)

        def burst(c) -> None:
            for _ in range(per_thread):
                c.invoke(FunctionName=name, Payload=event)["Payload"].read()

        burst_ms, _ = timed(lambda: list(ThreadPoolExecutor(args.threads).map(burst, clients)))

    print(f"cold_invoke_ms: {statistics.median(cold):.1f}")
    print(f"cold_init_ms: {statistics.median(init):.1f}")
    print(f"warm_invoke_ms: {statistics.median(warm):.2f}")
    print(f"warm_invoke_p95_ms: {p95(warm):.2f}")
    print(f"http_round_trip_ms: {statistics.median(http):.2f}")
    print(f"executor_overhead_ms: {statistics.median(warm) - statistics.median(http):.2f} (warm invoke - round trip)")
    print(f"warm_invocations_per_s: {per_thread * args.threads / (burst_ms / 1000):.0f} ({args.threads} clients)")


if __name__ == "__main__":
    main()
