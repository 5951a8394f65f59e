"""The whole service on one machine: embedded AWS, the front door, and the queue pollers.

The handlers are the ones Lambda runs (their dotted paths come from :mod:`stylemixer.resources`),
imported only after the environment points them at the embedded AWS. Each runs with its own role's
credentials, and moto enforces IAM from before the first request: a function can do here exactly
what its deployed role allows (see :mod:`stylemixer.local.iam`).
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylemixer.errors import PORT_UNAVAILABLE, SITE_MISSING, StyleMixerError
from stylemixer.local.aws import LocalResources, client, create_resources, start_moto
from stylemixer.local.environment import apply_environment, handler_environment
from stylemixer.local.iam import create_operator, create_roles, enforce_iam, local_arns
from stylemixer.local.poller import QueuePoller
from stylemixer.local.schedule import Schedule
from stylemixer.local.server import FrontDoor, make_front_door
from stylemixer.local.startup_check import check_embedded_aws
from stylemixer.permissions import GRANTS, Function
from stylemixer.resources import (
    API_HANDLER,
    DLQ_HANDLER,
    DLQ_HANDLER_TIMEOUT_SECONDS,
    MAX_RECEIVE_COUNT,
    SWEEPER_HANDLER,
    SWEEPER_TIMEOUT_SECONDS,
    VISIBILITY_TIMEOUT_FACTOR,
    WORKER_HANDLER,
    WORKER_MEMORY_MB,
    WORKER_TIMEOUT_SECONDS,
)
from stylemixer.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import FrameType, TracebackType

    from boto3.session import Session

    from stylemixer.admission import Capacity, ClientLimits
    from stylemixer.local.aws import MotoProcess
    from stylemixer.local.iam import Credentials
    from stylemixer.permissions import Grant

log = logging.getLogger(__name__)

#: ``static_site/`` beside the package (a source checkout or an editable install).
DEFAULT_SITE_DIR = Path(__file__).resolve().parents[2] / "static_site"
READY_MESSAGE = "StyleMixer is running at {url}"
#: Printed just before the ready line: the embedded AWS (IAM enforced) and keys allowed everything
#: in it, for the AWS CLI or a script (``aws --endpoint-url ... dynamodb scan ...``). They are
#: keys of a throwaway moto on loopback, created anew by every start.
OPERATOR_MESSAGE = (
    "Embedded AWS at {endpoint}, operator keys: AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret}"
)
#: How much lower the worker's CPU priority is than the API's (Linux niceness). Deployed, they are
#: separate functions with CPUs of their own and a request never waits for a stylization; here they
#: share the machine, so the API's requests go first.
WORKER_NICE = 19
#: How often the local stack runs the sweeper. Deployed it runs hourly; here a minute, so that a
#: stack left running fails a job the moment it is due as surely (it is one query when nothing is).
LOCAL_SWEEP_SECONDS = 60.0


def load_handler(dotted: str) -> Callable[[dict[str, Any], Any], Any]:
    """Import ``package.module.function`` as Lambda does with a handler setting.

    Example (with the handlers' environment set):
        >>> load_handler("functions.api.handler.handler")
        <function handler at 0x...>
    """
    module_name, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def load_function(dotted: str, session: Session) -> Callable[[dict[str, Any], Any], Any]:
    """Import a handler as :func:`load_handler` does, with its module's AWS calls signed by ``session``.

    Each handler module keeps its adapters in ``adapters`` (a :class:`~stylemixer.aws.clients.LazyAdapters`,
    built once, as in a Lambda container); three functions in one process share one environment, so
    each module's are signed with its own role's session rather than the environment's credentials.

    Example (not run by the test suite: the functional tests' handlers would be signed anew):
        >>> load_function("functions.api.handler.handler", roles[Function.API].session())  # doctest: +SKIP
    """
    module_name, _, attribute = dotted.rpartition(".")
    module = importlib.import_module(module_name)
    module.adapters.sign_with(session)  # type: ignore[attr-defined]
    return getattr(module, attribute)


def _origins(host: str, port: int) -> list[str]:
    hosts = [host]
    if host in {"127.0.0.1", "0.0.0.0", "::1", "::"}:
        hosts = ["127.0.0.1", "localhost"]
    return [f"http://{h}:{port}" for h in hosts]


class LocalStack:
    """Starts and stops the local service; a context manager for tests.

    ``port=0`` picks a free port (see :attr:`url`). ``visibility_timeout`` overrides the jobs
    queue's (tests of redelivery shorten it); ``max_receive_count`` is the queue's and the
    worker's, as the one CDK setting is. ``grants`` are the deployed roles' by default; tests pass
    fewer to see what AWS would refuse, and ``operator=True`` for an IAM user allowed everything
    (:attr:`operator`) to inspect and change the embedded AWS with. ``limits`` (per client) and
    ``capacity`` (admission control) are the deployed defaults unless given; the sweeper runs every
    ``sweep_every_seconds``. The process environment is changed for good: the handlers read it at
    import.

    Example (not run by the test suite: the stack changes this process's environment for good;
    :func:`stylemixer.local.process.served_stack` runs it in a process of its own, with an example):
        >>> with LocalStack(port=0) as stack:  # doctest: +SKIP
        ...     urllib.request.urlopen(stack.url + "api/health").status
        200
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        site_dir: Path = DEFAULT_SITE_DIR,
        visibility_timeout: int = VISIBILITY_TIMEOUT_FACTOR * WORKER_TIMEOUT_SECONDS,
        max_receive_count: int = MAX_RECEIVE_COUNT,
        grants: Mapping[Function, tuple[Grant, ...]] = GRANTS,
        operator: bool = False,
        poll_wait_seconds: int = 1,
        limits: ClientLimits | None = None,
        capacity: Capacity | None = None,
        sweep_every_seconds: float = LOCAL_SWEEP_SECONDS,
    ) -> None:
        self.host = host
        self.port = port
        self.site_dir = site_dir
        self.visibility_timeout = visibility_timeout
        self.max_receive_count = max_receive_count
        self.grants = grants
        self.poll_wait_seconds = poll_wait_seconds
        self.resources: LocalResources | None = None
        self.endpoint_url: str | None = None
        self.roles: dict[Function, Credentials] = {}
        self.want_operator = operator
        self.operator: Credentials | None = None
        self._moto: MotoProcess | None = None
        self._front_door: FrontDoor | None = None
        self._serve_thread: threading.Thread | None = None
        self.pollers: list[QueuePoller] = []
        self.limits = limits
        self.capacity = capacity
        self.sweep_every_seconds = sweep_every_seconds
        self.sweeper: Schedule | None = None

    @property
    def url(self) -> str:
        """The page's address, e.g. ``http://127.0.0.1:8000/``."""
        if self._front_door is None:
            raise RuntimeError("the stack is not started")
        return f"http://{self.host}:{self._front_door.server_address[1]}/"

    def start(self) -> str:
        """Start everything; returns :attr:`url` once the API answers."""
        if not (self.site_dir / "index.html").is_file():
            raise StyleMixerError(
                SITE_MISSING,
                f"The web page is not at {self.site_dir}. "
                "Run `stylemixer serve` from a checkout of the project.",
            )
        if not (self.site_dir / "vendor" / "bootstrap.min.css").is_file():
            log.warning("static_site/vendor/ is not built, so the page has no styles: run `make setup`")
        self._moto, endpoint = start_moto("127.0.0.1")
        try:
            try:
                self._front_door = make_front_door(
                    self.host, self.port, site_dir=self.site_dir, storage_origin=endpoint
                )
            except OSError as exc:
                raise StyleMixerError(
                    PORT_UNAVAILABLE,
                    f"Cannot listen on {self.host}:{self.port} ({exc.strerror or exc}). "
                    "Choose another port with --port, or stop what is using it.",
                ) from None
            port = self._front_door.server_address[1]
            self.endpoint_url = endpoint
            self.resources = create_resources(
                endpoint, visibility_timeout=self.visibility_timeout, max_receive_count=self.max_receive_count
            )
            iam = client("iam", endpoint)
            self.roles = create_roles(iam, client("sts", endpoint), local_arns(self.resources), self.grants)
            admin = create_operator(iam)
            self.operator = admin if self.want_operator else None
            enforce_iam(endpoint)  # from here on, every caller needs a role's (or a user's) credentials
            env = handler_environment(
                self.resources,
                self.url,
                self.max_receive_count,
                limits=self.limits,
                capacity=self.capacity,
                visibility_timeout=self.visibility_timeout,
            )
            env["STYLEMIXER_ALLOWED_ORIGINS"] = ",".join(_origins(self.host, port))
            apply_environment(env)
            # A moto that moved what the local IAM check relies on stops the start here, in words.
            check_embedded_aws(
                Settings.from_env(), self.roles[Function.API].session(), admin.session(), endpoint
            )
            self._front_door.api_handler = load_function(API_HANDLER, self.roles[Function.API].session())
            self._serve_thread = threading.Thread(
                target=self._front_door.serve_forever,
                kwargs={"poll_interval": 0.2},
                name="front-door",
                daemon=True,
            )
            self._serve_thread.start()
            self._start_pollers(endpoint)
        except BaseException as exc:
            if not isinstance(exc, StyleMixerError | KeyboardInterrupt):
                log.exception("the local stack could not start")
            self.stop()
            raise
        return self.url

    def _start_pollers(self, endpoint: str) -> None:
        """Lambda's event source mappings: each polls its queue with its function's role, as in AWS."""
        assert self.resources is not None
        self.pollers = [
            self._poller(
                endpoint,
                Function.WORKER,
                self.resources.queue_url,
                WORKER_HANDLER,
                memory_limit_in_mb=WORKER_MEMORY_MB,
                timeout_seconds=WORKER_TIMEOUT_SECONDS,
                nice=WORKER_NICE,
            ),
            self._poller(
                endpoint,
                Function.DEAD_LETTERS,
                self.resources.dlq_url,
                DLQ_HANDLER,
                timeout_seconds=DLQ_HANDLER_TIMEOUT_SECONDS,
            ),
        ]
        for poller in self.pollers:
            poller.start()
        # EventBridge's schedule: the sweeper, with its own role.
        sweeper_session = self.roles[Function.SWEEPER].session()
        self.sweeper = Schedule(
            lambda: load_function(SWEEPER_HANDLER, sweeper_session),
            every_seconds=self.sweep_every_seconds,
            function_name=Function.SWEEPER.local_name,
            timeout_seconds=SWEEPER_TIMEOUT_SECONDS,
        )
        self.sweeper.start()
        worker_module = WORKER_HANDLER.rpartition(".")[0]
        # Warm the worker in the background (its cold start imports torch), as a provisioned
        # function would be; the front door is already answering.
        threading.Thread(target=self._warm, args=(worker_module,), name="warm-worker", daemon=True).start()

    def _poller(
        self, endpoint: str, function: Function, queue_url: str, handler: str, **sizing: Any
    ) -> QueuePoller:
        """A poller of ``queue_url`` for ``function``, receiving and invoking with its role's session."""
        session = self.roles[function].session()
        return QueuePoller(
            session.client("sqs", endpoint_url=endpoint),
            queue_url,
            lambda: load_function(handler, session),
            function_name=function.local_name,
            wait_seconds=self.poll_wait_seconds,
            **sizing,
        )

    @staticmethod
    def _warm(module_name: str) -> None:
        try:
            importlib.import_module(module_name)
        except Exception:
            log.exception("the worker handler could not be imported; jobs will fail until this is fixed")

    def stop(self, join_timeout: float = 5.0) -> None:
        """Stop the pollers, the sweeper, the front door and the embedded AWS; safe to call twice."""
        if self.sweeper is not None:
            self.sweeper.stop()
            self.sweeper = None
        for poller in self.pollers:
            poller.stop()
        if self._front_door is not None:
            if self._serve_thread is not None:
                self._front_door.shutdown()
                self._serve_thread.join(join_timeout)
            self._front_door.server_close()
        for poller in self.pollers:
            poller.join(join_timeout + self.poll_wait_seconds)
            if poller.is_alive():
                log.warning("%s is still busy with a batch; leaving it behind", poller.name)
        self.pollers = []
        self._serve_thread = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def run(host: str = "127.0.0.1", port: int = 8000) -> None:
    """``stylemixer serve``: start the stack, print one line, serve until Ctrl-C or SIGTERM.

    Example (not run by the test suite: it serves until stopped):
        >>> run("127.0.0.1", 8000)  # doctest: +SKIP
        StyleMixer is running at http://127.0.0.1:8000/
    """
    level = os.environ.get("STYLEMIXER_LOCAL_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level, stream=sys.stderr)
    # moto's web server logs every request at INFO; only the project's own warnings are wanted.
    logging.getLogger("werkzeug").setLevel(level)
    # With metrics off locally, Powertools warns on every invocation that it has none to publish.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    stack = LocalStack(host, port, operator=True)
    try:
        stack.start()
        assert stack.operator is not None
        operator = stack.operator
        print(
            OPERATOR_MESSAGE.format(
                endpoint=stack.endpoint_url, key=operator.access_key_id, secret=operator.secret_access_key
            )
        )
        print(READY_MESSAGE.format(url=stack.url), flush=True)
        while not stopping.wait(0.5):
            pass
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
