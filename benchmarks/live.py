"""Speed of the book's live tools: the built page in headless Chromium, beside ONNX Runtime
(Python, one thread) and nvp in torch (one thread), on the same machine.

    make book && OMP_NUM_THREADS=1 .venv/bin/python benchmarks/live.py --rounds 10

Browser (the playground page served on 127.0.0.1, Debian's Chromium via Playwright, one wasm
thread): the time from the click on "start the model" to ready, cold (empty cache) and again
after a reload (the runtime and graphs cached); ms per 16 samples (decode, as the sampler's
"new samples" button); ms per encode of one drawing (as the draw tool scores a stroke). The page
times its own calls (``performance.now()`` around ``session.run``); medians over ``--rounds``.
Targets on a 2-core CPU: 16 samples ≤ 500 ms, one encode ≤ 100 ms, ready ≤ 3 s once cached.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from harness import CHROMIUM_ARGS, chromium_path, serve  # noqa: E402

import nvp  # noqa: E402
from nvp.data import load_dataset  # noqa: E402


def median_ms(f, rounds: int) -> float:
    f()  # warm-up
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        f()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def python_side(rounds: int, onnx_dir: Path) -> dict[str, float]:
    import onnxruntime as ort

    torch.set_num_threads(1)
    model = nvp.pretrained("mnist5k")
    z = 0.7 * torch.randn(16, 1, 28, 28)
    x = load_dataset("mnist5k", "test")[:1]
    half = torch.full_like(x, 0.5)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    enc = ort.InferenceSession(str(onnx_dir / "encode.onnx"), options)
    dec = ort.InferenceSession(str(onnx_dir / "decode.onnx"), options)
    with torch.no_grad():
        return {
            "torch 16 samples": median_ms(lambda: model(z, reverse=True), rounds),
            "torch 1 encode": median_ms(lambda: model(x, noise=half), rounds),
            "ort 16 samples": median_ms(lambda: dec.run(None, {"z": z.numpy()}), rounds),
            "ort 1 encode": median_ms(
                lambda: enc.run(None, {"x": x.numpy(), "noise": half.numpy()}), rounds),
        }


def browser_side(rounds: int, html: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    with serve(html) as url, sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        tab = context.new_page()
        for label in ("cold", "cached"):
            tab.goto(f"{url}/book/playground.html", wait_until="load")
            t = time.perf_counter()
            tab.locator('.nvp-live[data-tool="sampler"] button.nvp-start').click()
            tab.wait_for_function("() => window.nvpLive && window.nvpLive.readyMs", timeout=120_000)
            out[f"browser ready, {label} (click to ready)"] = 1000 * (time.perf_counter() - t)
            out[f"browser ready, {label} (page's own timer)"] = tab.evaluate(
                "() => window.nvpLive.readyMs")
        tab.wait_for_function(
            "() => document.querySelector('.nvp-live[data-tool=sampler]').nvpResult")
        samples, encodes = [], []
        result = "document.querySelector('.nvp-live[data-tool=sampler]').nvpResult"
        for _ in range(rounds + 1):
            before = tab.evaluate(f"() => {result}.seed")
            tab.locator('.nvp-live[data-tool="sampler"] button.nvp-new').click()
            tab.wait_for_function(f"(s) => {result}.seed !== s", arg=before)
            samples.append(tab.evaluate(f"() => {result}.ms"))
        draw = tab.locator('.nvp-live[data-tool="draw"]')
        draw.locator("button.nvp-start").click()
        tab.wait_for_function(
            "() => document.querySelector('.nvp-live[data-tool=draw]').nvpResult")
        buttons = draw.locator("button.nvp-digit")
        for k in range(rounds + 1):
            buttons.nth(k % buttons.count()).click()
            tab.wait_for_timeout(300)
            encodes.append(tab.evaluate(
                "() => document.querySelector('.nvp-live[data-tool=draw]').nvpResult.ms"))
        out["browser 16 samples"] = statistics.median(samples[1:])
        out["browser 1 encode"] = statistics.median(encodes[1:])
        context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    args = parser.parse_args()
    onnx_dir = args.html / "_static" / "nvp-model"
    if not (onnx_dir / "encode.onnx").is_file():
        sys.exit(f"no {onnx_dir}/encode.onnx: run `make book` first")
    load = os.getloadavg()
    results = {**python_side(args.rounds, onnx_dir), **browser_side(args.rounds, args.html)}
    print(f"load average (1, 5, 15 min) at the start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for name, ms in results.items():
        print(f"{name:<42} {ms:8.1f} ms")
    sizes = {p.name: p.stat().st_size for p in sorted(onnx_dir.iterdir())}
    sizes.update({p.name: p.stat().st_size
                  for p in sorted((args.html / "_static" / "ort").iterdir())})
    for name, n in sizes.items():
        print(f"{name:<42} {n:>10,} bytes")
    print(f"{'total downloaded by a tool page':<42} {sum(sizes.values()):>10,} bytes")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
