"""End to end in headless Chromium: log in, upload a meme, see its predicted label."""

import pytest

from classifier import services
from classifier.models import Meme

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(chromium):
    return chromium


@pytest.mark.model
# serialized_rollback: keep the rows the data migrations made (label set, shipped model)
# for the transactional tests that run after this one.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_user_logs_in_uploads_a_meme_and_sees_its_label(
    browser, live_server, user, password, meme_image, active_model, tmp_path, monkeypatch
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    # Hold the task back so the page is seen waiting; it is then run through django-q2
    # (synchronously, the test settings) while the browser refreshes the page.
    enqueue = services.meme_enqueue_classification
    queued: list[int] = []
    monkeypatch.setattr(
        services, "meme_enqueue_classification", lambda *, meme_id: queued.append(meme_id)
    )
    meme_file = tmp_path / "friday.jpg"
    meme_file.write_bytes(meme_image(top="FINALLY FRIDAY", bottom="BEST DAY EVER", fmt="JPEG"))

    browser.get(live_server.url + "/")
    assert "/accounts/login/" in browser.current_url
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()

    wait = WebDriverWait(browser, 120)
    file_input = wait.until(EC.presence_of_element_located((By.NAME, "image")))
    file_input.send_keys(str(meme_file))
    browser.find_element(By.NAME, "caption").send_keys("the weekend is here")
    browser.find_element(By.ID, "upload-submit").click()

    status = wait.until(EC.presence_of_element_located((By.ID, "meme-status")))
    assert status.text == "Pending"
    assert browser.find_elements(By.CSS_SELECTOR, 'meta[http-equiv="refresh"]')
    assert len(queued) == 1
    enqueue(meme_id=queued[0])

    label = wait.until(EC.presence_of_element_located((By.ID, "predicted-label-sentiment")))
    assert label.text in ("positive", "negative")
    assert browser.find_element(By.ID, "meme-status").text == "Classified"
    assert "FRIDAY" in browser.find_element(By.ID, "ocr-text").text.upper()
    image = browser.find_element(By.CSS_SELECTOR, ".meme-image img")
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 640

    meme = Meme.objects.get()
    assert meme.uploader == user
    assert meme.caption == "the weekend is here"
    assert meme.predictions.get().label == label.text
