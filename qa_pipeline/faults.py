"""Named points where the fault-injection test kills a run (SIGKILL), to prove crash safety.

``QA_FAULT_KILL_AT=score.saved`` makes the process kill itself, without any clean-up, the
first time it reaches ``checkpoint("score.saved")``. Unset (always, outside that test), a
checkpoint is one dictionary lookup. tests/test_faults.py lists the points and asserts that
a re-run after each kill leaves the database equal to a clean run's.
"""

from __future__ import annotations

import os
import signal

ENV = "QA_FAULT_KILL_AT"


def checkpoint(name: str) -> None:
    """Die here, as a power cut or the OOM killer would, if the environment names this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
