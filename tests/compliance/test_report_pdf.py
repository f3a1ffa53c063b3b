"""The HTML report prints to PDF in headless Chromium (the auditor's browser print)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from chalicelib.compliance.catalog import FRAMEWORKS
from chalicelib.compliance.html_report import render_html
from tests.compliance.reports import hostile_report

_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, (
        "Chromium is needed to print the compliance report to PDF and is not installed: "
        "`make test-deps` installs it (apt-get install -y chromium poppler-utils)"
    )
    return found


def print_to_pdf(html: str, folder: Path) -> bytes:
    """`html` printed by headless Chromium; the PDF's bytes."""
    page, pdf = folder / "report.html", folder / "report.pdf"
    page.write_text(html, encoding="utf-8")
    done = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={folder / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-2000:]
    return pdf.read_bytes()


def test_one_framework_prints_to_a_pdf(tmp_path: Path) -> None:
    document = print_to_pdf(render_html([hostile_report()], "acme"), tmp_path)
    assert document.startswith(b"%PDF-")
    assert len(_PAGE.findall(document)) >= 1


def test_every_framework_starts_a_page_of_its_own(tmp_path: Path) -> None:
    reports = [hostile_report(framework_id) for framework_id in FRAMEWORKS]
    document = print_to_pdf(render_html(reports, "acme"), tmp_path)
    pages = len(_PAGE.findall(document))
    assert pages >= len(reports), pages
