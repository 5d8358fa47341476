"""The Step Functions plug-in loads moto's interpreter without Batch's and EC2's models (0.9 s of
each emulator start), and Batch still works in full once a request asks for it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def run_fresh(code: str) -> dict:
    """``code`` in a new interpreter (what is imported is the point); the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_plugin_imports_the_interpreter_but_neither_batch_nor_ec2_models():
    seen = run_fresh(
        """
        import json, sys
        import scones.emulator.stepfunctions
        print(json.dumps({m: m in sys.modules for m in (
            "moto.stepfunctions.parser.backend.execution", "moto.batch.utils", "moto.batch", "moto.ec2")}))
        """
    )
    assert seen == {
        "moto.stepfunctions.parser.backend.execution": True,
        "moto.batch.utils": True,
        "moto.batch": False,
        "moto.ec2": False,
    }


def test_batch_imported_afterwards_is_the_whole_package_sharing_the_interpreters_enum():
    seen = run_fresh(
        """
        import json, sys
        import scones.emulator.stepfunctions
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_batch
        from moto.batch import batch_backends
        from moto.batch import models
        backend = batch_backends["123456789012"]["us-east-1"]
        print(json.dumps({
            "same_enum": models.JobStatus is state_task_service_batch.JobStatus,
            "environments": backend.describe_compute_environments([]),
            "ec2": "moto.ec2" in sys.modules,
        }))
        """
    )
    assert seen == {"same_enum": True, "environments": [], "ec2": True}


def test_a_moto_batch_imported_first_is_left_alone():
    seen = run_fresh(
        """
        import json
        import moto.batch
        real = moto.batch
        import scones.emulator.stepfunctions
        import moto.batch as after
        print(json.dumps({"same": after is real, "whole": hasattr(after, "batch_backends")}))
        """
    )
    assert seen == {"same": True, "whole": True}
