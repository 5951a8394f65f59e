"""moto's server in a process of its own: ``python -m stylemixer.local.moto_child HOST``.

Prints ``port N`` once it listens (or ``error <sentence>`` if moto is not what the local IAM check
relies on, see :func:`stylemixer.local.moto_iam.check_moto_hooks`), then serves until its standard
input closes (its parent ended or stopped it), so it never outlives the stack that started it, and
never ends before it either: Ctrl-C in a terminal, and ``timeout`` or a service manager stopping
the stack, signal the whole process group, and the stack's pollers still call moto while they
stop, so the child leaves those signals to its parent. See :func:`stylemixer.local.aws.start_moto`
for why it is a separate process.
"""

from __future__ import annotations

import logging
import os
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    """Serve on a free port of the host given (default 127.0.0.1) until standard input closes."""
    args = sys.argv[1:] if argv is None else argv
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    host = args[0] if args else "127.0.0.1"
    # werkzeug logs every request at INFO; the stack's own log level decides, as in its process.
    logging.getLogger("werkzeug").setLevel(os.environ.get("STYLEMIXER_LOCAL_LOG_LEVEL", "WARNING").upper())
    from stylemixer.local.aws import serve_moto_in_thread
    from stylemixer.local.moto_iam import EmulatorChangedError

    try:
        server = serve_moto_in_thread(host)
    except EmulatorChangedError as exc:
        print(f"error {exc.message}", flush=True)
        return 1
    print(f"port {server.get_host_and_port()[1]}", flush=True)
    try:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or is gone
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
