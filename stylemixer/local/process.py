"""``stylemixer serve`` in a child process, for tests and scripts that need the real command.

The child is started with ``--port 0`` and its ready line says which port it got, so there is no
race for a "free" port. Its output goes to a log file (the caller keeps it as an artefact).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

PROJECT_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = re.compile(r"^StyleMixer is running at (http://\S+/)$")
OPERATOR_LINE = re.compile(
    r"^Embedded AWS at (http://\S+), operator keys: AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)$"
)


class StackDidNotStartError(RuntimeError):
    """The child exited or stayed silent past the deadline; the message holds its output."""


@dataclass
class ServedStack:
    """A running ``stylemixer serve``: its address, process and log, and its embedded AWS."""

    url: str
    process: subprocess.Popen[str]
    log_path: Path
    startup_seconds: float
    #: The embedded AWS's endpoint, and the operator's keys (IAM is enforced there).
    aws_endpoint: str | None = None
    operator_keys: tuple[str, str] | None = None


def child_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) for a child Python that must import this checkout's package.

    Example:
        >>> child_environment({"PYTHONPATH": "/x"})["PYTHONPATH"].endswith(os.pathsep + "/x")
        True
    """
    child = dict(os.environ if env is None else env)
    child["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), child.get("PYTHONPATH")]))
    return child


def serve_command(python: str = sys.executable, host: str = "127.0.0.1", port: int = 0) -> list[str]:
    """The command line of ``stylemixer serve`` run with ``python``."""
    return [python, "-m", "stylemixer.cli", "serve", "--host", host, "--port", str(port)]


@contextmanager
def served_stack(
    log_path: Path,
    *,
    python: str = sys.executable,
    timeout: float = 10.0,
    env: dict[str, str] | None = None,
) -> Iterator[ServedStack]:
    """Run ``stylemixer serve`` until the block ends; fail if it is not ready within ``timeout``.

    Example:
        >>> import tempfile, urllib.request
        >>> with tempfile.TemporaryDirectory() as folder, served_stack(Path(folder) / "serve.log") as stack:
        ...     urllib.request.urlopen(stack.url + "api/health").status
        200
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    child_env = child_environment(env)
    child_env["PYTHONUNBUFFERED"] = "1"
    started = time.monotonic()
    process = subprocess.Popen(
        serve_command(python),
        cwd=PROJECT_ROOT,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    ready = threading.Event()
    found: list[str] = []
    operator: list[tuple[str, str, str]] = []

    def pump() -> None:
        # Copies the child's output to the log, noting the ready line; runs until the child exits.
        assert process.stdout is not None
        with log_path.open("w", encoding="utf-8") as log:
            for received in process.stdout:
                line = received
                keys = OPERATOR_LINE.match(line.strip())
                if keys:  # the keys stay out of the kept log
                    operator.append((keys.group(1), keys.group(2), keys.group(3)))
                    line = f"Embedded AWS at {keys.group(1)}\n"
                log.write(line)
                log.flush()
                match = READY_LINE.match(line.strip())
                if match and not found:
                    found.append(match.group(1))
                    ready.set()
        ready.set()

    pump_thread = threading.Thread(target=pump, name="serve-log", daemon=True)
    pump_thread.start()
    try:
        if not ready.wait(timeout) or not found:
            raise StackDidNotStartError(
                f"`stylemixer serve` was not ready within {timeout:.0f} s; its output:\n"
                + (log_path.read_text(encoding="utf-8") if log_path.exists() else "")
            )
        endpoint, key, secret = operator[0] if operator else (None, "", "")
        yield ServedStack(
            found[0],
            process,
            log_path,
            time.monotonic() - started,
            aws_endpoint=endpoint,
            operator_keys=(key, secret) if endpoint else None,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        pump_thread.join(5)
