"""End to end in a real browser: Playwright drives Debian's headless Chromium against the app on localhost.

A member of staff asks a question, sees the answer card with a citation chip, clicks
it, reads the provision with the quoted words highlighted, gives the answer a thumb
down and then says which citation is wrong, and the test finds that one feedback row
in SQLite. Screenshots go to
test-artifacts/ (and to docs/screenshots/ for the README when UPDATE_SCREENSHOTS=1).

Chromium comes from apt (``chromium``), never from ``playwright install``; the
test installs it when it can and skips, saying why, only when it cannot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest

from assistant.answer.card import quote_items
from assistant.settings import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = PROJECT_ROOT / "test-artifacts"
README_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
QUESTION = "Can the Institute refuse to register a teacher who has been charged with a category A offence?"
ANSWER_TIMEOUT_MS = 120_000


def _chromium_on_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def _install_chromium() -> str:
    """Try apt-get; returns what went wrong ('' on success)."""
    if not shutil.which("apt-get"):
        return "apt-get is not available"
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        return "installing needs root (not root, and no password-less sudo)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"]):
        try:
            done = subprocess.run(prefix + command, capture_output=True, text=True, timeout=900, env=env)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(command)}` timed out"
        if done.returncode != 0:
            return f"`{' '.join(command)}` failed: {done.stderr.strip()[-300:]}"
    return ""


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _chromium_on_path()
    if path is None:
        problem = _install_chromium()
        path = _chromium_on_path()
        if path is None:
            pytest.skip(f"Chromium is not installed and could not be installed with apt-get ({problem or 'no chromium binary after install'})")
    return path


def _open_page(chromium, width: int, height: int):
    """A page that fails the test on a dialog and on any request to a host other than the app's own (staff machines may be offline)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.on("dialog", lambda dialog: pytest.fail(f"the page opened a dialog: {dialog.message}"))
        elsewhere: list[str] = []

        def only_the_app(route):
            host = urlparse(route.request.url).hostname
            if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_app)
        yield page
        browser.close()
        assert elsewhere == [], f"the page asked another host: {elsewhere[:5]}"


@pytest.fixture()
def page(chromium):
    yield from _open_page(chromium, 1366, 900)


@pytest.fixture()
def phone(chromium):
    yield from _open_page(chromium, 390, 844)


def _answer_card(page, question: str, turn: int = 0):
    page.locator("#question textarea").fill(question)
    page.locator("#ask-button").click()
    card = page.locator(f'#conversation .turn[data-turn="{turn}"] .a:not(.streaming)')
    card.wait_for(timeout=ANSWER_TIMEOUT_MS)
    return card


def _save(page, name: str, readme_name: str | None = None) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    if readme_name and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOTS / readme_name)
    return path


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_ask_open_the_cited_provision_and_flag_it(page, live_app_url, live_assistant, live_settings):
    expected = live_assistant.ask(QUESTION)
    assert expected.citations, "the pipeline should answer this gold-set question with citations"

    page.goto(live_app_url)
    card = _answer_card(page, QUESTION)
    # The plain answer first, then each quote of the law exactly once.
    assert card.locator(".short-answer").bounding_box()["y"] < card.locator(".cites").bounding_box()["y"]
    beneath = _squash(card.evaluate("e => { const c = e.cloneNode(true); c.querySelectorAll('.short-answer').forEach(x => x.remove()); return c.textContent; }"))
    items = quote_items(expected)
    assert card.locator(".cites li").count() == len(items)
    for item in items:
        for text in item.texts:
            assert beneath.count(_squash(text)) == 1, text
    chip = card.locator(".cites button.chip").first
    cited = expected.citations[int(chip.get_attribute("data-ref").rsplit(":", 1)[1])]
    assert chip.inner_text() == cited.label
    assert expected.citations[0].document_title in page.locator("#conversation .stamp").first.inner_text()
    assert "score" not in card.inner_text()
    # Type that renders offline: the system fonts, not a web font that is not there.
    assert page.evaluate("getComputedStyle(document.querySelector('#ask-button')).fontFamily").startswith("system-ui")
    page.locator("#conversation details.sources summary").first.click()
    assert page.locator("#conversation .sources li").count() == len(expected.retrieved)
    answer_png = _save(page, "ui-answer.png", "answer.png")

    chip.click()
    page.locator("#provision-panel mark.quote").first.wait_for(timeout=30_000)
    panel = page.locator("#provision-panel")
    assert cited.heading in panel.locator("h3").inner_text()
    marked = " ".join(m.inner_text() for m in panel.locator("mark.quote").all())
    assert _squash(marked) == _squash(cited.quote)
    assert cited.path[0] in panel.locator(".crumbs").inner_text()
    assert panel.locator("details.history").count() == (1 if live_assistant.provision(cited.document_id, cited.provision_id).notes else 0)
    provision_png = _save(page, "ui-provision.png", "provision.png")

    assert not page.locator("#feedback-comment").is_visible()  # the comment form opens only with a thumb
    card.locator('button.thumb[data-ref="rate:0:down"]').click()
    status = page.locator("#feedback-status")
    status.get_by_text("saved (not helpful)").wait_for(timeout=30_000)
    row_id = int(re.search(r"feedback #(\d+)", status.inner_text())[1])
    page.locator("#feedback-wrong input[type=checkbox]").check()
    flagged = expected.citations[-1].label
    page.locator("#feedback-citation input").click()
    page.locator('[data-testid="dropdown-option"]', has_text=flagged).first.click()
    page.locator("#feedback-comment textarea").fill("The quote is right but I expected the exemption section too.")
    page.locator("#feedback-send").click()
    status.get_by_text("with your comment or flag").wait_for(timeout=30_000)
    assert f"feedback #{row_id} saved" in status.inner_text()  # the same record, not a second one
    _save(page, "ui-feedback.png")

    with sqlite3.connect(live_settings.data_dir / "feedback.sqlite3") as conn:
        row = conn.execute(
            "SELECT question, rating, wrong_citation, citation_label, comment, answer_text, citations_json, source FROM feedback WHERE id = ?", (row_id,)
        ).fetchone()
        rows = conn.execute("SELECT COUNT(*) FROM feedback WHERE question = ?", (QUESTION,)).fetchone()[0]
    assert row is not None and rows == 1
    question, rating, wrong, citation_label, comment, answer_text, citations_json, source = row
    assert citation_label == flagged
    assert (question, rating, wrong, source) == (QUESTION, "down", 1, "ui")
    assert comment == "The quote is right but I expected the exemption section too."
    assert [c["label"] for c in json.loads(citations_json)] == [c.label for c in expected.citations]
    assert answer_text == expected.text
    assert answer_png.stat().st_size > 10_000 and provision_png.stat().st_size > 10_000


def test_the_provision_browser_opens_typed_references_and_the_hierarchy(page, live_app_url):
    page.goto(live_app_url)
    page.get_by_role("tab", name="Browse provisions").click()
    page.locator("#provision-ref input, #provision-ref textarea").first.fill("Sch 2 cl 2")
    page.locator("#provision-open").click()
    heading = page.locator("#provision-panel h3")
    heading.get_by_text("Sch 2 cl 2").wait_for(timeout=30_000)
    assert "Schedule 2" in page.locator("#provision-panel .crumbs").inner_text()

    page.locator("#browse-group input").click()
    page.keyboard.type("Division 3—Registration of teachers")
    page.locator('[data-testid="dropdown-option"]').first.click()
    page.locator("#browse-provision input").click()
    page.locator('[data-testid="dropdown-option"]', has_text="s 2.6.9 Registration as a teacher").click()
    heading.get_by_text("s 2.6.9 Registration as a teacher").wait_for(timeout=30_000)
    assert "Division 3—Registration of teachers" in page.locator("#provision-panel .crumbs").inner_text()
    _save(page, "ui-browse.png")


def test_a_follow_up_is_rewritten_and_hostile_text_stays_text(page, live_app_url):
    page.goto(live_app_url)
    ask = page.locator("#ask-button")
    page.locator("#question textarea").fill(QUESTION)
    ask.click()
    page.locator('#conversation .turn[data-turn="0"] .a:not(.streaming)').wait_for(timeout=ANSWER_TIMEOUT_MS)

    page.locator("#question textarea").fill("and for early childhood teachers?")
    ask.click()
    rewritten = page.locator('#conversation .turn[data-turn="1"] .rewritten')
    rewritten.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Read as a follow-up to" in rewritten.inner_text() and "category A offence" in rewritten.inner_text()

    hostile = '<img src=x onerror="alert(1)"> {{constructor}} ${1+1}'
    page.locator("#question textarea").fill(hostile)
    ask.click()
    page.locator('#conversation .turn[data-turn="2"] .a:not(.streaming)').wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator('#conversation .turn[data-turn="2"] .q').inner_text() == hostile
    assert page.locator("#conversation img").count() == 0  # shown as text; the page fixture fails on any alert


def test_on_a_phone_a_chip_opens_the_provision_in_view_and_a_refusal_says_why_in_words(phone, live_app_url):
    phone.goto(live_app_url)
    card = _answer_card(phone, QUESTION)
    assert not phone.locator("#provision-panel").is_visible(), "the panel covered the answer before anything was clicked"
    # A dropdown's text stops short of its arrow (it ran under it).
    assert phone.evaluate("parseFloat(getComputedStyle(document.querySelector('#document-filter input')).paddingRight)") >= 16
    _save(phone, "ui-phone-answer.png", "answer-phone.png")
    chip = card.locator(".cites button.chip").first
    chip.scroll_into_view_if_needed()
    chip.click()
    panel = phone.locator("#provision-panel")
    panel.locator("mark.quote").first.wait_for(timeout=30_000)
    box = panel.bounding_box()
    assert box is not None and box["y"] < 844 and box["y"] + box["height"] <= 844 + 1, "the provision opened outside the screen"
    _save(phone, "ui-phone-provision.png", "provision-phone.png")
    panel.locator("button.panel-close").click()
    panel.locator("mark.quote").first.wait_for(state="detached", timeout=30_000)

    # Refused whatever the model's calibration: it asks for advice (the refusal's look is what is tested here).
    refused = _answer_card(phone, "Should I sue my school council?", turn=1)
    assert "abstained" in refused.get_attribute("class")
    words = refused.inner_text()
    assert "Not answered by the law text" in words.replace("NOT ANSWERED BY THE LAW TEXT", "Not answered by the law text")
    assert not re.search(r"\b0\.\d", words) and "threshold" not in words and "probability" not in words
