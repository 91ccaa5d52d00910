"""What a run leaves in an output folder: all of it or none of it.

:func:`folder_state` is the one verdict the reliability and kill/resume tests ask for.
"""

from __future__ import annotations

from pathlib import Path

from chargeplan.outputs.files import MANIFEST_NAME
from chargeplan.outputs.manifest import read_manifest, verify


def folder_state(folder: Path) -> str:
    """``"complete"`` (manifest present, every listed file hash-equal, nothing unlisted) or
    ``"absent"`` (no folder, or an empty one); anything else fails the calling test."""
    if not folder.exists() or not any(folder.iterdir()):
        return "absent"
    problems = verify(folder)
    assert not problems, f"{folder} is partial: {problems}"
    listed = set(read_manifest(folder)["outputs"]) | {MANIFEST_NAME}
    assert {p.name for p in folder.iterdir()} == listed, "files the manifest does not list"
    return "complete"
