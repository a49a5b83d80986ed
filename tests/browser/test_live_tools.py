"""The live tools (``nvp.book.live``, ``book/_live/nvp-live.js``) in Chromium, against ``nvp``.

On the playground page, each tool is started (ONNX Runtime Web and the two graphs, served from
127.0.0.1), moved, and what it computed is read back from the page (``element.nvpResult``):

* the sampler at a fixed seed shows the images ``nvp`` decodes from the page's own codes
  (max |Δ pixel| ≤ 1e-3);
* strokes drawn with the mouse are scored: the bits/dim the page prints equals ``nvp``'s for the
  28×28 array the page scored (noise at the bin centres), within 1e-3;
* every tool's picture changes when its controls move; no console error; nothing leaves
  127.0.0.1; the page still fits 390 px with every tool started.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import torch
from conftest import TIMEOUT_S
from harness import js, load_page

import nvp

PAGE = "book/playground"
TOOLS = ("sampler", "draw", "interpolate", "resample")
LOAD_MS = max(90_000, TIMEOUT_S * 3000)  # the runtime and 12 MB of graphs on a busy machine


@pytest.fixture(scope="module")
def model() -> nvp.RealNVP:
    return nvp.pretrained("mnist5k")


def state(tab: Any, tool: str) -> dict[str, Any]:
    return tab.evaluate(js("live_state"), tool)


def wait_result(tab: Any, tool: str, test: str) -> dict[str, Any]:
    """Wait until the tool's ``nvpResult`` satisfies the JS expression ``test`` (on ``r``)."""
    tab.wait_for_function(
        "([tool, test]) => { const e = document.querySelector(`.nvp-live[data-tool=\"${tool}\"]`);"
        " const r = e && e.nvpResult; return Boolean(r) && eval(test); }",
        arg=[tool, test], timeout=LOAD_MS, polling=100)
    return state(tab, tool)


def start(tab: Any, tool: str) -> dict[str, Any]:
    root = tab.locator(f'.nvp-live[data-tool="{tool}"]')
    root.scroll_into_view_if_needed()
    root.locator("button.nvp-start").click()
    tab.wait_for_function(
        "(tool) => ['ready', 'failed'].includes(document.querySelector("
        "`.nvp-live[data-tool=\"${tool}\"]`).dataset.state)", arg=tool, timeout=LOAD_MS)
    now = state(tab, tool)
    assert now["state"] == "ready", f"{tool} did not start: {now['text']}"
    return now


@pytest.fixture(scope="module")
def playground(browsers: Any, base_url: str) -> Any:
    """The playground page (1280 px) with every tool started, and its recorded events."""
    browser = browsers["wide"]
    browser.blocked.clear()
    tab, events = load_page(browser, base_url, f"{PAGE}.html")
    for tool in TOOLS:
        start(tab, tool)
    yield tab, events, browser
    tab.close()


def test_sampler_matches_nvp(playground: Any, model: nvp.RealNVP) -> None:
    tab, _, _ = playground
    assert tab.evaluate(js("live_set"), ["sampler", ".nvp-fix-seed", True])
    assert tab.evaluate(js("live_set"), ["sampler", ".nvp-seed", 7])
    tab.locator('.nvp-live[data-tool="sampler"] button.nvp-new').click()
    first = wait_result(tab, "sampler", "r.seed === 7")
    assert tab.evaluate(js("live_set"), ["sampler", ".nvp-temperature", 0.9])
    now = wait_result(tab, "sampler", "r.seed === 7 && Math.abs(r.temperature - 0.9) < 1e-9")
    assert "seed 7" in now["text"]
    z = torch.tensor(now["result"]["z"]).view(16, 1, 28, 28)
    z_first = torch.tensor(first["result"]["z"]).view(16, 1, 28, 28)
    # the fixed seed: the same draws ε at both temperatures, scaled by T
    assert torch.allclose(z * first["result"]["temperature"], z_first * 0.9, atol=1e-5)
    assert 0.8 < z.std().item() / 0.9 < 1.2  # T·N(0, 1), not zeros
    with torch.no_grad():
        x, _ = model(z, reverse=True)
    shown = torch.tensor(now["result"]["x"]).view(16, 1, 28, 28)
    assert (shown - x).abs().max().item() <= 1e-3
    assert x.std().item() > 0.1  # digits, not a blank grid


def test_drawn_digit_is_scored_like_nvp(playground: Any, model: nvp.RealNVP) -> None:
    tab, _, _ = playground
    root = tab.locator('.nvp-live[data-tool="draw"]')
    root.locator("button.nvp-clear").click()
    blank = wait_result(tab, "draw", "Math.max(...r.pixels) === 0")
    box = root.locator("canvas.nvp-pad").bounding_box()
    points = [(0.35, 0.2), (0.6, 0.25), (0.55, 0.5), (0.4, 0.8), (0.65, 0.8)]
    tab.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    tab.mouse.down()
    for px, py in points[1:]:
        tab.mouse.move(box["x"] + px * box["width"], box["y"] + py * box["height"], steps=8)
    tab.mouse.up()
    now = wait_result(tab, "draw", "r.pixels.filter((v) => v > 0.5).length > 40")
    tab.wait_for_timeout(500)  # the last stroke's score
    now = state(tab, "draw")
    printed = float(re.search(r"bits/dim (\d+\.\d+)", now["text"]).group(1))
    x = torch.tensor(now["result"]["pixels"]).view(1, 1, 28, 28)
    assert torch.equal(x, (x * 255).round() / 255)  # 8-bit values, as the page says
    with torch.no_grad():
        z, sldj = model(x, noise=torch.full_like(x, 0.5))
    expected = nvp.bits_per_dim(z, sldj).item()
    assert abs(printed - expected) <= 1e-3, (printed, expected)
    assert abs(now["result"]["bpd"] - expected) <= 1e-3
    assert abs(printed - blank["result"]["bpd"]) > 0.05  # the strokes changed the score
    assert now["pictures"] != blank["pictures"]
    config = tab.evaluate("() => JSON.parse(document.querySelector("
                          "'.nvp-live[data-tool=draw]').dataset.config)")
    shown = len(config["scores"])  # the digits of the histogram
    assert re.search(rf"\d+% of the {shown} test digits score at most this", now["text"])
    # a test digit loaded from its button scores what the histogram holds for it
    root.locator("button.nvp-digit").nth(2).click()
    digit = wait_result(tab, "draw", f"r.pixels.every((v, i) => "
                        f"Math.abs(255 * v - {config['digits'][2]}[i]) < 0.01)")
    want = torch.tensor(config["digits"][2], dtype=torch.float32) / 255
    assert torch.equal(torch.tensor(digit["result"]["pixels"]), want)
    assert abs(digit["result"]["bpd"] - config["scores"][2]) <= 1e-3


@pytest.mark.parametrize("tool, selector, value", [
    ("sampler", ".nvp-temperature", 0.3),
    ("draw", "button.nvp-digit", None),
    ("interpolate", ".nvp-t", 0.9),
    ("resample", "button.nvp-new", None),
    ("resample", ".nvp-which", 1),
])
def test_every_tool_responds(playground: Any, tool: str, selector: str, value: Any) -> None:
    tab, _, _ = playground
    before = state(tab, tool)
    if value is None:
        tab.locator(f'.nvp-live[data-tool="{tool}"] {selector}').first.click()
    else:
        assert tab.evaluate(js("live_set"), [tool, selector, value])
    for _ in range(100):
        now = state(tab, tool)
        if now["pictures"] != before["pictures"]:
            break
        tab.wait_for_timeout(100)
    assert now["pictures"] != before["pictures"], f"{tool}: {selector} changed no picture"


def test_resampled_scale_keeps_the_other(playground: Any, model: nvp.RealNVP) -> None:
    from nvp.book.live import scale_map

    tab, _, _ = playground
    assert tab.evaluate(js("live_set"), ["resample", ".nvp-which", 0])
    now = wait_result(tab, "resample", "r.scale === 0")
    z = torch.tensor(now["result"]["z"]).view(7, 1, 28, 28)
    kept = torch.tensor(scale_map(2)).view(1, 1, 28, 28) == 1
    assert torch.equal(z[:, kept[0]], z[:1, kept[0]].expand(7, -1))  # the coarse scale (2) kept
    assert (z[1:, ~kept[0]] - z[:1, ~kept[0]]).abs().max() > 0.1  # the fine scale (1) redrawn
    with torch.no_grad():
        x, _ = model(z, reverse=True)
    shown = torch.tensor(now["result"]["x"]).view(7, 1, 28, 28)
    assert (shown - x).abs().max().item() <= 1e-3


def test_no_errors_and_nothing_leaves_loopback(playground: Any) -> None:
    _, events, browser = playground
    assert not events["console"] and not events["pageerror"], events
    assert not events["failed"] and not events["status"], events
    assert not browser.blocked, browser.blocked


def test_started_tools_fit_a_phone(browsers: Any, base_url: str) -> None:
    tab, events = load_page(browsers["narrow"], base_url, f"{PAGE}.html")
    try:
        for tool in TOOLS:
            start(tab, tool)
        width = tab.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"the playground is {width} px wide at 390 px with its tools started"
        assert not events["console"] and not events["pageerror"], events
    finally:
        tab.close()


def test_chapter_8_has_the_tools(browsers: Any, base_url: str) -> None:
    tab, events = load_page(browsers["wide"], base_url, "book/08_sampling.html")
    try:
        for tool in TOOLS:
            assert state(tab, tool) is not None, f"chapter 8 has no {tool} tool"
        start(tab, "draw")
        now = wait_result(tab, "draw", "typeof r.bpd === 'number'")
        assert "bits/dim" in now["text"]
    finally:
        tab.close()


def test_from_a_file_the_tool_says_what_to_do(browsers: Any, html_dir: Any) -> None:
    tab = browsers["wide"].context.new_page()
    try:
        tab.goto((html_dir / f"{PAGE}.html").as_uri(), wait_until="load")
        tab.wait_for_function("() => document.querySelector('.nvp-live[data-state]')",
                              timeout=10_000)
        now = state(tab, "draw")
        assert now["state"] == "unavailable" and "make serve" in now["text"]
    finally:
        tab.close()
