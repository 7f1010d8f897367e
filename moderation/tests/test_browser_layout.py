"""Every page at 390 × 844 and 1366 × 900 in headless Chromium, under the real CSP.

No page may scroll sideways; the top bar collapses behind a menu button on a phone; the
page behaviours that moved from inline handlers to static JavaScript still work; dark mode
follows prefers-color-scheme; the data tables stack as cards on a phone. With
MEMESENSE_SCREENSHOTS=DIR (bin/screenshots) every page is also saved as a PNG there, in
light and dark mode, for a person to look at.
"""

import os
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from classifier.models import LabelSet
from ml.signals import offensive_scores
from moderation.models import DatasetImport, LabelCorrection, RetrainRun
from moderation.services import correction_create
from moderation.tests.factories import make_user, make_version, predicted_meme

pytestmark = pytest.mark.browser

PASSWORD = "layout-check-42"
SIZES = [(390, 844), (1366, 900)]
SHOTS = os.environ.get("MEMESENSE_SCREENSHOTS")


def _viewport(driver, width, height):
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _ready(driver):
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def _log_in(driver, live_server, username):
    driver.get(live_server.url + reverse("login"))
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # readyState alone can still be the login page's, before the redirect has begun.
    WebDriverWait(driver, 20).until(lambda d: reverse("login") not in d.current_url)
    _ready(driver)


def _screenshot(driver, name):
    """Save the whole page, not just the viewport, when MEMESENSE_SCREENSHOTS is set."""
    if not SHOTS:
        return
    import base64

    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    width, height = driver.execute_script(
        "return [document.documentElement.clientWidth, document.documentElement.scrollHeight]"
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    (Path(SHOTS) / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def _overflow(driver) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no sideways scroll)."""
    return driver.execute_script(
        "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )


def _data():
    sentiment = LabelSet.objects.get(name="sentiment")
    moderator = make_user("kim", moderator=True, password=PASSWORD)
    moderator.is_staff = True
    moderator.save()
    other = make_user("lee", moderator=True, password=PASSWORD)
    make_user("visitor", password=PASSWORD)
    version = make_version(sentiment, "sentiment-layout-v1", metrics={"macro_f1": 0.61})
    texts = [
        "WHEN YOU FINALLY FIX THE BUG AND THREE NEW ONES APPEAR",
        "you stupid fucking idiot",
        "a_very_long_unbroken_file_name_that_could_push_a_table_wider_than_a_phone_screen",
        "MONDAY",
    ]
    scores = offensive_scores(texts)
    memes = []
    for i, (text, score) in enumerate(zip(texts, scores, strict=True)):
        meme = predicted_meme(
            version,
            0.3 + 0.15 * i,
            ocr_text=text,
            caption=text.lower(),
            uploader=other,
            original_name=f"{text[:60]}.png",
        )
        meme.offensive_score = float(score)
        meme.save(update_fields=["offensive_score"])
        memes.append(meme)
    with override_settings(DOUBLE_REVIEW_RATE=0):
        first = correction_create(
            meme=memes[3], label_set=sentiment, moderator=other, new_label="positive"
        )
        # A second opinion, so the tables of moderator agreement have a row.
        correction_create(
            meme=memes[3],
            label_set=sentiment,
            moderator=moderator,
            new_label="negative",
            seen_correction_id=first.pk,
        )
    # Finished (not running) retrain and import rows: running ones reload their page.
    RetrainRun.objects.create(
        label_set=sentiment,
        status=RetrainRun.Status.SUCCEEDED,
        triggered_by=moderator,
        new_version=version,
        gate_metrics={"new": {"macro_f1": 0.61, "auroc": 0.7}, "active": {}},
        decision="promoted: no active version to compare with",
    )
    DatasetImport.objects.create(
        label_set=sentiment,
        status=DatasetImport.Status.SUCCEEDED,
        folder="/tmp/import-layout",
        csv_name="labels_with_a_long_file_name_from_a_spreadsheet_export.csv",
        label_column="label",
        summary={
            "imported": 40,
            "duplicate": 2,
            "missing_image": 1,
            "unreadable": 0,
            "unmapped": 3,
        },
        problems=["row 7: no image named x.png in the zip"],
        created_by=moderator,
    )
    return sentiment, memes


def _pages(memes):
    review = reverse("moderation:review", args=[memes[0].pk]) + "?label_set=sentiment"
    return {
        "home": reverse("classifier:home"),
        "upload": reverse("classifier:upload"),
        "meme": reverse("classifier:meme_detail", args=[memes[0].pk]),
        "dashboard": reverse("moderation:dashboard") + "?label_set=sentiment",
        "queue": reverse("moderation:queue") + "?label_set=sentiment",
        "review": review,
        "search": reverse("moderation:search") + "?label_set=sentiment&text=e",
        "label-sets": reverse("moderation:label_sets"),
        "label-set": reverse("moderation:label_set", args=["sentiment"]),
        "moderator": reverse("moderation:moderator", args=["lee"]) + "?label_set=sentiment",
        "history": reverse("moderation:review", args=[memes[3].pk]) + "?label_set=sentiment",
        "404": "/no/such/page/",
    }


# Tables where cards make no sense stay a (small) grid on a phone: the confusion matrix,
# and the per-day bars of a moderator's page (fourteen cards of three lines each otherwise).
GRIDS = "#confusion-table, #per-day-table"

# Per table with a header row, the problems a phone reader would meet: a table (or one of
# its cells) wider than the viewport, a sideways-scrolling box around it, a header hidden
# from assistive tech, a row whose cells do not stack (phone) or do not sit side by side
# (laptop), a cell without its column's name as a label.
TABLE_LAYOUT = """
const phone = arguments[0];
const grids = arguments[1];
const width = document.documentElement.clientWidth;
const problems = [];
const checked = [];
document.querySelectorAll("main table").forEach(function (table, t) {
  const name = table.id || "table " + t;
  for (let el = table.parentElement; el; el = el.parentElement) {
    const overflow = getComputedStyle(el).overflowX;
    if (overflow === "auto" || overflow === "scroll") {
      problems.push(name + " sits in a box with overflow-x: " + overflow);
    }
  }
  table.querySelectorAll("*").forEach(function (el) {
    const box = el.getBoundingClientRect();
    if (box.width && (box.left < -0.5 || box.right > width + 0.5)) {
      problems.push(name + ": a " + el.tagName + " reaches " + box.left + ".." + box.right);
    }
  });
  if (!table.tHead || table.matches(grids)) return;
  const head = getComputedStyle(table.tHead);
  if (head.display === "none" || head.visibility === "hidden") {
    problems.push(name + ": its header is hidden from screen readers");
  }
  const labels = Array.from(table.tHead.rows[0].cells, function (th) {
    return th.textContent.trim();
  });
  Array.from(table.tBodies[0].rows).forEach(function (row, r) {
    const cells = Array.from(row.cells).filter(function (cell) {
      return getComputedStyle(cell).display !== "none";
    });
    if (row.cells.length < labels.length) return;  // a "nothing yet" row
    if (checked.indexOf(table.id) < 0) checked.push(table.id);
    Array.from(row.cells).forEach(function (cell, c) {
      if (cell.getAttribute("data-label") !== labels[c]) {
        problems.push(name + " row " + r + " cell " + c + ": data-label "
          + cell.getAttribute("data-label") + ", its column is " + labels[c]);
      }
    });
    cells.forEach(function (cell, c) {
      cell.querySelectorAll("a, button, summary, input[type=checkbox]").forEach(function (action) {
        const target = action.closest("label") || action;
        if (phone && target.getBoundingClientRect().height < 44) {
          problems.push(name + " row " + r + " cell " + c + ": a tap target under 44 px");
        }
      });
      const label = getComputedStyle(cell, "::before").content;
      if (phone && (label === "none" || label === "normal")) {
        problems.push(name + " row " + r + " cell " + c + " shows no label");
      }
      if (c === 0) return;
      const above = cells[c - 1].getBoundingClientRect();
      const box = cell.getBoundingClientRect();
      if (phone && box.top < above.bottom - 0.5) {
        problems.push(name + " row " + r + " cell " + c + " is beside the one before");
      }
      if (!phone && (box.top >= above.bottom || box.left < above.right - 0.5)) {
        problems.push(name + " row " + r + " cell " + c + " is not beside the one before");
      }
    });
  });
});
return [checked.sort(), problems];
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_page_scrolls_sideways_at_phone_or_laptop_size(chromium, live_server):
    _, memes = _data()
    _log_in(chromium, live_server, "kim")
    wide = {}
    # Screenshots are taken in both colour schemes, for a person to look at both.
    for scheme in ["light", "dark"] if SHOTS else ["light"]:
        chromium.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
        )
        for width, height in SIZES:
            _viewport(chromium, width, height)
            for name, url in _pages(memes).items():
                chromium.get(live_server.url + url)
                _ready(chromium)
                wide[f"{name}@{width}"] = _overflow(chromium)
                _screenshot(
                    chromium, f"{name}-{width}x{height}{'-dark' if scheme == 'dark' else ''}"
                )
    assert {page: px for page, px in wide.items() if px > 0} == {}
    # The measurement itself sees a page that is too wide.
    chromium.execute_script(
        "const probe = document.createElement('div'); probe.textContent = 'wide';"
        "probe.style.width = '2000px';"
        "document.body.appendChild(probe);"
    )
    assert _overflow(chromium) > 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_stacks_table_rows_as_cards_on_a_phone_and_keeps_tables_on_a_laptop(
    chromium, live_server
):
    _, memes = _data()
    _log_in(chromium, live_server, "kim")
    urls = _pages(memes)
    # Each page and the tables on it that hold records, every one with rows in _data().
    tables = {
        "dashboard": [
            "cohen-kappa",
            "decisions-table",
            "queue-sizes-table",
            "retrain-runs",
            "versions-table",
        ],
        "queue": ["queue-table"],
        "search": ["search-results"],
        "label-sets": ["label-set-list"],
        "label-set": ["import-list", "version-list"],
        "moderator": ["pairs-table"],
        "history": ["history"],
        "bulk-confirm": ["bulk-memes"],
    }
    found = {}
    for width, height in SIZES:
        _viewport(chromium, width, height)
        for name in tables:
            if name == "bulk-confirm":  # the memes ticked in the queue, to confirm
                chromium.get(live_server.url + urls["queue"])
                _ready(chromium)
                chromium.find_element(By.ID, "select-all").click()
                chromium.find_element(By.CSS_SELECTOR, "#bulk-form button[type=submit]").click()
                WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.ID, "bulk-confirm"))
            else:
                chromium.get(live_server.url + urls[name])
                _ready(chromium)
            found[f"{name}@{width}"] = chromium.execute_script(TABLE_LAYOUT, width < 600, GRIDS)
    expected = {f"{name}@{width}": [ids, []] for name, ids in tables.items() for width, _ in SIZES}
    assert found == expected

    # Stacked, the cells keep their table roles for a screen reader.
    _viewport(chromium, 390, 844)
    chromium.get(live_server.url + urls["queue"])
    _ready(chromium)
    header = chromium.find_element(By.CSS_SELECTOR, "#queue-table thead th:nth-child(2)")
    cell = chromium.find_element(By.CSS_SELECTOR, "#queue-table tbody td:nth-child(2)")
    assert (header.aria_role, header.accessible_name) == ("columnheader", "Meme")
    assert cell.aria_role == "cell"
    # An action in a card is a tap target of at least 44 × 44 px.
    select = chromium.find_element(By.CSS_SELECTOR, "#queue-table tbody td:first-child label")
    assert select.size["height"] >= 44 and select.size["width"] >= 44


# The controls a moderator taps on a phone (links inside running text are exempt, as in
# WCAG 2.5.8); a checkbox counts by the label around it.
ACTIONS = (
    ".mod-nav a, .mod-nav select, .filters input, .filters select, .filters button,"
    " .filters a, .actions button, .actions select, .actions .button,"
    " .actions input[type=checkbox], main table a, main table button, main table summary,"
    " #undo-link, #reopen, .moderator-links a"
)
SMALL_TARGETS = """
const small = [];
document.querySelectorAll(arguments[0]).forEach(function (el) {
  const target = el.type === "checkbox" ? el.closest("label") || el : el;
  const box = target.getBoundingClientRect();
  if (box.width && box.height < 44) {
    small.push(el.tagName + " " + (el.id || el.name || el.textContent.trim().slice(0, 30))
      + ": " + Math.round(box.height) + " px");
  }
});
return small;
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_gives_every_control_a_44_px_tap_target_on_a_phone(chromium, live_server):
    _, memes = _data()
    _viewport(chromium, 390, 844)
    _log_in(chromium, live_server, "kim")
    small = {}
    for name, url in _pages(memes).items():
        chromium.get(live_server.url + url)
        _ready(chromium)
        # Folded filters have no size; open them to measure what they hold.
        chromium.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
        small[name] = chromium.execute_script(SMALL_TARGETS, ACTIONS)
    # After a decision the review page offers its undo.
    chromium.get(live_server.url + _pages(memes)["review"])
    _ready(chromium)
    chromium.find_element(By.CSS_SELECTOR, "label[for=label-2]").click()
    chromium.find_element(By.CSS_SELECTOR, ".review .actions button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.ID, "undo-link"))
    small["after a decision"] = chromium.execute_script(SMALL_TARGETS, ACTIONS)
    assert {page: found for page, found in small.items() if found} == {}
    # The measurement sees a small control.
    chromium.execute_script("document.getElementById('undo-link').style.minHeight = '0'")
    assert chromium.execute_script(SMALL_TARGETS, "#undo-link")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_moderator_pages_stay_one_tap_away_when_the_decisions_table_stacks(
    chromium, live_server
):
    _data()
    _log_in(chromium, live_server, "kim")
    # The links a reader can see: shown, and not inside the visually hidden header row.
    visible_links = """
    return [...document.querySelectorAll('#decisions a')]
      .filter(a => a.checkVisibility() && !a.closest('thead'))
      .map(a => [a.textContent.trim(), new URL(a.href).pathname]);
    """
    # Stacked, the header row is clipped to nothing (still read out by screen readers).
    header_links = (
        "return [...document.querySelectorAll('#decisions-table thead a')]"
        ".filter(a => getComputedStyle(a.closest('thead')).clipPath === 'none')"
        ".map(a => a.textContent.trim())"
    )
    pages = {name: reverse("moderation:moderator", args=[name]) for name in ("kim", "lee")}
    found = {}
    for width, height in SIZES:
        _viewport(chromium, width, height)
        chromium.get(live_server.url + reverse("moderation:dashboard"))
        _ready(chromium)
        found[width] = (
            sorted(chromium.execute_script(visible_links)),
            sorted(chromium.execute_script(header_links)),
        )
    moderators = sorted(
        name
        for name, _ in chromium.execute_script(
            "return [...document.querySelectorAll('#decisions-table thead a')]"
            ".map(a => [a.textContent.trim(), 0])"
        )
    )
    assert moderators  # _data() has decisions by moderators
    assert found[390] == ([[name, pages[name]] for name in moderators], [])
    assert found[1366] == ([], moderators)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_403_page_fits_a_phone(chromium, live_server):
    _, memes = _data()
    _viewport(chromium, 390, 844)
    _log_in(chromium, live_server, "visitor")
    chromium.get(live_server.url + reverse("moderation:dashboard"))
    _ready(chromium)
    assert chromium.find_element(By.ID, "error-page").get_attribute("data-status") == "403"
    assert _overflow(chromium) <= 0
    _screenshot(chromium, "403-390x844")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_top_bar_collapses_and_log_out_stays_reachable_on_a_phone(chromium, live_server):
    _data()
    _viewport(chromium, 390, 844)
    _log_in(chromium, live_server, "kim")
    logout = chromium.find_element(By.CSS_SELECTOR, ".account button.link")
    assert not logout.is_displayed()  # folded away behind the menu button
    chromium.find_element(By.ID, "menu-toggle").click()
    WebDriverWait(chromium, 5).until(lambda d: logout.is_displayed())
    right = chromium.execute_script("return arguments[0].getBoundingClientRect().right", logout)
    assert right <= 390
    # The queue's filters fold away on a phone, so the list is on the first screen.
    chromium.get(live_server.url + reverse("moderation:queue"))
    _ready(chromium)
    assert not chromium.find_element(By.ID, "queue-filters").get_attribute("open")
    _viewport(chromium, 1366, 900)
    chromium.get(live_server.url + reverse("moderation:queue"))
    _ready(chromium)
    assert chromium.find_element(By.ID, "queue-filters").get_attribute("open")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bulk_actions_and_the_label_set_switch_work_under_the_policy(chromium, live_server):
    sentiment, memes = _data()
    LabelSet.objects.create(name="hateful", classes=["hateful", "not_hateful"])
    _viewport(chromium, 1366, 900)
    _log_in(chromium, live_server, "kim")
    chromium.get(live_server.url + reverse("moderation:queue") + "?label_set=sentiment")
    _ready(chromium)
    # "All on this page" ticks every row (static/js/site.js, no inline handler).
    chromium.find_element(By.ID, "select-all").click()
    boxes = chromium.find_elements(By.CSS_SELECTOR, 'input[name="memes"]')
    assert len(boxes) == 3 and all(box.is_selected() for box in boxes)
    chromium.find_element(By.CSS_SELECTOR, "#bulk-form button[type=submit]").click()
    WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.ID, "bulk-confirm"))
    _viewport(chromium, 390, 844)  # the confirmation, with its thumbnails, fits a phone
    assert _overflow(chromium) <= 0
    _screenshot(chromium, "bulk-confirm-390x844")
    chromium.find_element(By.ID, "bulk-confirm").click()
    WebDriverWait(chromium, 10).until(lambda d: "memes labelled" in d.page_source)
    assert LabelCorrection.objects.filter(source="bulk").count() == 3

    # The label set switch submits itself on change.
    chromium.get(live_server.url + reverse("moderation:dashboard") + "?label_set=sentiment")
    _ready(chromium)
    switch = chromium.find_element(By.ID, "label-set-switch")
    chromium.execute_script(
        "arguments[0].value = 'hateful';arguments[0].dispatchEvent(new Event('change'));",
        switch,
    )
    WebDriverWait(chromium, 10).until(lambda d: "label_set=hateful" in d.current_url)
    assert "Moderation dashboard" in chromium.page_source


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_review_keys_backspace_undo_and_the_unsure_model_under_the_policy(chromium, live_server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    sentiment, memes = _data()
    _viewport(chromium, 1366, 900)
    _log_in(chromium, live_server, "kim")
    first = memes[0]  # 30% negative: the model says positive at 70%, below the threshold
    chromium.get(
        live_server.url + reverse("moderation:review", args=[first.pk]) + "?label_set=sentiment"
    )
    _ready(chromium)
    assert not any(r.is_selected() for r in chromium.find_elements(By.NAME, "label"))
    ActionChains(chromium).send_keys(Keys.ENTER).perform()  # Enter alone does nothing
    WebDriverWait(chromium, 5).until(
        lambda d: "Pick a class" in d.find_element(By.ID, "keyboard-hint").text
    )
    assert not LabelCorrection.objects.filter(meme=first).exists()

    ActionChains(chromium).send_keys("2", Keys.ENTER).perform()
    WebDriverWait(chromium, 10).until(lambda d: d.find_elements(By.ID, "undo-form"))
    assert LabelCorrection.objects.get(meme=first).new_label == "negative"
    assert "1</strong> reviewed this session" in chromium.page_source

    ActionChains(chromium).send_keys(Keys.BACKSPACE).perform()
    WebDriverWait(chromium, 10).until(lambda d: "Undone: meme" in d.page_source)
    assert f"Meme #{first.pk}" in chromium.find_element(By.TAG_NAME, "h1").text
    assert LabelCorrection.objects.filter(meme=first).latest("id").source == "undo"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dark_mode_follows_the_system_setting(chromium, live_server):
    _data()
    _log_in(chromium, live_server, "kim")
    background = "return getComputedStyle(document.body).backgroundColor"
    chromium.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    # The plots are drawn on the server: the page picks the dark drawing (<picture>).
    plots = (
        "return [...document.querySelectorAll('#plots img.plot')]"
        ".map(img => [img.complete && img.naturalWidth > 0, img.currentSrc])"
    )
    chromium.get(live_server.url + reverse("moderation:dashboard"))
    _ready(chromium)
    assert chromium.execute_script(background) == "rgb(18, 20, 23)"
    drawn = chromium.execute_script(plots)
    assert len(drawn) == 2
    assert all(loaded and src.endswith("&theme=dark") for loaded, src in drawn)
    chromium.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "light"}]},
    )
    chromium.get(live_server.url + reverse("moderation:dashboard"))
    _ready(chromium)
    assert chromium.execute_script(background) == "rgb(245, 246, 248)"
    drawn = chromium.execute_script(plots)
    assert len(drawn) == 2
    assert all(loaded and "theme=" not in src for loaded, src in drawn)
