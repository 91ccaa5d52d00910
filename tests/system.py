"""What a test needs from the machine (a browser, a font): skipped on a developer's machine that
lacks it, a failure under CI (``CI=true``), where ``.ci/run`` installs it first."""

from __future__ import annotations

import os

import pytest


def need(present: bool, what: str, install: str) -> None:
    """Go on if ``present``; else fail under CI and skip elsewhere, saying how to install it."""
    if present:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed: .ci/run installs it ({install}) before the tests")
    pytest.skip(f"{what} is not installed ({install}); CI runs this test")


def need_cjk_font() -> None:
    """The Noto Sans CJK file report.html embeds a subset of."""
    from chargeplan.outputs import fonts

    need(fonts.font_file() is not None, "Noto Sans CJK", "apt-get install fonts-noto-cjk")
