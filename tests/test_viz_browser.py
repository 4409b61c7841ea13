"""The browser app in a real browser: Debian's chromium driven by Playwright.

Starts ``eipsim viz scenarios/deepc_dinhvu.yaml`` on a free loopback port and checks what
issues 4 and 11 ask: Step advances time and the charts fast enough; keep a reference,
change a lever, run again and see both; an ensemble of 8 seeds draws its band; clicking a
firm opens its panel and highlights its links in both views; a permalink reopens the same
run; the layout at 1366×768 and at 720 px; the exports carry the run's seed and levers; no
request leaves the machine. Then Mesa's own ``SolaraViz`` example page renders and steps.
Screenshots and timings go to test-artifacts/; with EIPSIM_UPDATE_README_SHOT=1 the
comparison screenshot also goes to docs/img/viz.png.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
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
SCENARIO = "scenarios/deepc_dinhvu.yaml"

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
    "--headless",
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


def _descendants(pid: int) -> set[int]:
    """Processes started by ``pid`` and by those (Linux /proc)."""
    out: set[int] = set()
    todo = [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):
                for k in map(int, (task / "children").read_text().split()):
                    if k not in out:
                        out.add(k)
                        todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except OSError:
        return False


@contextlib.contextmanager
def _serve(cmd: list[str], name: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a server command (with ``{port}`` in it) until the block ends."""
    port = _free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"{name}.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed below)
    cmd = [c.replace("{port}", str(port)) for c in cmd]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited early: {log_path.read_text()}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=2).close()
                break
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer within 90 s")
            time.sleep(0.3)
        yield url
    finally:
        kids = _descendants(proc.pid)  # the ensembles' process pool, among others
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        deadline = time.monotonic() + 10
        while any(_alive(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [k for k in kids if _alive(k)]
        assert not left, f"{name} left processes behind after SIGTERM: {left}"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with _serve(
        [sys.executable, "-m", "eipsim", "viz", SCENARIO, "--port", "{port}"], "viz-server"
    ) as url:
        yield url


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


def _time(page: Page):
    return page.locator(".eip-time")


def _step(page: Page, n_after: int) -> float:
    """Press Step; seconds until the time read-out and the adoption chart show month n
    (polled every animation frame, not at Playwright's back-off intervals)."""
    t0 = time.perf_counter()
    page.locator(".eip-step").click()
    page.wait_for_function(
        """n => document.querySelector('.eip-time')?.textContent === 'Time: ' + n &&
            document.querySelector('.eip-adoption-share svg')?.getAttribute('data-points') == n""",
        arg=n_after,
        polling="raf",
    )
    return time.perf_counter() - t0


def _run_to_end(page: Page, months: int = 120) -> None:
    every = page.locator(".eip-every input")
    every.fill("12")
    every.press("Enter")
    page.locator(".eip-run-end").click()
    expect(_time(page)).to_have_text(f"Time: {months}", timeout=90_000)


def _set_lever(page: Page, key: str, value: str) -> None:
    box = page.locator(".eip-lever-" + key.replace(".", "-").replace("_", "-"))
    field = box.locator(".eip-exact input")
    field.fill(value)
    field.press("Enter")
    expect(box).to_have_class(re.compile("eip-changed"))


def _save(download, path: Path) -> Path:
    download.save_as(path)
    return path


def test_compare_ensemble_inspect_and_export(server: str, browser: Browser, tmp_path: Path):
    outside: list[str] = []
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = _open(ctx, server, outside)
    expect(_time(page)).to_have_text("Time: 0")

    # Step: time and the charts advance, fast (DEEP C, 88 firms)
    durations = [_step(page, n) for n in range(1, 7)]
    median = statistics.median(durations)
    print(
        f"\nstep -> page updated: median {median * 1000:.0f} ms, max {max(durations) * 1000:.0f} ms"
    )
    (ARTIFACTS / "viz-step-times.txt").write_text(
        "".join(f"{d * 1000:.0f} ms\n" for d in durations)
    )
    assert median < 1.0, f"a step took {median:.2f} s to reach the page (needs < 1 s)"

    # Keep the run as reference, change a lever: highlighted, not applied until asked
    _run_to_end(page)
    page.locator(".eip-keep").click()
    expect(page.locator(".eip-reference")).to_be_visible()
    _set_lever(page, "government.landfill_tax_usd_per_t", "40")
    expect(page.locator(".eip-pending")).to_contain_text("Landfill tax")
    settings = page.locator(".eip-run-settings")
    expect(settings).to_contain_text("Landfill tax (USD/t): 0")
    page.locator(".eip-apply").click()
    expect(_time(page)).to_have_text("Time: 0")
    expect(settings).to_contain_text("Landfill tax (USD/t): 40")
    expect(page.locator(".eip-pending")).to_have_count(0)
    _run_to_end(page)

    # Both runs on every chart, the levers side by side and the outcomes' differences
    expect(page.locator(".eip-adoption-share .eip-ref-line").first).to_be_attached()
    expect(page.locator(".eip-tonnes .eip-ref-line").first).to_be_attached()
    lever_rows = page.locator(".eip-compare-levers tr.eip-diff")
    expect(lever_rows).to_have_count(1)
    expect(lever_rows).to_contain_text("Landfill tax")
    expect(page.locator(".eip-compare-outcomes")).to_contain_text("landfilled")
    # schedules are visible on the charts: DEEP C's platform launch and reuse standard
    expect(page.locator(".eip-adoption-share .eip-marker")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "viz-compare.png"))

    # The exports are the run on screen: its seed and levers
    with page.expect_download() as dl:
        page.get_by_text("Download timeseries (CSV)").click()
    text = _save(dl.value, tmp_path / "ts.csv").read_text()
    assert text.startswith("# scenario: deepc_dinhvu.yaml\n# seed: 42\n")
    assert "# government.landfill_tax_usd_per_t: 40\n" in text
    assert text.count("\n") > 120
    with page.expect_download() as dl:
        page.get_by_text("Save settings as scenario (YAML)").click()
    sc = load_scenario(_save(dl.value, tmp_path / "settings.yaml"))
    assert sc.government.landfill_tax_usd_per_t == 40 and sc.seed == 42
    with page.expect_download() as dl:
        page.locator(".eip-adoption-share .eip-save-png").click()
    png = _save(dl.value, tmp_path / "chart.png").read_bytes()
    assert png.startswith(b"\x89PNG") and dl.value.suggested_filename.endswith(".png")

    # An ensemble of 8 seeds, for this run and the reference, on the same seeds
    t0 = time.perf_counter()
    page.locator(".eip-run-seeds").click()
    expect(page.locator(".eip-ens-done")).to_be_visible(timeout=120_000)
    secs = time.perf_counter() - t0
    print(f"8 seeds x 120 months, this run and the reference (16 runs): {secs:.1f} s")
    (ARTIFACTS / "viz-ensemble-time.txt").write_text(
        f"{page.locator('.eip-ens-progress').text_content()}\nwall: {secs:.1f} s\n"
    )
    expect(page.locator(".eip-ens-progress")).to_contain_text("16 of 16")
    expect(page.locator(".eip-adoption-share .eip-band")).to_have_count(2)
    expect(page.locator(".eip-ens-table")).to_contain_text("difference")
    expect(page.locator(".eip-diff-charts .eip-band").first).to_be_attached()
    page.screenshot(path=str(ARTIFACTS / "viz-ensemble.png"))
    page.locator(".eip-compare-card").screenshot(path=str(ARTIFACTS / "viz-compare-card.png"))
    if os.environ.get("EIPSIM_UPDATE_README_SHOT"):  # the README's picture: a comparison
        page.set_viewport_size({"width": 1440, "height": 900})
        page.locator(".eip-main").evaluate("e => e.scrollTo(0, 0)")
        page.locator(".eip-side").evaluate("e => e.scrollTo(0, 0)")
        page.wait_for_timeout(500)
        page.screenshot(path=str(ROOT / "docs" / "img" / "viz.png"))
        page.set_viewport_size({"width": 1366, "height": 768})

    # Click a firm that has links: its panel, its links and partners highlighted in both views
    link = page.locator(".eip-map-box path.eip-link").first
    supplier = link.get_attribute("data-link").split("-")[0]
    page.locator(f'.eip-map-box rect[data-slot="{supplier}"]').dispatch_event("click")
    panel = page.locator(".eip-firm-panel")
    expect(panel).to_contain_text("Sector:")
    expect(panel).to_contain_text("Trust")
    expect(panel.locator(".eip-firm-links")).to_contain_text("→")
    expect(panel.locator(".eip-candidates-summary, .eip-candidates-na").first).to_be_visible()
    expect(page.locator(".eip-map-box .eip-selected")).to_have_count(1)
    assert page.locator(".eip-map-box .eip-link-hl").count() >= 1
    assert page.locator(".eip-network-box .eip-link-hl").count() >= 1
    expect(page.locator(".eip-network-box .eip-selected")).to_have_count(1)
    page.locator(".eip-firm-card").screenshot(path=str(ARTIFACTS / "viz-firm.png"))
    # ... and in the network
    node = page.locator(".eip-network-box circle[data-slot]").nth(3)
    slot = node.get_attribute("data-slot")
    node.dispatch_event("click")
    expect(page.locator(f'.eip-map-box rect[data-slot="{slot}"]')).to_have_class(
        re.compile("eip-selected")
    )

    # The seed field: nonsense gets a message and the running model stays
    seed = page.locator(".eip-seed input")
    seed.fill("twelve")
    expect(page.locator(".eip-seed-error")).to_contain_text("must be a whole number")
    page.locator(".eip-apply").click()
    expect(page.locator(".eip-message")).to_contain_text("must be a whole number")
    expect(_time(page)).to_have_text("Time: 120")

    page.get_by_text("Tiếng Việt").click()
    expect(page.get_by_text("Thời gian:")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "viz-vi.png"))
    ctx.close()
    assert not outside, f"the page fetched from outside this machine: {outside[:5]}"


def test_permalink_reopens_the_same_run(server: str, browser: Browser) -> None:
    outside: list[str] = []
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = _open(ctx, server, outside)
    _set_lever(page, "government.carbon_price_usd_per_t_co2", "25")
    page.locator(".eip-seed input").fill("7")
    page.locator(".eip-apply").click()
    expect(page.locator(".eip-run-settings")).to_contain_text("Seed of this run: 7")
    href = page.locator(".eip-permalink").get_attribute("href")
    assert "seed=7" in href and "government.carbon_price_usd_per_t_co2=25" in href
    # the address bar follows the run on screen (a reload reopens it)
    page.wait_for_function("h => location.search === h", arg=href)
    for n in range(1, 5):
        _step(page, n)
    page.wait_for_timeout(500)  # the summary may arrive a moment after the chart
    first = page.locator(".eip-kpis").inner_text()

    other = _open(ctx, server + href, outside)
    expect(other.locator(".eip-run-settings")).to_contain_text("Seed of this run: 7")
    expect(other.locator(".eip-pending")).to_have_count(0)  # the link's levers are applied
    for n in range(1, 5):
        _step(other, n)
    deadline = time.monotonic() + 5  # the summary may arrive a moment after the chart
    while other.locator(".eip-kpis").inner_text() != first and time.monotonic() < deadline:
        other.wait_for_timeout(100)
    assert other.locator(".eip-kpis").inner_text() == first

    # Switching scenario with edits not applied asks first
    _set_lever(other, "government.brokering_per_year", "9")
    other.locator(".eip-scenario").click()
    other.get_by_role("option", name="baseline.yaml").click()
    confirm = other.locator(".eip-switch-confirm")
    expect(confirm).to_contain_text("1 changed setting")
    other.locator(".eip-switch-cancel").click()
    expect(confirm).to_have_count(0)
    expect(other.locator(".eip-pending")).to_contain_text("Government brokering")
    other.locator(".eip-scenario").click()
    other.get_by_role("option", name="baseline.yaml").click()
    other.locator(".eip-switch-ok").click()
    expect(other.locator(".eip-pending")).to_contain_text("Scenario")
    ctx.close()
    assert not outside


def test_layout_at_1366x768_and_at_720px(server: str, browser: Browser) -> None:
    outside: list[str] = []
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = _open(ctx, server, outside)

    def box(sel: str) -> dict[str, float]:
        b = page.locator(sel).first.bounding_box()
        assert b is not None, sel
        return b

    # map and charts side by side, both in view without scrolling; Step in view
    m, c = box(".eip-map-box svg"), box(".eip-adoption-share svg")
    assert m["y"] + m["height"] <= 768 and c["y"] + c["height"] <= 768, (m, c)
    assert box(".eip-step")["y"] < 768
    page.screenshot(path=str(ARTIFACTS / "viz-1366x768.png"))

    # half a screen wide: sidebar and map side by side, Step and the levers usable
    page.set_viewport_size({"width": 720, "height": 800})
    page.wait_for_timeout(300)
    side, main = box(".eip-side"), box(".eip-main")
    assert side["x"] + side["width"] <= main["x"] + 1, (side, main)
    assert main["width"] >= 380 and box(".eip-map-box svg")["width"] >= 300
    step = box(".eip-step")
    assert step["x"] + step["width"] <= side["x"] + side["width"] and step["y"] < 800
    _step(page, 1)
    page.screenshot(path=str(ARTIFACTS / "viz-720.png"))

    # a second tab of the same browser is its own session with its own model
    other = _open(ctx, server, outside)
    expect(_time(other)).to_have_text("Time: 0")
    expect(_time(page)).to_have_text("Time: 1")
    ctx.close()
    assert not outside


def test_mesa_solaraviz_example_renders_and_steps(browser: Browser) -> None:
    solara = str(Path(sys.executable).with_name("solara"))
    cmd = [solara, "run", "eipsim/viz/mesa_example.py", "--host", "127.0.0.1", "--port", "{port}"]
    cmd += ["--production", "--no-open", "--no-check-version"]
    env = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "EIPSIM_VIZ_SCENARIO": SCENARIO}
    with _serve(cmd, "viz-mesa-example", env) as url:
        outside: list[str] = []
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = _open(ctx, url, outside)
        expect(page.get_by_text("Time: 0")).to_be_visible()
        expect(page.locator(".eip-map-box svg")).to_be_visible()
        expect(page.locator(".eip-network-box svg")).to_be_visible()
        page.get_by_role("button", name="Step").click()
        expect(page.get_by_text("Time: 1")).to_be_visible()
        expect(page.locator(".eip-adoption-share svg")).to_have_attribute("data-points", "1")
        page.screenshot(path=str(ARTIFACTS / "viz-mesa-example.png"))
        ctx.close()
        assert not outside
