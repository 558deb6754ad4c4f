"""`gilcheck trace --format html` through the CLI: a self-contained page, checked by parsing it
and by driving its trace player in a real headless browser (Chromium, through Selenium)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

SEED = "specs/seed/buggy.gil"


class _Page(HTMLParser):
    """Every start tag with its attributes, script and style text, and the JSON data."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.inline: list[str] = []  # the text of <script> and <style> elements
        self.data = ""
        self.source = ""  # the whole document

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "link", "br", "img", "input"):  # HTML's void elements
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))  # `<rect ... />` in SVG: opened and closed

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] in ("script", "style"):
            self.inline.append(data)
            attrs = self.tags[-1][1] if self.tags[-1][0] == "script" else {}
            if attrs.get("id") == "gilcheck-data":
                self.data += data


def _page(path: Path) -> _Page:
    page = _Page()
    page.source = path.read_text(encoding="utf-8")
    page.feed(page.source)
    page.close()
    assert page.open == [], page.open
    return page


def _html(cli, tmp_path: Path, spec: str) -> Path:  # type: ignore[no-untyped-def]
    target = tmp_path / (Path(spec).stem + ".html")
    result = cli("trace", spec, "--format", "html", "-o", str(target))
    assert result.stdout == "" and "Traceback" not in result.stderr
    return target


def test_html_is_self_contained_and_parses(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    page = _page(_html(cli, tmp_path, SEED))
    # Nothing is loaded from anywhere: no external src/href, no url() or @import in CSS.
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "xlink:href", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith(("#", "data:")), (tag, name, value)
    for text in page.inline:
        assert not re.search(r"url\(|@import|https?://|fetch\(|XMLHttpRequest|import\(", text)
    assert "http://" not in page.source and "https://" not in page.source
    policy = [
        a["content"] for t, a in page.tags if a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert policy and "default-src 'none'" in (policy[0] or "")
    # The data the player shows are the trace's: nine steps and a merged one.
    data = json.loads(page.data)
    assert [s["label"] for s in data["steps"]] == ["1", "2", "3", "4", "5", "6", "+", "7", "8", "9"]
    gil = [s["after"]["holdings"][0] for s in data["steps"]]
    assert gil[3] == ["the GIL", "free", []]
    assert gil[4] == ["the GIL", "held by execute_loop", ["execute_loop"]]
    assert data["steps"][3]["after"]["buffers"][1] == [
        "r",
        "unbounded",
        ["the sender of rx"],
        False,
    ]
    # Every line of the spec, numbered; the final state's wait-for graph as SVG.
    lines = [a for t, a in page.tags if "src-line" in (a.get("class") or "")]
    assert len(lines) == len(Path(SEED).read_text().splitlines())
    assert any(t == "svg" for t, _ in page.tags)
    edges = [a for t, a in page.tags if t == "path" and "cycle" in (a.get("class") or "")]
    assert len(edges) == 2


def test_html_of_an_ok_spec_says_there_is_no_counterexample(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "fixed.html"
    result = cli("trace", "specs/seed/fixed.gil", "-f", "html", "-o", str(target))
    assert result.code == 0 and "no counterexample" in result.stderr
    page = _page(target)
    assert json.loads(page.data)["steps"] == []
    assert "No counterexample: no violation in the whole state space." in page.source


def test_html_escapes_the_spec(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "markup.gil"
    spec.write_text(
        'scenario "</script><script>alert(1)</script>"\nexpect deadlock\nmutex m\n'
        'thread main {\n    acquire m\n    print "<img src=x onerror=alert(1)>"\n'
        "    acquire m\n}\n"
    )
    page = _page(_html(cli, tmp_path, str(spec)))
    assert [t for t, _ in page.tags].count("script") == 2  # the data and the player
    assert not any(t == "img" for t, _ in page.tags)
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.source
    effects = [e for s in json.loads(page.data)["steps"] for e in s["effects"]]
    assert 'prints "<img src=x onerror=alert(1)>"' in effects
    assert "<img" not in page.data and "</script" not in page.data


def test_html_shows_the_model_files_the_trace_runs_in(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "block_on.gil"
    spec.write_text(
        'use "tokio"\nexpect deadlock\nthread main {\n    let (tx, rx) = oneshot()\n'
        "    spawn daemon finish(tx)\n    with_gil {\n        let v = call tokio_block_on(rx)\n"
        "    }\n}\nfn finish(tx) {\n    with_gil { skip }\n    send tx, 1\n}\n"
    )
    page = _page(_html(cli, tmp_path, str(spec)))
    files = [a.get("data-file") for t, a in page.tags if "src-line" in (a.get("class") or "")]
    shown = list(dict.fromkeys(files))
    assert shown[0] == str(spec) and len(shown) == 2 and shown[1].endswith("tokio.gil")
    # main's next line at the end is in the model: its badge has a line to go to.
    final = json.loads(page.data)["steps"][-1]["after"]["threads"]
    assert any(thread[2] == shown[1] for thread in final)


def test_an_expected_verdict_is_not_styled_as_a_failure(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    def verdict(page: _Page) -> str | None:
        return next(a["class"] for _, a in page.tags if "verdict" in (a.get("class") or ""))

    page = _page(_html(cli, tmp_path, SEED))
    assert verdict(page) == "verdict verdict-deadlock expected"
    assert ">verdict: deadlock (expected)</p>" in page.source
    wrong = tmp_path / "wrong.gil"
    wrong.write_text("expect ok\nmutex m\nthread main {\n    acquire m\n    acquire m\n}\n")
    page = _page(_html(cli, tmp_path, str(wrong)))
    assert verdict(page) == "verdict verdict-deadlock mismatch"
    assert ">verdict: deadlock (expected ok: MISMATCH)</p>" in page.source
    unannounced = tmp_path / "unannounced.gil"
    unannounced.write_text("mutex m\nthread main {\n    acquire m\n    acquire m\n}\n")
    page = _page(_html(cli, tmp_path, str(unannounced)))
    assert verdict(page) == "verdict verdict-deadlock"


# The browser test.


def _chrome() -> Any:
    """A headless Chromium driven by Selenium, or a skip saying what is missing."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip(
            "chromium and chromedriver are not installed (Debian: chromium chromium-driver)"
        )
    options = Options()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = _chrome()
    try:
        yield driver
    finally:
        driver.quit()


def _view(driver: Any) -> tuple[str, list[str], list[str], list[str]]:
    """The position label, highlighted lines, holder table rows and buffer table rows."""
    from selenium.webdriver.common.by import By

    position = driver.find_element(By.ID, "position").text
    current = [
        e.get_attribute("data-line") for e in driver.find_elements(By.CSS_SELECTOR, ".current")
    ]
    holders = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#holdings tbody tr")]
    buffers = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#buffers tbody tr")]
    return position, current, holders, buffers


def _problems(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def test_player_steps_forward_and_back_in_a_browser(tmp_path, cli, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = _html(cli, tmp_path, SEED)
    browser.get(page.resolve().as_uri())
    assert _problems(browser) == []
    start = _view(browser)
    assert start == ("start", [], ["the GIL free", "stdout's lock free"], [])
    forward = browser.find_element(By.ID, "forward")
    for _ in range(4):
        forward.click()
    four = _view(browser)
    assert four[:3] == ("step 4 (4 of 10)", ["13"], ["the GIL free", "stdout's lock free"])
    assert "r unbounded the sender of rx" in four[3]
    forward.click()  # execute_loop enters with_gil: the GIL is taken on line 19
    five = _view(browser)
    assert five[:3] == (
        "step 5 (5 of 10)",
        ["19"],
        ["the GIL held by execute_loop", "stdout's lock free"],
    )
    changed = browser.find_elements(By.CSS_SELECTOR, "#holdings tbody tr.changed")
    assert [r.text for r in changed] == ["the GIL held by execute_loop"]
    browser.find_element(By.ID, "back").click()
    assert _view(browser) == four
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert _view(browser) == five
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
    last = _view(browser)
    assert last[:3] == (
        "step 9 (10 of 10)",
        ["15"],
        ["the GIL held by execute_loop", "stdout's lock held by main"],
    )
    assert browser.find_element(By.ID, "forward").get_attribute("disabled") is not None
    # Each thread's next line carries its name, red when it is blocked.
    blocked = browser.find_elements(By.CSS_SELECTOR, ".badge.blocked")
    assert sorted(b.text for b in blocked) == ["execute_loop", "main"]
    browser.find_element(By.ID, "first").click()
    assert _view(browser) == start
    assert _problems(browser) == []


def test_player_shows_a_mutex_in_a_browser(tmp_path, cli, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    page = _html(cli, tmp_path, "specs/semantics/choose_lock_order_buggy.gil")
    browser.get(page.resolve().as_uri())
    assert _problems(browser) == []
    seen = set()
    for _ in range(12):
        seen.add(tuple(_view(browser)[2]))
        browser.find_element(By.ID, "forward").click()
    # main takes the GIL, the spawned lookup the cache lock: both show as they happen.
    assert ("the GIL held by main", "cache free") in seen
    assert ("the GIL held by main", "cache held by lookup") in seen
    assert _problems(browser) == []


# Each thread marker, and whether it lies inside the visible part of its listing.
_MARKERS = """
return Array.from(document.querySelectorAll(".badge")).map(function (badge) {
  var listing = badge.closest(".listing");
  var frame = listing.getBoundingClientRect();
  var left = frame.left + listing.clientLeft, top = frame.top + listing.clientTop;
  var box = badge.getBoundingClientRect();
  var inside = box.width > 0 && box.left >= left && box.right <= left + listing.clientWidth
    && box.top >= top && box.bottom <= top + listing.clientHeight;
  return [badge.textContent, inside, [box.left, box.right, box.top, box.bottom],
    [left, left + listing.clientWidth, top, top + listing.clientHeight]];
});
"""


def test_player_keeps_markers_in_view_and_labels_arrows(tmp_path, cli, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from test_pictures import TWO_LOCKS

    spec = tmp_path / "two_locks.gil"
    spec.write_text(TWO_LOCKS)
    browser.get(_html(cli, tmp_path, str(spec)).resolve().as_uri())
    assert _problems(browser) == []
    listing = browser.find_element(By.CSS_SELECTOR, ".listing")
    # The comments are wider than the listing: it scrolls sideways.
    assert browser.execute_script(
        "return arguments[0].scrollWidth > arguments[0].clientWidth", listing
    )
    forward = browser.find_element(By.ID, "forward")
    seen = set()
    while True:
        for scroll in ("0", "arguments[0].scrollWidth"):  # at either end of the long lines
            browser.execute_script(f"arguments[0].scrollLeft = {scroll}", listing)
            markers = browser.execute_script(_MARKERS)
            assert markers and all(m[1] for m in markers), (_view(browser), markers)
            seen.update(m[0] for m in markers)
        if forward.get_attribute("disabled") is not None:
            break
        forward.click()
    assert seen == {"main", "other"}
    # Each arrow of the wait-for graph says what its thread waits for.
    arrows = browser.find_elements(By.CSS_SELECTOR, "svg.waitfor path.edge")
    labels = browser.find_elements(By.CSS_SELECTOR, "svg.waitfor text.edge-label")
    assert len(arrows) == len(labels) == 2
    assert sorted(label.text for label in labels) == ["waits for a", "waits for b"]
    # The spec expects its deadlock: the verdict is not shown as a failure.
    verdict = browser.find_element(By.CSS_SELECTOR, ".verdict")
    assert verdict.text == "verdict: deadlock (expected)"
    assert "expected" in (verdict.get_attribute("class") or "").split()
    assert verdict.value_of_css_property("color") == "rgba(30, 132, 73, 1)"
    assert _problems(browser) == []


# Mermaid itself, when its script is at hand (.ci/run fetches it from npm).

_RENDER = """
var done = arguments[arguments.length - 1];
mermaid.initialize({startOnLoad: false});
var pre = document.createElement("pre");
pre.className = "mermaid";
pre.textContent = arguments[0];
document.body.textContent = "";
document.body.appendChild(pre);
mermaid.run({nodes: [pre]}).then(function () {
  var svg = pre.querySelector("svg");
  done({drawn: !!svg, text: svg ? svg.textContent : pre.textContent,
        markup: svg ? svg.querySelectorAll("i, b, script").length : 0});
}, function (error) { done({drawn: false, error: String(error && error.message || error)}); });
"""


def _mermaid(browser: Any, tmp_path: Path) -> Any:
    import os

    script = os.environ.get("GILCHECK_MERMAID_JS", "")
    if not script or not Path(script).is_file():
        pytest.skip("GILCHECK_MERMAID_JS does not name Mermaid's mermaid.min.js")
    page = tmp_path / "mermaid.html"
    page.write_text(
        # UTF-8, as pages that show Mermaid are: read as another encoding, its script draws
        # entity codes as placeholder characters.
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f'<script src="{Path(script).resolve().as_uri()}" charset="utf-8"></script>'
        "</body></html>"
    )
    browser.get(page.as_uri())
    browser.set_script_timeout(60)

    def render(text: str) -> dict[str, Any]:
        return dict(browser.execute_async_script(_RENDER, text))

    return render


def test_mermaid_draws_the_diagrams(tmp_path, cli, browser) -> None:  # type: ignore[no-untyped-def]
    from test_pictures import HOSTILE, KINDS, OK_SPEC, UNICODE

    render = _mermaid(browser, tmp_path)
    assert not render("sequenceDiagram\n    A->>B: x; y\n")["drawn"]  # a broken one is refused
    for spec in [*KINDS, OK_SPEC]:
        drawn = render(cli("trace", spec, "-f", "mermaid").stdout)
        assert drawn["drawn"], (spec, drawn.get("error"))
    hostile = tmp_path / "hostile.gil"
    hostile.write_text(HOSTILE)
    drawn = render(cli("trace", str(hostile), "-f", "mermaid").stdout)
    assert drawn["drawn"], drawn.get("error")
    # Entity codes are drawn as the characters, and markup stays text.
    assert 'x; y # <i>end</i> | z -> w \\\\ \\"q\\"' in drawn["text"]
    assert "#59;" not in drawn["text"] and drawn["markup"] == 0
    # Text beyond ASCII reaches the drawing as it is.
    unicode = tmp_path / "unicode.gil"
    unicode.write_text(UNICODE, encoding="utf-8")
    drawn = render(cli("trace", str(unicode), "-f", "mermaid").stdout)
    assert drawn["drawn"], drawn.get("error")
    assert "ロックの順序 🔒" in drawn["text"] and 'sends "ロック; x # y 🔒" on c' in drawn["text"]
    markdown = cli("trace", "specs/progress/stuck_worker_buggy.gil", "-f", "markdown").stdout
    drawn = render(markdown.split("```mermaid\n", 1)[1].split("```", 1)[0])
    assert drawn["drawn"], drawn.get("error")
    assert _problems(browser) == []
