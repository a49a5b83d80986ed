"""The book built against a second model carries that model's numbers (``make book-other-model``).

Skipped unless ``NVP_OTHER_MODEL_HTML`` names that build's HTML folder (the make target sets it);
it compares with the main build in ``_build/html``. Every model-dependent number in the chapters
is glued (myst-nb's ``{glue:text}``, a ``<span class="pasted-text">`` in the HTML), so the two
builds must differ in those numbers, and each must state its own model's held-out bits/dim.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import nvp
from nvp.training.hub import PRETRAINED

ROOT = Path(__file__).parents[1]
OTHER = os.environ.get("NVP_OTHER_MODEL_HTML")
pytestmark = pytest.mark.skipif(not OTHER, reason="make book-other-model sets NVP_OTHER_MODEL_HTML")
PASTED = re.compile(r'<span class="pasted-text">([^<]*)</span>')
# The pages whose glued numbers come from the book's model (nvp.book.model_name). Chapter 5 and
# the playground load it too, but glue only what the recipe fixes (parameter counts, sizes);
# the playground's live tools run the ONNX graphs, checked below.
PAGES = ["06_training", "07_training_goes_wrong", "08_sampling", "09_beyond", "cheatsheet",
         "on_track", "questions"]


def glued(html: Path, page: str) -> list[str]:
    return PASTED.findall((html / "book" / f"{page}.html").read_text(encoding="utf-8"))


def builds() -> tuple[Path, Path]:
    main, other = ROOT / "_build" / "html", Path(OTHER or "")
    if not other.is_absolute():
        other = ROOT / other
    assert (main / "book").is_dir() and (other / "book").is_dir(), "run make book first"
    return main, other


def test_the_model_dependent_pages_carry_the_other_models_numbers():
    main, other = builds()
    same = [p for p in PAGES if glued(main, p) == glued(other, p)]
    assert not same, f"pages whose glued numbers did not change with the model: {same}"


def test_the_live_tools_run_each_builds_model():
    import hashlib

    main, other = builds()
    name = os.environ.get("NVP_OTHER_MODEL", "mnist5k-seed1")
    for html, model in ((main, "mnist5k"), (other, name)):
        manifest = json.loads((html / "_static" / "nvp-model" / "manifest.json").read_text())
        weights = Path(nvp.__file__).parent / "weights" / PRETRAINED[model]
        assert manifest["checkpoint_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()


def test_each_build_states_its_own_models_held_out_bits_per_dim():
    main, other = builds()
    name = os.environ.get("NVP_OTHER_MODEL", "mnist5k-seed1")
    for html, model in ((main, "mnist5k"), (other, name)):
        recipe = nvp.pretrained_info(model)["recipe"]
        shown = {v for p in PAGES for v in glued(html, p)}
        for key in ("valid_bpd", "test_bpd"):
            forms = {f"{recipe[key]:.{d}f}" for d in (2, 3, 4)}
            assert forms & shown, f"{html}: no page states {model}'s {key} ({recipe[key]:.4f})"
