"""Every AWS call a function's code can make, found by reading the code (no path has to run).

From a handler module, :func:`function_calls` follows every call into the project's own modules
(functions, classes, modules imported by name) and notes each use of a storage port (``store``,
``repo``, ``queue``: the interfaces of :mod:`stylemixer.jobs.ports`), including uses that are only
referenced (``functools.partial(queue.retry_later, ...)``). Each port method is then read in its
AWS adapter (:mod:`stylemixer.aws`) for the boto3 operations it calls, and each operation becomes
the IAM action AWS checks. For S3, the key's prefix is read from the call site (``upload_key(...)``
is under ``uploads/``, ``result_key(...)`` under ``results/``), so the resource is known too.

Anything the reader cannot place (a boto3 operation with no IAM action below, a key whose prefix it
cannot tell) is an error, not a silent pass.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stylemixer.permissions import Target
from tests.support.paths import ROOT, module_file

if TYPE_CHECKING:
    from pathlib import Path

#: The IAM action AWS checks for each boto3 operation the adapters use (a presigned request is
#: authorized as its signer's call of the operation it names; HeadObject needs s3:GetObject).
IAM_ACTIONS: dict[tuple[str, str], str] = {
    ("s3", "get_object"): "s3:GetObject",
    ("s3", "head_object"): "s3:GetObject",
    ("s3", "put_object"): "s3:PutObject",
    ("s3", "delete_object"): "s3:DeleteObject",
    ("s3", "generate_presigned_post"): "s3:PutObject",
    ("s3", "generate_presigned_url:get_object"): "s3:GetObject",
    ("dynamodb", "get_item"): "dynamodb:GetItem",
    ("dynamodb", "put_item"): "dynamodb:PutItem",
    ("dynamodb", "update_item"): "dynamodb:UpdateItem",
    ("dynamodb", "delete_item"): "dynamodb:DeleteItem",
    ("dynamodb", "query"): "dynamodb:Query",
    ("sqs", "send_message"): "sqs:SendMessage",
    ("sqs", "change_message_visibility"): "sqs:ChangeMessageVisibility",
    ("sqs", "get_queue_attributes"): "sqs:GetQueueAttributes",
}

#: Each port, the adapter behind it (file, class, the attribute holding its client, the service).
ADAPTERS: dict[str, tuple[str, str, str, str]] = {
    "store": ("stylemixer/aws/s3.py", "S3BlobStore", "_s3", "s3"),
    "repo": ("stylemixer/aws/dynamodb.py", "DynamoJobRepository", "_db", "dynamodb"),
    "queue": ("stylemixer/aws/sqs.py", "SqsJobQueue", "_sqs", "sqs"),
    "quotas": ("stylemixer/aws/quotas.py", "DynamoQuotaBook", "_db", "dynamodb"),
}
#: Where the tables' and the queue's calls go (the bucket's calls name their prefix at the call site).
FIXED_TARGETS = {"repo": Target.JOBS_TABLE, "queue": Target.JOBS_QUEUE, "quotas": Target.QUOTAS_TABLE}
#: Port methods whose calls go elsewhere than their port's fixed target (a query of an index).
METHOD_TARGETS = {("repo", "queued_before"): Target.QUEUED_INDEX}
#: Names a port is known by at its call sites (``store``, ``deps.store``, ``self._repo`` ...).
PORT_NAMES = {
    "store": "store",
    "_store": "store",
    "repo": "repo",
    "_repo": "repo",
    "queue": "queue",
    "quotas": "quotas",
    "_quotas": "quotas",
}
#: Key helpers, and the prefix of the keys they make.
KEY_HELPERS = {
    "upload_key": Target.UPLOADS,
    "result_key": Target.RESULTS,
    "regions_key": Target.RESULTS,
    "thumbnail_key": Target.RESULTS,
}
#: Attributes that hold a result's keys (``JobResult.key``, ``regions_key``, ``thumbnail_key``).
RESULT_KEY_ATTRIBUTES = {"key", "regions_key", "thumbnail_key"}


class UnplacedCallError(AssertionError):
    """The code makes a call this reader cannot turn into an IAM action and resource."""


@dataclass(frozen=True, slots=True)
class PortCall:
    """One use of a port method, where it is, and (for the bucket) which prefix its key is under."""

    port: str
    method: str
    where: str
    target: Target


@dataclass
class _Module:
    path: Path
    tree: ast.Module
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # name -> (module, attr)


def _load(dotted: str, cache: dict[str, _Module]) -> _Module | None:
    if dotted.split(".", maxsplit=1)[0] not in {"stylemixer", "functions"}:
        return None
    if dotted in cache:
        return cache[dotted]
    path = module_file(dotted)
    if path is None:
        return None
    module = _Module(path, ast.parse(path.read_text(encoding="utf-8")))
    for node in module.tree.body:
        if isinstance(node, ast.FunctionDef):
            module.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            module.classes[node.name] = node
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                module.imports[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                module.imports[alias.asname or alias.name] = (alias.name, None)
    cache[dotted] = module
    return module


def _port_of(node: ast.expr) -> str | None:
    """The port an expression names (``store``, ``deps.repo``, ``self._repo``), if it names one."""
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    return PORT_NAMES.get(name or "")


def _assignments(scope: ast.AST, name: str) -> list[ast.expr]:
    """Every value ``name`` is given in ``scope`` (assignments and ``for`` targets' elements)."""
    values: list[ast.expr] = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                values.append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            if node.value is not None:
                values.append(node.value)
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == name:
            values.extend(node.iter.elts if isinstance(node.iter, ast.Tuple | ast.List) else [node.iter])
    return values


def _key_target(expr: ast.expr, scope: ast.AST, where: str) -> Target:
    """The bucket prefix of a key expression, read from how it was made."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in KEY_HELPERS:
        return KEY_HELPERS[expr.func.id]
    if isinstance(expr, ast.Attribute) and expr.attr in RESULT_KEY_ATTRIBUTES:
        return Target.RESULTS
    if isinstance(expr, ast.Name):
        made = [
            v for v in _assignments(scope, expr.id) if not (isinstance(v, ast.Constant) and v.value is None)
        ]
        targets = {_key_target(v, scope, where) for v in made}
        if len(targets) == 1:
            return targets.pop()
    raise UnplacedCallError(f"{where}: cannot tell which prefix the key {ast.unparse(expr)!r} is under")


class _Walker:
    """Follows calls from a handler module through the project's code, collecting port calls."""

    def __init__(self) -> None:
        self.cache: dict[str, _Module] = {}
        self.seen: set[tuple[str, str]] = set()
        self.calls: set[PortCall] = set()

    def walk_module(self, dotted: str) -> None:
        module = _load(dotted, self.cache)
        assert module is not None, dotted
        for name in module.functions:
            self.walk_function(dotted, name)
        for name in module.classes:
            self.walk_class(dotted, name)

    def walk_function(self, dotted: str, name: str) -> None:
        module = _load(dotted, self.cache)
        if module is None or (dotted, name) in self.seen:
            return
        if name in module.classes:
            self.walk_class(dotted, name)
            return
        if name in module.imports:
            source, attr = module.imports[name]
            if attr is not None:
                self.walk_function(source, attr)
            return
        if name not in module.functions:
            return
        self.seen.add((dotted, name))
        self._walk_body(dotted, module, module.functions[name])

    def walk_class(self, dotted: str, name: str) -> None:
        module = _load(dotted, self.cache)
        if module is None or (dotted, name) in self.seen or name not in module.classes:
            return
        self.seen.add((dotted, name))
        for node in module.classes[name].body:
            if isinstance(node, ast.FunctionDef):
                self._walk_body(dotted, module, node)

    def _walk_body(self, dotted: str, module: _Module, scope: ast.FunctionDef) -> None:
        where = f"{module.path.relative_to(ROOT)}:{scope.name}"
        for node in ast.walk(scope):
            if isinstance(node, ast.Attribute) and (port := _port_of(node.value)) is not None:
                self._note(port, node.attr, node, scope, f"{where}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module:  # imports inside functions
                for alias in node.names:
                    module.imports.setdefault(alias.asname or alias.name, (node.module, alias.name))
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name):
                self.walk_function(dotted, func.id)
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                imported = module.imports.get(func.value.id)
                if imported is not None:  # module.function(...), e.g. service.submit_job
                    source, attr = imported
                    self.walk_function(source if attr is None else f"{source}.{attr}", func.attr)

    def _note(self, port: str, method: str, node: ast.Attribute, scope: ast.AST, where: str) -> None:
        path, cls, _client, _service = ADAPTERS[port]
        if method not in _adapter_methods(path, cls):
            return  # not a port method (e.g. an attribute of the adapter)
        if port in FIXED_TARGETS:
            target = METHOD_TARGETS.get((port, method), FIXED_TARGETS[port])
        else:
            call = _enclosing_call(scope, node)
            if call is None or not call.args:
                raise UnplacedCallError(f"{where}: {port}.{method} is used without a key to read")
            target = _key_target(call.args[0], scope, where)
        self.calls.add(PortCall(port, method, where, target))


def _enclosing_call(scope: ast.AST, attribute: ast.Attribute) -> ast.Call | None:
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and node.func is attribute:
            return node
    return None


def _adapter_methods(path: str, cls: str) -> dict[str, ast.FunctionDef]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    (klass,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls]
    return {n.name: n for n in klass.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("__")}


def adapter_operations(port: str, method: str) -> set[tuple[str, str]]:
    """The boto3 operations one adapter method calls, following its calls of its own methods."""
    path, cls, client, service = ADAPTERS[port]
    methods = _adapter_methods(path, cls)
    found: set[tuple[str, str]] = set()
    pending, done = [method], set()
    while pending:
        name = pending.pop()
        if name in done or name not in methods:
            continue
        done.add(name)
        for node in ast.walk(methods[name]):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = node.func.value
            if isinstance(receiver, ast.Attribute) and receiver.attr == client:
                operation = node.func.attr
                if operation == "generate_presigned_url" and node.args:
                    operation += f":{ast.literal_eval(node.args[0])}"
                found.add((service, operation))
            elif isinstance(receiver, ast.Name) and receiver.id == "self":
                pending.append(node.func.attr)
    return found


def function_calls(handler_module: str) -> set[PortCall]:
    """Every port method the code of one function may use, from its handler module on.

    Example:
        >>> sorted(c.method for c in function_calls("functions.api.handler") if c.port == "queue")
        ['depth', 'send']
    """
    walker = _Walker()
    walker.walk_module(handler_module)
    return walker.calls


def required_permissions(handler_module: str) -> dict[tuple[str, Target], set[str]]:
    """(IAM action, target) -> where in the code it is needed, for one function's own calls."""
    needed: dict[tuple[str, Target], set[str]] = {}
    for call in function_calls(handler_module):
        for service, operation in adapter_operations(call.port, call.method):
            if (service, operation) not in IAM_ACTIONS:
                raise UnplacedCallError(f"{call.where}: no IAM action known for {service}.{operation}")
            needed.setdefault((IAM_ACTIONS[service, operation], call.target), set()).add(call.where)
    return needed
