"""What a worker needs to know about a function: a snapshot of moto's ``LambdaFunction``.

The snapshot's ``fingerprint`` covers the code and every setting a running worker has baked
in (handler, environment, memory, timeout): when it changes, Lambda starts new execution
environments, and so does the pool.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scones.emulator.awslambda.exceptions import UnsupportedFunction

if TYPE_CHECKING:
    from moto.awslambda.models import LambdaFunction


@dataclass(frozen=True)
class FunctionSpec:
    function_name: str
    function_arn: str  # qualified for a published version, as moto keys it
    version: str
    region: str
    runtime: str
    handler: str
    timeout: float
    memory_size: int
    environment: tuple[tuple[str, str], ...]
    code_digest: str  # hex sha256 of the zip
    code: bytes = field(repr=False, compare=False)

    @classmethod
    def from_moto(cls, fn: LambdaFunction) -> FunctionSpec:
        """Snapshot ``fn``; raise :class:`UnsupportedFunction` if it cannot run here."""
        runtime = fn.run_time or ""
        if fn.package_type != "Zip":
            raise UnsupportedFunction(
                f"Function {fn.function_name} is a container image ({fn.package_type}); the local "
                "emulator runs .zip functions with a python runtime only. Deploy it as a .zip, or to AWS."
            )
        if not runtime.startswith("python"):
            raise UnsupportedFunction(
                f"Function {fn.function_name} has runtime {runtime or 'none'}; the local emulator runs "
                "python runtimes only (python3.x). Change its Runtime, or run it on AWS."
            )
        if not fn.handler:
            raise UnsupportedFunction(f"Function {fn.function_name} has no Handler; set one like 'app.handler'.")
        if getattr(fn, "layers", None):  # run without them, it would fail later with a misleading ImportError
            raise UnsupportedFunction(
                f"Function {fn.function_name} uses layers ({', '.join(layer['Arn'] for layer in fn.layers)}); the local "
                "emulator does not mount layers. Package their code into the function's .zip, or run it on AWS."
            )
        return cls(
            function_name=fn.function_name,
            function_arn=fn.function_arn,
            version=str(fn.version),
            region=fn.region,
            runtime=runtime,
            handler=fn.handler,
            timeout=float(fn.timeout),
            memory_size=int(fn.memory_size),
            environment=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
            code_digest=fn.code_digest,
            code=fn.code_bytes,
        )

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def fingerprint(self) -> str:
        settings = [self.runtime, self.handler, self.timeout, self.memory_size, self.environment, self.code_digest]
        return hashlib.sha256(json.dumps(settings).encode()).hexdigest()
