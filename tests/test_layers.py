"""The package's tiers: the maths load alone, the command line draws no plots, and the import
contract (pyproject.toml, run by `make test` as `lint-imports`) holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def test_import_nvp_loads_the_maths_only():
    out = run("import sys, nvp; nvp.RealNVP(); "
              "print(sorted(m for m in sys.modules if m.startswith(('nvp.training', "
              "'nvp.book', 'nvp.data', 'matplotlib', 'ipywidgets'))))")
    assert out.strip() == "[]"
    # and the training tier's names still load on first use
    assert run("import nvp; print(nvp.Config().epochs, nvp.train.__module__)").split() == \
        ["50", "nvp.training.loop"]


def test_the_command_line_writes_samples_without_matplotlib(tmp_path):
    png = tmp_path / "s.png"
    out = run("import sys\nfrom nvp.training.cli import main\n"
              f"assert main(['sample', '--checkpoint', 'nvp/weights/mnist5k.pt', '--n', '4', "
              f"'--out', {str(png)!r}, '--device', 'cpu']) == 0\n"
              "print('matplotlib' in sys.modules, 'nvp.book' in sys.modules)")
    assert out.split()[-2:] == ["False", "False"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_import_contract_holds():
    lint = Path(sys.executable).with_name("lint-imports")  # import-linter's command
    out = subprocess.run([str(lint)], capture_output=True, text=True)
    assert "Contracts: 2 kept, 0 broken." in out.stdout, out.stdout[-2000:]
