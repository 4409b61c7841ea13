"""The browser app in a real browser: Debian's chromium driven by Playwright.

Starts ``eipsim viz`` on a free loopback port, then checks what issue 4 asks: the page
renders, Step advances time and the charts, a lever + Reset reaches the model, the seed field
answers bad input with a message, a second page has its own model, the CSV and YAML exports,
no request leaves the machine (offline), and a step updates the page in under a second.
Screenshots go to test-artifacts/; with EIPSIM_UPDATE_README_SHOT=1 also to docs/img/viz.png.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"

if importlib.util.find_spec("playwright") is None:
    pytest.skip(
        "playwright is not installed (it comes with the dev extra: pip install -e '.[dev]')",
        allow_module_level=True,
    )
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is missing at /usr/bin/chromium (`make browser` installs it; "
        "never `playwright install`)",
        allow_module_level=True,
    )
if importlib.util.find_spec("solara") is None:
    pytest.skip("the viz extra is not installed: pip install -e '.[viz]'", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402

from eipsim.scenario.schema import load_scenario  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "viz-server.log", "w")  # noqa: SIM115 (closed below)
    cmd = [sys.executable, "-m", "eipsim", "viz", "scenarios/baseline.yaml", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"eipsim viz exited early: {(ARTIFACTS / 'viz-server.log').read_text()}"
                )
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=2).close()
                break
            if time.monotonic() > deadline:
                pytest.fail("eipsim viz did not answer within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(ctx: BrowserContext, url: str, outside: list[str]) -> Page:
    page = ctx.new_page()
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    page.goto(url)
    page.get_by_text("Time:").first.wait_for(timeout=60_000)  # the app has rendered
    return page


def _time(page: Page) -> Page:
    return page.locator(".eip-time")


def _adoption(page: Page):
    return page.locator(".eip-chart-adoption svg")


def _step(page: Page, n_after: int) -> float:
    """Press Step; seconds until the time read-out and the adoption chart show month n
    (polled every animation frame, not at Playwright's back-off intervals)."""
    t0 = time.perf_counter()
    page.locator(".eip-step").click()
    page.wait_for_function(
        """n => document.querySelector('.eip-time')?.textContent === 'Time: ' + n &&
            document.querySelector('.eip-chart-adoption svg')?.getAttribute('data-points') == n""",
        arg=n_after,
        polling="raf",
    )
    return time.perf_counter() - t0


def test_app_in_browser(server: str, browser: Browser, tmp_path: Path) -> None:
    outside: list[str] = []
    ctx = browser.new_context(viewport={"width": 1500, "height": 1150}, accept_downloads=True)
    page = _open(ctx, server, outside)
    expect(_time(page)).to_have_text("Time: 0")

    # Step several times: time advances and the adoption chart changes each month
    before = _adoption(page).inner_html()
    durations = [_step(page, n) for n in range(1, 7)]
    assert _adoption(page).inner_html() != before
    median = statistics.median(durations)
    print(
        f"\nstep -> page updated: median {median * 1000:.0f} ms, max {max(durations) * 1000:.0f} ms"
    )
    (ARTIFACTS / "viz-step-times.txt").write_text(
        "".join(f"{d * 1000:.0f} ms\n" for d in durations)
    )
    assert median < 1.0, f"a step took {median:.2f} s to reach the page (needs < 1 s)"

    # A second tab of the same browser is its own session with its own model
    other = _open(ctx, server, outside)
    expect(_time(other)).to_have_text("Time: 0")
    _step(other, 1)
    expect(_time(page)).to_have_text("Time: 6")
    other.close()

    # A lever (the platform) takes effect on Reset, and the model reports it back
    settings = page.locator(".eip-run-settings")
    expect(settings).to_contain_text("Waste-information platform: off")
    page.locator(".eip-platform label").click()
    expect(page.locator(".eip-pending")).to_be_visible()
    expect(settings).to_contain_text("Waste-information platform: off")  # not before Reset

    # The seed: nonsense gets a message and Reset keeps the running model; a number is used
    seed = page.locator(".eip-seed input")
    seed.fill("twelve")
    expect(page.locator(".eip-seed-error")).to_contain_text("must be a whole number")
    page.locator(".eip-reset").click()
    expect(page.locator(".eip-message")).to_contain_text("must be a whole number")
    expect(_time(page)).to_have_text("Time: 6")
    seed.fill("2024")
    expect(page.locator(".eip-seed-error")).to_have_count(0)
    page.locator(".eip-reset").click()
    expect(_time(page)).to_have_text("Time: 0")
    expect(settings).to_contain_text("Waste-information platform: on")
    expect(settings).to_contain_text("Seed of this run: 2024")
    expect(page.locator(".eip-pending")).to_have_count(0)
    for n in range(1, 4):
        _step(page, n)

    # Export: the timeseries as CSV, the settings as a scenario `eipsim run` accepts
    with page.expect_download() as dl:
        page.get_by_text("Download timeseries (CSV)").click()
    csv = tmp_path / "ts.csv"
    dl.value.save_as(csv)
    lines = csv.read_text().splitlines()
    assert "adoption_share" in lines[0].split(",")
    assert len(lines) == 1 + 3
    with page.expect_download() as dl:
        page.get_by_text("Save settings as scenario (YAML)").click()
    yml = tmp_path / "settings.yaml"
    dl.value.save_as(yml)
    sc = load_scenario(yml)
    assert sc.operator.platform.enabled is True
    assert sc.seed == 2024

    # Pick the Nam Cau Kien scenario, switch the platform on and let links appear (Play);
    # then keep pictures of the running app, in English and in Vietnamese.
    if (ROOT / "scenarios" / "nam_cau_kien.yaml").exists():
        page.locator(".eip-scenario").click()
        page.get_by_role("option", name="nam_cau_kien.yaml").click()
        platform = page.locator(".eip-platform input")
        expect(platform).not_to_be_checked()  # the levers now show the file's values
        page.locator(".eip-platform label").click()
        expect(platform).to_be_checked()
        page.locator(".eip-reset").click()
        expect(settings).to_contain_text("nam_cau_kien.yaml")
        expect(settings).to_contain_text("Waste-information platform: on")
    interval = page.get_by_role("slider").first  # pause between months: 100 ms
    interval.press("Home")
    interval.press("ArrowRight")
    page.locator(".eip-play").click()
    page.wait_for_function(
        "() => parseInt(document.querySelector('.eip-time').textContent.split(' ')[1]) >= 36",
        timeout=30_000,
    )
    page.locator(".eip-play").click()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "viz-readme.png"))
    if os.environ.get("EIPSIM_UPDATE_README_SHOT"):  # refresh the README's picture on request
        page.screenshot(path=str(ROOT / "docs" / "img" / "viz.png"))
    page.set_viewport_size({"width": 1500, "height": 2600})  # the whole page: it scrolls inside
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "viz.png"))
    page.get_by_text("Tiếng Việt").click()
    expect(page.get_by_text("Thời gian:")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "viz-vi.png"))
    ctx.close()
    assert not outside, f"the page fetched from outside this machine: {outside[:5]}"
