"""`stylemixer serve` on an embedded AWS that changed under it: it stops at once, and says why.

moto 5.2.6 once renamed what the local IAM check relied on, and the stack started, said it was
running, and refused every upload. Here the change is made on purpose, the way a release would
make it, by a ``sitecustomize`` module on the stack's ``PYTHONPATH`` (so moto's own process gets it
too): then the stack must exit non-zero, print one sentence naming moto's version and what failed,
and never print its ready line.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from stylemixer.local.moto_iam import moto_version
from stylemixer.local.process import READY_LINE, child_environment, serve_command

if TYPE_CHECKING:
    from pathlib import Path

#: Generous, for a busy machine: the stack gives up in seconds (measured: about 3 s here).
PATIENCE_SECONDS = 120

#: Ways a moto release can break the local IAM check, as a sitecustomize module applies them.
BREAKAGES = {
    # the form of a browser's upload no longer reaches the check (5.2.6 moved what it read)
    "uploads refused": (
        "import stylemixer.local.moto_iam as iam\niam._form = lambda request: {}\n",
        "refused a presigned POST (an upload) signed as the API's role (403 AccessDenied)",
    ),
    # a class the check builds on is gone from moto
    "a hook gone": (
        "import moto.iam.access_control as access\ndel access.IAMPolicy\n",
        "lacks moto.iam.access_control.IAMPolicy",
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_serve_on_a_changed_embedded_aws_stops_with_a_sentence(breakage: str, tmp_path: Path) -> None:
    # Given a moto changed the way a release could change it
    patch, expected = BREAKAGES[breakage]
    (tmp_path / "sitecustomize.py").write_text(patch, encoding="utf-8")
    env = child_environment()
    env["PYTHONPATH"] = f"{tmp_path}:{env['PYTHONPATH']}"
    # When `stylemixer serve` starts on it
    run = subprocess.run(
        serve_command(sys.executable),
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=PATIENCE_SECONDS,
        check=False,
    )
    # Then it exits non-zero without ever saying it runs
    assert run.returncode != 0
    assert not any(READY_LINE.match(line) for line in run.stdout.splitlines()), run.stdout
    # And says, in one line, which moto and what failed, with no traceback
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("stylemixer: ")]
    assert len(lines) == 1, run.stderr
    assert f"The embedded AWS (moto {moto_version()})" in lines[0]
    assert expected in lines[0]
