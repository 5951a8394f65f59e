"""axe-core, the accessibility engine, run in the page under test (Chromium).

axe-core comes from npm as a development dependency of the page (``static_site/package.json``; it is
never served). Its script is evaluated in the page through the browser's own evaluation, not added as
a ``<script>``, so the page's Content-Security-Policy (no inline script) stays as it is served.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from tests.support.paths import ROOT

AXE = ROOT / "static_site" / "node_modules" / "axe-core" / "axe.min.js"
#: The WCAG 2.1 A and AA rules and axe's best practices, as a page for the public is held to.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@cache
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make setup` (npm ci in static_site/ installs axe-core)")
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any, include: str | None = None) -> list[str]:
    """axe-core's violations on the page (or inside the element ``include`` selects), one line each:
    the rule, its impact, and the elements that break it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        """async ([include, tags]) => {
            const context = include ? { include: [include] } : document;
            const options = { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] };
            const found = await axe.run(context, options);
            return found.violations.map((v) => {
              const where = v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ');
              return `${v.id} (${v.impact}): ${v.help}; ${where}`;
            });
        }""",
        [include, TAGS],
    )
    return list(result)


def assert_accessible(page: Any, include: str | None = None) -> None:
    """No axe-core violation on the page, or in the part of it ``include`` selects."""
    violations = axe_violations(page, include)
    assert violations == [], "axe-core found:\n" + "\n".join(violations)
