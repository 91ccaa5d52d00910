"""README's two set-up commands stay true: CI runs the README's test command."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _quick_start() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_starts_with_two_commands() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    run, test = commands
    assert "chargeplan run models/china-2030.toml" in run
    assert "pytest" in test
    assert (REPO / "models" / "china-2030.toml").is_file()


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert _quick_start()[1] in ci
