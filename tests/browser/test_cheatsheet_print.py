"""The cheat sheet prints on one page, of A4 and of US letter, in headless Chromium.

``book/cheatsheet.ipynb`` is the page a reader prints and keeps beside the code. Its print rules
(``book/_static/custom.css``, "Cheat sheet") set it in two columns and leave out the code cells
(the checks), the theme's printed contents and the screen-only section "In full". The built page
is printed here as a reader prints it, with Chromium's default margins (0.4 in) and no scaling,
once per paper size, and the pages of the PDF are counted. Under print media the sheet's
sections must still be there, the screen-only section gone, and every equation and table must
fit its column (print cannot scroll sideways).

    make book && NVP_BROWSER_TESTS=1 pytest tests/browser/test_cheatsheet_print.py
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import HTML_DIR
from harness import Browser, load_page, settle

PAGE = "book/cheatsheet"
MARGIN = "0.4in"  # Chromium's default print margins
PAPERS = {"A4": (210, 297), "Letter": (215.9, 279.4)}  # width, height in mm
SHEET = ["Change of variables", "Affine coupling", "What each layer adds", "Masks and squeezing",
         "Multi-scale architecture", "Bits per dimension", "Sampling and interpolation",
         "recipe"]  # a few words of each section's heading, in print
SCREEN_ONLY = "In full"

# Under print media: the visible section headings, and every display equation or table that is
# wider than its column (the article's width over its column count).
PRINTED = """() => {
  const visible = (e) => e.getClientRects().length > 0
    && getComputedStyle(e).visibility !== "hidden";
  const section = document.querySelector(".bd-article > section");
  const style = getComputedStyle(section);
  const columns = parseInt(style.columnCount) || 1;
  const gap = parseFloat(style.columnGap) || 0;
  const column = (section.clientWidth - (columns - 1) * gap) / columns;
  const wide = [...section.querySelectorAll('mjx-container[display="true"], table')]
    .filter((e) => visible(e) && e.getBoundingClientRect().width > column + 1)
    .map((e) => `${e.tagName.toLowerCase()} ${Math.round(e.getBoundingClientRect().width)} px: `
                + e.textContent.slice(0, 60));
  return {
    headings: [...section.querySelectorAll("h2")].filter(visible).map((h) => h.textContent),
    code: [...section.querySelectorAll(".cell")].filter(visible).length,
    columns, column: Math.round(column), wide,
  };
}"""


def pages(pdf: bytes) -> int:
    """The number of pages of a PDF written by Chromium (one ``/Type /Page`` object each)."""
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


@pytest.fixture(scope="module")
def cheatsheet(browsers: dict[str, Browser], base_url: str) -> Any:
    """The built cheat sheet, loaded at 1280 px with its equations typeset."""
    if not (HTML_DIR / f"{PAGE}.html").is_file():
        pytest.fail(f"{PAGE}.html is missing from {HTML_DIR}: the page did not build",
                    pytrace=False)
    tab, _ = load_page(browsers["wide"], base_url, f"{PAGE}.html")
    settle(tab)  # MathJax has typeset: the equations have their printed size
    yield tab
    tab.close()


@pytest.mark.parametrize("paper", list(PAPERS))
def test_cheatsheet_prints_on_one_page(cheatsheet: Any, paper: str) -> None:
    pdf = cheatsheet.pdf(format=paper, print_background=True,
                         margin={side: MARGIN for side in ("top", "right", "bottom", "left")})
    assert pdf.startswith(b"%PDF")
    n = pages(pdf)
    assert n == 1, (f"the cheat sheet prints on {n} pages of {paper}, not one: shorten it, or "
                    "tighten its print rules in book/_static/custom.css")


@pytest.mark.parametrize("paper", list(PAPERS))
def test_cheatsheet_print_keeps_the_sheet_and_fits_its_columns(cheatsheet: Any,
                                                               paper: str) -> None:
    width_mm = PAPERS[paper][0] - 2 * 0.4 * 25.4  # the printable width
    screen = cheatsheet.viewport_size
    cheatsheet.set_viewport_size({"width": round(width_mm / 25.4 * 96), "height": 900})
    cheatsheet.emulate_media(media="print")
    try:
        printed = cheatsheet.evaluate(PRINTED)
    finally:
        cheatsheet.emulate_media(media="screen")
        cheatsheet.set_viewport_size(screen)
    headings = " | ".join(printed["headings"])
    missing = [s for s in SHEET if s not in headings]
    assert not missing, f"sections missing from the printed sheet: {missing} ({headings})"
    assert SCREEN_ONLY not in headings, f"the screen-only section {SCREEN_ONLY!r} is printed"
    assert printed["code"] == 0, f"{printed['code']} code cells are printed"
    assert printed["columns"] == 2, f"the sheet prints in {printed['columns']} column(s)"
    assert not printed["wide"], (f"wider than a printed column ({printed['column']} px) on "
                                 f"{paper}: " + "; ".join(printed["wide"]))
