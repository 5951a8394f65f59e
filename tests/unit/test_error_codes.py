"""Every refusal has one code, and every code is defined once: the constants of stylemixer.errors.

The library and the functions are read as Python syntax trees (docstrings aside), so a code written
out as a string anywhere but its definition, or a refusal made with a string for its code, fails
here with the file and line.
"""

from __future__ import annotations

import ast
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from stylemixer import errors, images, presets  # noqa: F401 - they define error classes too
from stylemixer.errors import CODES, StyleMixerError
from stylemixer.jobs import worker  # noqa: F401 - defines error classes of its own
from stylemixer.local import moto_iam  # noqa: F401 - likewise
from stylemixer.neural import weights  # noqa: F401 - likewise
from stylemixer.options import option_specs
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

#: Where codes may be defined or used: the library and the Lambda functions.
SOURCES = ("stylemixer", "functions")
#: Strings that are another service's codes and happen to spell one of ours: S3 answers a HEAD on a
#: missing key with its own ``NotFound``.
FOREIGN = {("NotFound", "stylemixer/aws/s3.py")}
#: Calls that make an answer from a code, and the position of the code among their arguments.
ANSWERS = {"JobError": 0, "error_response": 1, "_raw_error": 2, "error_reply": 1}


def _trees() -> Iterator[tuple[Path, ast.Module]]:
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and its functions."""
    owners = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef))]
    found = set()
    for owner in owners:
        body = getattr(owner, "body", [])
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            found.add(id(body[0].value))
    return found


def _error_classes() -> dict[str, type[StyleMixerError]]:
    """StyleMixerError and every subclass of it the library and the functions define, by name."""
    classes, todo = {}, [StyleMixerError]
    while todo:
        cls = todo.pop()
        if cls.__module__.split(".")[0] in SOURCES:
            classes[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return classes


def _default_code(node: ast.AST) -> ast.expr | None:
    """The value of ``code = ...`` in a class body (an error class's default code), if ``node`` is one."""
    if isinstance(node, ast.ClassDef):
        for statement in node.body:
            targets = statement.targets if isinstance(statement, ast.Assign) else []
            if any(isinstance(t, ast.Name) and t.id == "code" for t in targets):
                return statement.value  # type: ignore[union-attr]
    return None


def _code_argument(call: ast.Call, makers: dict[str, int]) -> ast.expr | None:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if name not in makers:
        return None
    for keyword in call.keywords:
        if keyword.arg == "code":
            return keyword.value
    position = makers[name]
    return call.args[position] if len(call.args) > position else None


def test_each_code_is_written_out_once_in_the_library_and_the_functions() -> None:
    # Given every string in the code (docstrings aside)
    seen: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for path, tree in _trees():
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                if (node.value, str(path.relative_to(ROOT))) in FOREIGN:
                    continue
                seen[node.value] += 1
                where.setdefault(node.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    # Then each code's string stands once: at its definition in stylemixer/errors.py
    assert CODES, "no codes defined"
    twice = {code: where[code] for code in CODES if seen[code] != 1}
    assert not twice, f"codes written out elsewhere than their definition: {twice}"


def test_every_refusal_names_its_code_by_its_constant() -> None:
    # Given every call that makes a refusal (an error class of ours, a job's error, an error answer)
    # and every error class's default code
    makers = {name: 0 for name in _error_classes()} | ANSWERS
    literal = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            code = _code_argument(node, makers) if isinstance(node, ast.Call) else _default_code(node)
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                literal.append(f"{path.relative_to(ROOT)}:{node.lineno} {code.value!r}")
    # Then none writes its code out: each names a constant of stylemixer.errors (or a derived code)
    assert not literal, f"refusals with a code written out: {literal}"


def test_an_answer_given_with_a_status_gives_its_codes_own() -> None:
    # Given the error answers made with a status and a code (the API's, the local stack's)
    wrong = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            code = _code_argument(node, {k: v for k, v in ANSWERS.items() if k != "JobError"})
            if not isinstance(code, ast.Name) or not hasattr(errors, code.id):
                continue
            status = node.args[node.args.index(code) - 1] if code in node.args else None
            expected = CODES[getattr(errors, code.id)].status
            if isinstance(status, ast.Constant) and status.value != expected:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {code.id} {status.value} != {expected}")
    # Then the status is the one the code is defined with
    assert not wrong


@pytest.mark.parametrize("name", sorted(_error_classes()))
def test_each_error_class_defaults_to_a_code_the_api_can_answer(name: str) -> None:
    # Given an error class of ours, raised without a code
    cls = _error_classes()[name]
    error = cls.__new__(cls)
    StyleMixerError.__init__(error, message="why")
    # Then it carries its kind's code, a defined one, with that code's status
    assert error.code == cls.code
    assert cls.code in CODES
    assert error.status == CODES[cls.code].status


def test_a_code_raised_without_a_status_is_answered_with_its_own() -> None:
    # Given a code raised with the base class, which answers 400 of itself
    error = StyleMixerError(errors.UPLOAD_EXPIRED, "gone")
    # Then the answer is the code's status, and an explicit status still wins
    assert error.status == 410
    assert StyleMixerError(errors.UPLOAD_EXPIRED, "gone", status=400).status == 400


def test_option_codes_are_made_from_their_names_and_are_no_other_codes() -> None:
    # Given the codes of bad option values (InvalidMaxSize for max_size, ...)
    derived = {spec.code for spec in option_specs()}
    # Then none is also defined as a code of its own (one refusal, one code)
    assert not derived & set(CODES)


def test_a_code_cannot_be_defined_twice() -> None:
    # When a code already defined is defined again, Then it is refused at import
    with pytest.raises(ValueError, match="defined twice"):
        errors._code(errors.EMPTY_IMAGE, 400, "again")
