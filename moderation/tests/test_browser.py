"""A moderator clears three memes in headless Chromium with the keyboard alone."""

import pytest
from django.urls import reverse
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from moderation.models import LabelCorrection
from moderation.tests.factories import make_user, make_version, predicted_meme

PASSWORD = "keyboard-only-42"

pytestmark = pytest.mark.browser


@pytest.fixture
def driver(chromium):
    return chromium


def _keys(driver, *keys):
    ActionChains(driver).send_keys(*keys).perform()


def _wait_for_focus(driver, element_id):
    WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: d.switch_to.active_element.get_attribute("id") == element_id
    )


def _wait_for_review_of(driver, meme):
    def ready(d):
        heading = d.find_elements(By.CSS_SELECTOR, "h1")
        return (
            heading
            and heading[0].text.startswith(f"Meme #{meme.pk}")
            and d.execute_script("return document.readyState") == "complete"
        )

    # The old page may go away between finding the heading and reading it.
    WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException]).until(ready)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_moderator_works_three_memes_with_the_keyboard(driver, live_server):
    from classifier.models import LabelSet

    sentiment = LabelSet.objects.get(name="sentiment")
    make_user("kim", moderator=True, password=PASSWORD)
    version = make_version(sentiment, "sentiment-browser-v1")
    # Queue order is by uncertainty: margins 0.1, 0.2, 0.4.
    first = predicted_meme(version, 0.45, ocr_text="FIRST")  # model: positive
    second = predicted_meme(version, 0.40, ocr_text="SECNOD")  # model: positive
    third = predicted_meme(version, 0.70, ocr_text="THIRD")  # model: negative

    driver.get(live_server.url + reverse("moderation:queue"))
    # The login form puts the cursor in the username field, the queue on its button.
    _wait_for_focus(driver, "id_username")
    _keys(driver, "kim", Keys.TAB, PASSWORD, Keys.ENTER)
    _wait_for_focus(driver, "start-review")
    _keys(driver, Keys.ENTER)

    # 1: the model said positive; the moderator picks class 2 (negative).
    _wait_for_review_of(driver, first)
    assert "Enter" in driver.find_element(By.ID, "shortcuts").text
    _keys(driver, "2", Keys.ENTER)

    # 2: fix the OCR text, leave the editor, pick the predicted label and confirm (the model
    # is at 60%, below the review threshold, so nothing was picked for the moderator).
    _wait_for_review_of(driver, second)
    _keys(driver, "e")
    textarea = driver.find_element(By.ID, "id_text")
    assert driver.switch_to.active_element == textarea
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
    _keys(driver, "SECOND", Keys.ESCAPE, "1", Keys.ENTER)

    # 3: agree with the model (70%: picked by the moderator, not preselected).
    _wait_for_review_of(driver, third)
    _keys(driver, "2", Keys.ENTER)

    WebDriverWait(driver, 10).until(lambda d: "queue is empty" in d.page_source)

    corrections = list(LabelCorrection.objects.order_by("id"))
    assert [(c.meme_id, c.old_label, c.new_label) for c in corrections] == [
        (first.pk, "positive", "negative"),
        (second.pk, "positive", "positive"),
        (third.pk, "negative", "negative"),
    ]
    assert (corrections[1].old_text, corrections[1].new_text) == ("SECNOD", "SECOND")
    assert all(c.moderator.username == "kim" for c in corrections)

    driver.get(live_server.url + reverse("moderation:dashboard") + "?label_set=sentiment")
    decisions = driver.find_element(By.ID, "decisions").text
    assert "kim" in decisions and "3" in decisions
    assert driver.find_element(By.ID, "waiting-count").text == "3"
    gallery = driver.find_element(By.ID, "disagreements").text
    assert "Model said positive" in gallery and "kim said negative" in gallery
    # The plots are images the browser could load.
    for plot in ("confusion-plot", "reliability-plot"):
        width = driver.execute_script(
            "return document.getElementById(arguments[0]).naturalWidth", plot
        )
        assert width > 0
