"""The pages in a real browser (headless Chromium) against a live ``cer-backend serve``.

One backend and one browser for the module; the tests run in order, as a referent would:
sign in, import the community file, upload the distributor's month, run and finalise it,
acknowledge the alert, give a member their link, look at the public page, sign out.
"""

from __future__ import annotations

import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .browser import MONTH, LiveBackend, browser_available, chromium, community_files, month_file

# scripts/test-backend installs the browser and sets CER_REQUIRE_BROWSER: there (and in CI) a
# missing browser fails the tests instead of skipping them
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        browser_available() is not None and not os.environ.get("CER_REQUIRE_BROWSER"),
        reason=str(browser_available()),
    ),
]

POD_CODE = re.compile(r"IT\d{3}E\d{8}")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-browser")


@pytest.fixture(scope="module")
def backend(folder: Path) -> Iterator[LiveBackend]:
    live = LiveBackend(folder / "data")
    live.prepare()
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def driver(folder: Path) -> Iterator[Any]:
    downloads = folder / "downloads"
    downloads.mkdir()
    browser = chromium(downloads)
    try:
        yield browser
    finally:
        browser.quit()


def _by(kind: str) -> Any:
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    return getattr(By, kind)


def find(driver: Any, css: str) -> Any:
    return driver.find_element(_by("CSS_SELECTOR"), css)


def text(driver: Any) -> str:
    return str(find(driver, "main").text)


def click_and_wait(driver: Any, element: Any) -> None:
    """Click what leaves the page, and wait for the next page to be there."""
    from selenium.common.exceptions import WebDriverException  # noqa: PLC0415
    from selenium.webdriver.support.wait import WebDriverWait  # noqa: PLC0415

    # A mark on the old page's window: the next page is there when a complete
    # document no longer carries it. (Watching the old <html> go stale raced
    # with Chromium 156, which may answer "Node with given id does not belong
    # to the document" while the old page is being torn down.)
    driver.execute_script("window.__cerLeaving = true;")
    element.click()
    WebDriverWait(driver, 60, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !window.__cerLeaving;"
        )
    )


def submit(driver: Any, form_css: str) -> None:
    click_and_wait(driver, find(driver, f"{form_css} button[type=submit]"))


def wait_for_url(driver: Any, url: str, seconds: float = 30) -> None:
    """Wait until the browser is at ``url`` (after a form's redirects)."""
    deadline = time.monotonic() + seconds
    while driver.current_url != url and time.monotonic() < deadline:
        time.sleep(0.1)
    assert driver.current_url == url


def status_of(url: str, cookie: str | None = None) -> int:
    """The HTTP status of a GET (the browser does not tell it)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_sign_in(backend: LiveBackend, driver: Any) -> None:
    driver.get(f"{backend.url}/console")
    assert driver.current_url.endswith("/console/accedi")
    find(driver, "#token").send_keys(backend.admin_token)
    submit(driver, "form[action='/console/accedi']")
    assert driver.current_url == f"{backend.url}/console"
    assert "CER Borgo Sole" in text(driver)
    cookie = driver.get_cookie("cer_console")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"


def test_import_a_community_file_with_an_error_then_a_good_one(
    backend: LiveBackend, driver: Any, folder: Path
) -> None:
    bad, good = community_files(folder)
    driver.get(f"{backend.url}/console/anagrafica")
    find(driver, "#file").send_keys(str(bad))
    submit(driver, "form[action='/console/anagrafica/importa']")
    problems = find(driver, "#problems").text
    assert "large_enterprise" in problems or "members[0].type" in problems
    driver.get(f"{backend.url}/console/anagrafica")
    find(driver, "#file").send_keys(str(good))
    submit(driver, "form[action='/console/anagrafica/importa']")
    assert find(driver, "#dry-run")
    diff = find(driver, "#diff").text
    assert "comune (public)" in diff
    submit(driver, "form[action='/console/anagrafica/importa']")  # confirm
    assert find(driver, "#applied")


def test_upload_a_distributor_file(backend: LiveBackend, driver: Any, folder: Path) -> None:
    driver.get(f"{backend.url}/console/dati")
    find(driver, "#file").send_keys(str(month_file(folder)))
    find(driver, "#layout option[value='cer']").click()
    submit(driver, "form[action='/console/dati/importa']")
    result = find(driver, "#import-result").text
    assert "31 POD" in result and "22.320" in result
    driver.get(f"{backend.url}/console/dati?period={MONTH}")
    assert "IT001E00000101" in find(driver, "#coverage").text


def test_run_force_finalise_and_download_a_month(
    backend: LiveBackend, driver: Any, folder: Path
) -> None:
    driver.get(f"{backend.url}/console/liquidazioni")
    find(driver, "#period").send_keys(MONTH)
    submit(driver, "form[action='/console/liquidazioni']")
    assert "/console/liquidazioni/" in driver.current_url
    run_url = driver.current_url
    assert "IT001E00000410" in find(driver, "#guards").text or "%" in find(driver, "#guards").text
    submit(driver, "form[action$='/finalizza']")  # not forced: refused (the month is incomplete)
    assert find(driver, "#error")
    assert "bozza" in find(driver, "h1").text
    find(driver, "#force").click()
    find(driver, "#reason").send_keys("Mese chiuso con i dati del distributore")
    submit(driver, "form[action$='/finalizza']")
    assert driver.current_url == run_url
    assert "definitiva" in find(driver, "h1").text
    assert "Mese chiuso con i dati del distributore" in find(driver, "#forced").text
    find(driver, "#downloads a[href$='report.csv']").click()
    target = folder / "downloads" / f"cer-{backend.community_id}-{MONTH}-report.csv"
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert target.exists(), list((folder / "downloads").iterdir())
    assert f"community,{backend.community_id}," in target.read_text(encoding="utf-8")


def test_acknowledge_an_alert(backend: LiveBackend, driver: Any) -> None:
    driver.get(f"{backend.url}/console/avvisi")
    forms = driver.find_elements(_by("CSS_SELECTOR"), "#alerts form")
    assert forms, text(driver)
    note = forms[0].find_element(_by("CSS_SELECTOR"), "input[name=note]")
    note.send_keys("Ci pensa l'ufficio tecnico")
    click_and_wait(driver, forms[0].find_element(_by("CSS_SELECTOR"), "button"))
    assert "Ci pensa l'ufficio tecnico" in find(driver, "#alerts").text


def test_a_form_without_the_csrf_token_is_refused(backend: LiveBackend, driver: Any) -> None:
    driver.get(f"{backend.url}/console/liquidazioni")
    driver.execute_script(
        "document.querySelector(\"form[action='/console/liquidazioni'] input[name=csrf]\").remove()"
    )
    find(driver, "#period").send_keys("2025-07")
    submit(driver, "form[action='/console/liquidazioni']")
    assert "CSRF" in text(driver)
    driver.get(f"{backend.url}/console/liquidazioni")
    assert "luglio 2025" not in find(driver, "#runs").text


def test_read_only_views_work_without_javascript(backend: LiveBackend, driver: Any) -> None:
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        for path, expected in (
            ("/console", "CER Borgo Sole"),
            ("/console/anagrafica", "Famiglia 01"),
            (f"/console/dati?period={MONTH}", "IT001E00000101"),
            ("/console/liquidazioni", "giugno 2025"),
            ("/console/gse?period=2025", "Riconciliazione"),
            ("/console/schede", "IT001E00000101"),
        ):
            driver.get(backend.url + path)
            assert expected in text(driver), path
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


def test_a_member_signs_in_with_a_link_and_sees_only_their_own(
    backend: LiveBackend, driver: Any
) -> None:
    driver.get(f"{backend.url}/console/anagrafica")
    click_and_wait(
        driver, find(driver, "form[action='/console/anagrafica/soci/famiglia_01/link'] button")
    )
    link = find(driver, "#link").text
    assert link.startswith(f"{backend.url}/socio/accesso/")
    assert status_of(link) == 200  # a scanner's GET uses nothing up
    driver.get(link)
    click_and_wait(driver, find(driver, "#enter"))
    wait_for_url(driver, f"{backend.url}/socio/{backend.community_id}/famiglia_01")
    page = text(driver)
    assert "Famiglia 01" in page and "IT001E00000401" in page
    assert "giugno 2025" in find(driver, "#figures").text
    assert set(POD_CODE.findall(page)) == {"IT001E00000401"}
    cookie = f"cer_socio={driver.get_cookie('cer_socio')['value']}"
    for other in ("famiglia_02", "comune"):
        url = f"{backend.url}/socio/{backend.community_id}/{other}"
        assert status_of(url, cookie) == 403
        driver.get(url)
        assert "IT001E" not in text(driver)
    assert status_of(link) == 404  # used


def test_the_public_page_has_no_pod_code_and_no_private_name(
    backend: LiveBackend, driver: Any
) -> None:
    driver.get(f"{backend.url}/pubblico")
    click_and_wait(driver, find(driver, f"a[href='/pubblico/{backend.community_id}']"))
    page = driver.page_source
    assert POD_CODE.search(page) is None
    for private in ("Famiglia", "Bar Centrale", "Panificio", "Parrocchia", "Pro Loco"):
        assert private not in page
    assert "Comune di Borgo Sole" in find(driver, "#named").text
    assert "giugno 2025" in find(driver, "#totals").text


def test_sign_out_ends_the_session(backend: LiveBackend, driver: Any) -> None:
    driver.get(f"{backend.url}/console")
    cookie = f"cer_console={driver.get_cookie('cer_console')['value']}"
    submit(driver, "form[action='/console/esci']")
    assert driver.current_url.endswith("/console/accedi")
    driver.get(f"{backend.url}/console/liquidazioni")
    assert driver.current_url.endswith("/console/accedi")
    request = urllib.request.Request(f"{backend.url}/console", headers={"Cookie": cookie})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(request, timeout=30)
        status = 200
    except urllib.error.HTTPError as err:
        status = err.code
    assert status == 303  # the old cookie opens nothing on the server
