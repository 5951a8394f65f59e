"""`stylemixer serve` as a person runs it: up and answering, one line printed, clean stop.

How soon it is up (the README's 10 s) is a figure of the machine's load as much as of the code: it is
measured by ``python -m bench.load`` (``serve_startup_seconds``) and printed here with ``-s``.
"""

from __future__ import annotations

import json
import signal
import sys
import time
import urllib.request

import pytest

from stylemixer.local.process import READY_LINE, served_stack
from tests.support.environment import STARTUP_PATIENCE_SECONDS
from tests.support.pageflow import ARTIFACTS


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_serve_answers_health_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    log = ARTIFACTS / f"serve-startup-{stop_signal.name.lower()}.log"
    started = time.monotonic()

    # Given `stylemixer serve` started on a free port
    with served_stack(log, python=sys.executable, timeout=STARTUP_PATIENCE_SECONDS) as stack:
        # When /api/health is asked as soon as the ready line appears
        with urllib.request.urlopen(stack.url + "api/health", timeout=30) as response:
            status = response.status
            body = json.loads(response.read())
        answered_after = time.monotonic() - started

        # Then it answered 200
        assert status == 200
        assert body.get("status") == "ok"
        print(f"ready after {stack.startup_seconds:.2f} s, /api/health answered after {answered_after:.2f} s")

        # And a stop signal ends it cleanly
        stack.process.send_signal(stop_signal)
        stopped = time.monotonic()
        assert stack.process.wait(timeout=60) == 0
        print(f"stopped {time.monotonic() - stopped:.2f} s after {stop_signal.name}")

    # And it printed the ready line exactly once, nothing on the way down but warnings
    lines = log.read_text(encoding="utf-8").splitlines()
    assert sum(bool(READY_LINE.match(line)) for line in lines) == 1
    assert not any("Traceback" in line for line in lines), "\n".join(lines)


def test_the_ready_line_names_the_address() -> None:
    # Given the ready line format the README promises
    # Then it matches exactly `StyleMixer is running at http://HOST:PORT/`
    assert READY_LINE.match("StyleMixer is running at http://127.0.0.1:8000/")
    assert not READY_LINE.match("StyleMixer is running at http://127.0.0.1:8000")
