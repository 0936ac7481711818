"""The import rules of pyproject.toml ([tool.importlinter]): the core imports no feature, features
import only the features below them. `lint-imports` fails when a lower layer imports a higher one."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_the_import_contracts_are_kept():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_core_module_importing_a_feature_breaks_the_contract(tmp_path):
    """The same contracts on a copy of the code where workshop.db imports a feature."""
    copy = tmp_path / "project"
    copy.mkdir(exist_ok=True)
    subprocess.run(["cp", "-r", str(ROOT / "workshop"), str(copy)], check=True)
    (copy / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    db = copy / "workshop" / "db.py"
    db.write_text(db.read_text() + "\nfrom workshop.live import services  # noqa\n")

    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert "workshop.db -> workshop.live.services" in result.stdout
