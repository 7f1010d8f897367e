"""Batch intake on the upload page: many files at once, each validated and stored alone."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from classifier.models import Meme, ModelVersion

URL = "/"


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_it_stores_every_good_file_of_a_batch_and_names_the_bad_one(
    logged_in, meme_image, upload_file, meme_files
):
    files = [
        upload_file(meme_image(top="ONE", seed=1), "one.png"),
        upload_file(b"not an image at all", "notes.txt", "text/plain"),
        upload_file(meme_image(top="TWO", seed=2, fmt="JPEG"), "two.jpg", "image/jpeg"),
    ]
    response = logged_in.post(reverse("classifier:upload"), {"image": files, "caption": "c"})
    assert response.status_code == 302 and response["Location"] == reverse("classifier:upload")
    assert sorted(Meme.objects.values_list("original_name", "caption")) == [
        ("one.png", "c"),
        ("two.jpg", "c"),
    ]
    assert len(meme_files()) == 2
    lines = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(line.startswith("one.png: stored as meme") for line in lines)
    assert any(line.startswith("notes.txt: ") and "stored" not in line for line in lines)


@pytest.mark.django_db
def test_it_answers_the_page_script_in_json_one_file_at_a_time(logged_in, meme_image, upload_file):
    data = meme_image(top="JSON")

    def send(*files):
        return logged_in.post(
            reverse("classifier:upload"), {"image": list(files)}, HTTP_ACCEPT="application/json"
        )

    first = send(upload_file(data, "a.png"))
    assert first.status_code == 201
    body = first.json()
    meme = Meme.objects.get(pk=body["id"])
    assert body["url"] == reverse("classifier:meme_detail", args=[meme.pk])
    assert body["created"] is True and body["name"] == "a.png"

    again = send(upload_file(data, "again.png"))
    assert again.status_code == 200 and again.json()["id"] == meme.pk
    assert again.json()["created"] is False

    bad = send(upload_file(b"\x89PNG\r\n\x1a\nbroken", "broken.png"))
    assert bad.status_code == 400 and bad.json()["error"]
    two = send(upload_file(data, "x.png"), upload_file(data, "y.png"))
    assert two.status_code == 400
    assert Meme.objects.count() == 1


@pytest.mark.browser
# serialized_rollback: keep the rows the data migrations made for later transactional tests.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_user_picks_several_files_and_sees_each_ones_progress_and_result(
    chromium, live_server, user, password, meme_image, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # No active model: each upload's classification fails at once instead of running
    # OCR and the model in the live server's thread; this test is about intake.
    ModelVersion.objects.update(is_active=False)
    paths = []
    for name, data in (
        ("first.png", meme_image(top="FIRST", seed=11)),
        ("second.jpg", meme_image(top="SECOND", seed=12, fmt="JPEG")),
        ("readme.txt", b"this is text, not a picture"),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)

    browser = chromium
    browser.get(live_server.url + "/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys(user.username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    wait = WebDriverWait(browser, 120)
    wait.until(lambda b: b.find_elements(By.ID, "upload-form"))

    # Picking files starts the uploads (the script listens for the change).
    browser.find_element(By.NAME, "image").send_keys("\n".join(str(p) for p in paths))

    def classes(element) -> set[str]:
        return set(element.get_attribute("class").split())

    def finished(b):
        rows = b.find_elements(By.CSS_SELECTOR, "#upload-results .upload-item")
        done = [r for r in rows if {"upload-ok", "upload-error"} & classes(r)]
        return rows if len(rows) == 3 and len(done) == 3 else False

    rows = wait.until(finished)
    by_name = {r.find_element(By.CLASS_NAME, "upload-name").text: r for r in rows}
    assert set(by_name) == {"first.png", "second.jpg", "readme.txt"}
    for name in ("first.png", "second.jpg"):
        row = by_name[name]
        assert "upload-ok" in row.get_attribute("class")
        assert row.find_element(By.TAG_NAME, "progress").get_attribute("value") == "100"
        link = row.find_element(By.CSS_SELECTOR, ".upload-result a")
        assert "/memes/" in link.get_attribute("href") and "stored" in link.text
    refused = by_name["readme.txt"]
    assert "upload-error" in refused.get_attribute("class")
    assert refused.find_element(By.CLASS_NAME, "upload-result").text
    assert sorted(Meme.objects.values_list("original_name", flat=True)) == [
        "first.png",
        "second.jpg",
    ]
    # The page made no full-page submission: still the upload page.
    assert browser.current_url == live_server.url + reverse("classifier:upload")
