"""`records report`: the page customer service attaches to a dispute, read as its reader would.

The ledger comes from the demo (simulated MT-SICS scale over a pty, the real station path):
order SO-1002 is packed one coffee bag short (MISSING_ITEM, record 2), then re-packed (PASS,
record 3). The PDF is turned into PNG pages with pdftoppm and its text layer read with
pdftotext, so the test sees what a marketplace's reviewer sees.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from scale_agent.io.chain_head import LAST_HEAD_FILE, load_or_create_key, sign_head
from scale_agent.io.ledger import Ledger
from tests.fakes.browser import chromium, screenshot_folder

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser

MISSING, SHIPPED = "2", "3"  # SO-1002's records in the demo's ledger


@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scale_agent",
            "demo",
            "--parcels",
            "2",
            "--mqtt",
            "none",
            "--no-screen",
            "--data-dir",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


def report(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scale_agent",
            "records",
            "report",
            "SO-1002",
            "--data-dir",
            str(folder),
            "--tz",
            "Asia/Shanghai",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def pdf_text(pdf: Path) -> str:
    for tool in ("pdftoppm", "pdftotext"):
        assert shutil.which(tool), f"{tool} is missing: scripts/test installs poppler-utils"
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def pages(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(out / pdf.stem)], check=True)
    return sorted(out.glob(f"{pdf.stem}*.png"))


def test_a_missing_item_report_in_chinese_renders_with_names_verdict_and_proof(
    ledger_dir: Path,
) -> None:
    shots = screenshot_folder("report")
    pdf = shots / "SO-1002-zh_CN.pdf"
    result = report(ledger_dir, "--seq", MISSING, "--language", "zh_CN", "--pdf", str(pdf))
    assert result.returncode == 0, result.stderr
    assert 1 <= len(pages(pdf, shots)) <= 2
    text = pdf_text(pdf)
    for expected in (
        "SO-1002",
        "MISSING_ITEM",
        "缺件",
        "咖啡豆 500 克",
        "陶瓷杯 350 毫升",
        "CST",
        "哈希链完整",
    ):
        assert expected in text, expected


def test_the_english_report_names_the_items_and_holds_the_records_hash(ledger_dir: Path) -> None:
    shots = screenshot_folder("report-en")
    pdf = shots / "SO-1002-en.pdf"
    assert report(ledger_dir, "--seq", MISSING, "--pdf", str(pdf)).returncode == 0
    text = pdf_text(pdf)
    ledger = Ledger(ledger_dir, read_only=True)
    try:
        record_hash = ledger.hash_at(int(MISSING))
    finally:
        ledger.close()
    assert record_hash is not None
    flat = "".join(text.split())
    assert record_hash in flat  # the hash `records verify` checks, printed whole
    assert "Coffee beans 500 g" in text
    assert "Every weighing of this order" in text
    assert "PASS (PASS)" not in text  # the word is the code: said once
    assert pages(pdf, shots)


def test_by_default_the_report_is_of_the_parcel_that_shipped(ledger_dir: Path) -> None:
    result = report(ledger_dir)
    assert result.returncode == 0, result.stderr
    assert "Verdict: PASS\n" in result.stdout
    assert "SUPERSEDED" not in result.stdout
    assert "record 3 of 3; chain intact" in result.stdout


def test_the_record_contradicts_a_claim_against_the_repacked_parcel(ledger_dir: Path) -> None:
    result = report(ledger_dir, "--claim", "missing 1 x SKU-3310")
    assert result.returncode == 0, result.stderr
    assert "CONTRADICTED by the record" in result.stdout
    assert "None: answer the claim with this record." in result.stdout


@pytest.fixture(scope="module")
def shipped_short(ledger_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger in which SO-1002 left the bench as the demo's light parcel (no re-pack)."""
    source = Ledger(ledger_dir, read_only=True)
    try:
        light = source.records(order_id="SO-1002")[0]
    finally:
        source.close()
    folder = tmp_path_factory.mktemp("shipped-short")
    ledger = Ledger(folder)
    body = json.loads(light["body"])
    body.pop("indexed")
    ledger.record(
        str(light["parcel_id"]),
        order_id="SO-1002",
        verdict=str(light["verdict"]),
        recorded_at=str(light["recorded_at"]),
        body=body,
        outgoing=[],
    )
    ledger.close()
    return folder


@pytest.mark.parametrize(
    ("rule", "offer"),
    [
        ("refund", "A refund of 68.00 CNY."),
        ("reship", "Re-ship 1 x Coffee beans 500 g."),
        ("voucher", "A voucher of 68.00 CNY."),
    ],
)
def test_a_parcel_that_shipped_light_supports_the_claim_and_the_rule_sets_the_remedy(
    shipped_short: Path, rule: str, offer: str
) -> None:
    result = report(shipped_short, "--claim", "missing 1 x SKU-3310", "--rule", rule)
    assert result.returncode == 0, result.stderr
    assert "SUPPORTED by the record" in result.stdout
    assert offer in result.stdout


def test_a_claim_on_a_superseded_record_is_judged_on_what_shipped(ledger_dir: Path) -> None:
    # The red MISSING_ITEM record of an order that was re-packed and then passed: the order
    # left the bench complete, so no refund.
    result = report(ledger_dir, "--seq", MISSING, "--claim", "missing 1 x SKU-3310")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert "SUPERSEDED" in first
    assert f"left the bench as record {SHIPPED}" in first
    assert "CONTRADICTED by the record" in result.stdout
    assert "SUPPORTED" not in result.stdout
    assert "refund" not in result.stdout.lower()


def test_a_broken_chain_is_on_the_first_page_not_headlined_as_a_clean_pass(
    ledger_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "rewritten"
    shutil.copytree(ledger_dir, copy, ignore=shutil.ignore_patterns("*.fifo"))
    with sqlite3.connect(copy / "ledger.sqlite3") as db:
        db.execute("UPDATE verdicts SET body = replace(body, 'demo', 'DEMO') WHERE seq = 1")
    result = report(copy)
    assert result.returncode == 0, result.stderr
    assert "hash chain is BROKEN at record 1" in result.stdout.splitlines()[0]
    for language, words, facts in (
        ("en", "BROKEN at record 1", "Measured (settled)"),
        ("zh_CN", "第 1 条处断裂", "实测"),
    ):
        pdf = tmp_path / f"broken-{language}.pdf"
        assert report(copy, "--language", language, "--pdf", str(pdf)).returncode == 0
        first_page = subprocess.run(
            ["pdftotext", "-l", "1", "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert words in first_page
        if language == "en":  # the banner is no clean green PASS
            assert "PASS (the record does not hold: see below)" in " ".join(first_page.split())
        # ...above the facts, where an appeal reviewer starts reading.
        assert first_page.index(words) < first_page.index(facts)


def test_a_claim_the_tool_cannot_read_is_one_sentence(ledger_dir: Path) -> None:
    result = report(ledger_dir, "--claim", "box was crushed")
    assert result.returncode == 2
    assert "write 'short 150g' or 'missing 1 x SKU-ID'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_order_with_no_record_exits_1(ledger_dir: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scale_agent",
            "records",
            "report",
            "SO-9999",
            "--data-dir",
            str(ledger_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no verdict recorded for order SO-9999" in result.stderr


def test_the_report_quotes_the_anchored_head_and_says_when_the_ledger_lost_it(
    ledger_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(ledger_dir, copy, ignore=shutil.ignore_patterns("*.fifo"))
    key = load_or_create_key(copy)
    ledger = Ledger(copy, read_only=True)
    try:
        head = sign_head(key, "demo/line-1/bench-1", *ledger.head())
    finally:
        ledger.close()
    (copy / LAST_HEAD_FILE).write_text(json.dumps(head.as_json()))
    held = report(copy)
    assert "Anchored head: record 3, signed" in held.stdout
    assert ": held" in held.stdout
    later = sign_head(key, "demo/line-1/bench-1", 4, "ab" * 32)  # a record since deleted
    (copy / LAST_HEAD_FILE).write_text(json.dumps(later.as_json()))
    lost = report(copy)
    assert "NOT HELD" in lost.stdout
    assert "1 newest record(s) were deleted" in lost.stdout


def test_the_html_report_in_chromium_shows_the_chinese_names_and_the_plot(
    ledger_dir: Path, browser: Browser
) -> None:
    shots = screenshot_folder("report-html")
    page_file = shots / "SO-1002-zh_CN.html"
    result = report(
        ledger_dir,
        "--seq",
        MISSING,
        "--language",
        "zh_CN",
        "--html",
        str(page_file),
        "--claim",
        "short 500g",
    )
    assert result.returncode == 0, result.stderr
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    try:
        page.goto(page_file.as_uri())
        body = page.inner_text("body")
        assert "咖啡豆 500 克" in body
        assert "缺件 (MISSING_ITEM)" in body
        assert "已被取代" in body  # this red record is not what the order shipped as
        assert "记录支持该申诉" not in body
        width = page.eval_on_selector("img", "img => img.naturalWidth")
        assert width > 500  # the weight trace is there, not a broken image
        assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"')")
        page.screenshot(path=str(shots / "SO-1002-zh_CN.png"), full_page=True)
    finally:
        page.close()
