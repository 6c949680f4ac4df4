"""The HTML report, rendered by a real headless Chromium: content, escaping of host text, and a
readable screenshot. Chromium is a test system dependency (`make test` installs it)."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path

import pytest
from markupsafe import escape

from scanner.assess.results import Results
from scanner.checking.loader import load_checks
from scanner.model.vocabulary import Outcome, Reach, Strategy
from scanner.report.html import CSP, PRINT_SCRIPT, markup_text, render_html, write_html
from scanner.report.xlsx.style import LEVEL_FILL
from tests.unit.builders import linux_host, patch_os_check, scored

SCRIPT_HOST = "<script>document.title='PWNED'</script>"
IMG_HOST = '"><img src=x onerror="document.body.dataset.pwned=1">'
DEAD_HOST = "hist02&amp;<b>bold</b>"


# --- a real Chromium --------------------------------------------------------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium is not installed: run `make test`, which installs the test system deps")


def run_chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp / 'chromium-profile'}",
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def dump_dom(page: Path, tmp: Path) -> str:
    return run_chromium(tmp, "--dump-dom", page.as_uri()).stdout


class Dom(HTMLParser):
    """The elements (tag, attributes, path of ids) and text of a serialised DOM."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []
        self.text: list[tuple[str, tuple[str, ...]]] = []
        self._open: list[tuple[str, str]] = []
        self.feed(markup)

    _VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a, self.ids))
        if tag not in self._VOID:
            self._open.append((tag, a.get("id") or ""))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append((data, self.ids))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i for _, i in self._open if i)

    def tags(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a, _ in self.elements if t == tag]

    def text_in(self, element_id: str) -> list[str]:
        return [t.strip() for t, ids in self.text if element_id in ids]


# --- inputs -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real local scan that writes the HTML report through the CLI (`scan --html --junit`)."""
    out = tmp_path_factory.mktemp("scan")
    inv = out / "hosts.ini"
    inv.write_text("localhost ansible_connection=local\n")
    exe = Path(sys.executable).with_name("e8scan")
    proc = subprocess.run(
        [str(exe), "scan", "-i", str(inv), "--out", str(out / "run"), "-q", "--no-history"]
        + ["--html", str(out / "report.html"), "--junit", str(out / "junit.xml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 3, 4), proc.stderr
    return out


EVIL_CHECK = patch_os_check(
    "patch_os.evil",
    "Evidence that looks like markup",
    "<script>document.body.dataset.pwned=1</script>\x07bell \udcff & more",
)


def hostile_results() -> Results:
    return scored(
        [
            linux_host(SCRIPT_HOST, Reach.OK),
            linux_host(IMG_HOST, Reach.OK),
            linux_host(DEAD_HOST, Reach.UNREACHABLE, "connect to 127.0.0.9:22: <i>refused</i>"),
        ],
        [*load_checks(), EVIL_CHECK],
    )


# --- tests ------------------------------------------------------------------------------------


def test_template_ships_inside_the_package() -> None:
    tpl = files("scanner.report").joinpath("templates/report.html.j2")
    assert tpl.is_file() and "{{" in tpl.read_text(encoding="utf-8")


def test_real_scan_report_in_chromium_has_heatmap_summary_and_findings(
    scanned: Path, tmp_path: Path
) -> None:
    results = Results.model_validate_json((scanned / "run" / "results.json").read_text())
    page = scanned / "report.html"
    source = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", source)  # no external assets
    assert "<link" not in source

    dom = Dom(dump_dom(page, tmp_path))
    tables = [a["id"] for a in dom.tags("table") if a.get("id")]
    assert tables == ["fleet", "heatmap", "blockers"]
    heat = dom.text_in("heatmap")
    assert "localhost" in heat
    for s in Strategy:
        assert s.short_label in heat
    host = results.hosts[0]
    # Each strategy cell shows the host's level in the workbook's colour for it.
    styles = [a.get("style") or "" for t, a, ids in dom.elements if t == "td" and "heatmap" in ids]
    for s in Strategy:
        if s in host.not_applicable:  # office macros on this Linux host
            assert "not applicable" in heat
            continue
        assert any(LEVEL_FILL[host.levels[s]] in st for st in styles), s
    assert Strategy.OFFICE_MACROS in host.not_applicable
    fleet = dom.text_in("fleet")
    assert "Fleet (lowest)" in fleet and "Patch operating systems" in fleet
    run = dom.text_in("run")
    assert (
        results.run.id in run and "essential-eight@ISM-OSCAL 2025.12.9" in run and "default" in run
    )
    assert any(b.startswith("ISM-") for b in dom.text_in("blockers"))
    blind = sum(c.outcome is Outcome.NO_VISIBILITY for c in host.controls)
    assert blind and f"{blind} controls" in dom.text_in("coverage")
    assert len(dom.tags("details")) == len(results.hosts)
    findings = dom.text_in("findings")
    assert sum(t.startswith("ISM-") for t in findings) == len(host.controls)


def test_hostile_host_text_is_text_and_nothing_runs(tmp_path: Path) -> None:
    results = hostile_results()
    page = tmp_path / "hostile.html"
    write_html(results, page)
    assert [p.name for p in tmp_path.iterdir()] == ["hostile.html"]  # atomic: no temp left
    source = page.read_text(encoding="utf-8")  # valid UTF-8 despite the lone surrogate
    assert SCRIPT_HOST not in source and "\\udcff" in source and "\\x07bell" in source

    dom_text = dump_dom(page, tmp_path)
    dom = Dom(dom_text)
    scripts = [a for t, a, _ in dom.elements if t == "script"]
    assert len(scripts) == 1  # the print helper, nothing from host text
    assert not dom.tags("img") and not dom.tags("i") and not dom.tags("b")
    assert "data-pwned" not in dom_text
    assert dom.tags("title") and "PWNED" not in dom_text.split("</title>")[0]
    heat = dom.text_in("heatmap")
    assert SCRIPT_HOST in heat and IMG_HOST in heat and DEAD_HOST in heat
    coverage = " ".join(dom.text_in("coverage"))
    assert DEAD_HOST in coverage and "unreachable" in coverage and "<i>refused</i>" in coverage
    findings = " ".join(dom.text_in("findings"))
    assert "<script>document.body.dataset.pwned=1</script>" in findings


def test_csp_allows_only_the_print_helper() -> None:
    source = render_html(hostile_results())
    digest = base64.b64encode(hashlib.sha256(PRINT_SCRIPT.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in CSP and "default-src 'none'" in CSP
    assert f'content="{escape(CSP)}"' in source
    assert f"<script>{PRINT_SCRIPT}</script>" in source
    assert source.count("<script") == 1


def test_screenshot_is_a_real_readable_png(scanned: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    run_chromium(
        tmp_path,
        "--window-size=1400,1800",
        f"--screenshot={png}",
        (scanned / "report.html").as_uri(),
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 1800)
    assert len(data) > 50_000  # a rendered page with tables, not a blank canvas


def test_markup_text_escapes_what_markup_cannot_carry() -> None:
    assert markup_text("a\x00b\tc\nd\udcffe\ufffe") == "a\\x00b\tc\nd\\udcffe\\ufffe"
    assert markup_text("<&>") == "<&>"  # escaping markup is the serialiser's job
    assert len(markup_text("x" * 100_000)) < 32_001
