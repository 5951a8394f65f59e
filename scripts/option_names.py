"""Which modules name each stylize option in code: a check that the options stay described once.

A module names an option when its code (docstrings and comments left out) uses it as a field,
attribute, keyword, key or flag: ``name:``, ``.name`` (not a call such as ``.format(``), ``name=``,
``"name"``, ``--name-with-dashes``; the page's files (HTML, JS) are read whole and their element ids
(``max-size``) count too. Words that mean something else (the network *weights*, the region map a
result carries as ``regions``, Pillow's ``format=``) match as well; read the list, not just the count.

    python scripts/option_names.py          # the working tree's last commit
    python scripts/option_names.py main~3   # any commit
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize

from stylemixer.options import option_specs

PATHS = ("stylemixer", "functions", "cdk", "static_site/js", "static_site/index.html")
_STATEMENT_START = (None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL)


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def code_of(text: str) -> str:
    """``text`` (Python) with its comments and docstrings blanked out.

    Example:
        >>> code_of("'Says mix.'\\nx = 1  # mix\\n").strip()
        'x = 1'
    """
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    spans, previous = [], None
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT or (token.type == tokenize.STRING and previous in _STATEMENT_START):
            start = offsets[token.start[0] - 1] + token.start[1]
            spans.append((start, offsets[token.end[0] - 1] + token.end[1]))
        if token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING):
            previous = token.type
    for start, end in reversed(spans):
        text = text[:start] + " " + text[end:]
    return text


def pattern(name: str) -> re.Pattern[str]:
    """What counts as naming option ``name``."""
    dashed = name.replace("_", "-")
    forms = [rf"\b{name}\s*:", rf"\.{name}\b(?!\s*\()", rf"\b{name}\s*=(?!=)", rf"[\"']{name}[\"']"]
    forms += [rf"--{dashed}\b"] + ([rf"\b{dashed}\b"] if "_" in name else [])
    return re.compile("|".join(forms))


def main(rev: str = "HEAD") -> None:
    listed = _git("ls-tree", "-r", "--name-only", rev, "--", *PATHS).split()
    files = [path for path in listed if path.endswith((".py", ".js", ".html"))]
    codes = {}
    for path in files:
        text = _git("show", f"{rev}:{path}")
        codes[path] = code_of(text) if path.endswith(".py") else text
    for spec in option_specs():
        hits = sorted(path for path, code in codes.items() if pattern(spec.name).search(code))
        python = [path for path in hits if path.endswith(".py")]
        page = [path for path in hits if not path.endswith(".py")]
        listing = f"{' '.join(python)} | {' '.join(page)}"
        print(f"{spec.name:16} python {len(python):2}  page {len(page)}  | {listing}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
