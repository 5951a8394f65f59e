"""The embedded AWS's child process: it serves until its parent stops it, and only then."""

from __future__ import annotations

import os
import signal
import time
import urllib.request

from stylemixer.local.aws import start_moto


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(endpoint + "/moto-api/data.json", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_ctrl_c_in_the_terminal_leaves_the_child_to_its_parent() -> None:
    # Given moto's child process, serving
    server, endpoint = start_moto()
    try:
        assert _answers(endpoint)

        # When it gets the SIGINT a terminal's Ctrl-C sends to the whole process group
        os.kill(server.pid, signal.SIGINT)
        time.sleep(0.3)

        # Then it still runs and answers (the stack's pollers still call it while they stop)
        assert server.poll() is None
        assert _answers(endpoint)
    finally:
        # And its parent still stops it, cleanly
        server.stop()
    assert server.poll() == 0
    assert not _answers(endpoint)
