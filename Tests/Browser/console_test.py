"""Browser tests of the console (issue 23), run by Tests/Browser/run against a served instance.

A school files a report through the form (a mistake first: the error is shown beside its field and
nothing typed is lost); the regulator's inbox, open meanwhile, shows the case live; the regulator
acknowledges and closes it; a school cannot open a regulator's page; a session ends on sign-out and
on its token's revocation; a national regulator reaches a planted ring's case from the sign-in page
in three clicks. axe-core checks every page shown (no serious or critical violation), at desktop
width and at 360 px. Screenshots go to $OUT.
"""

import os
import shlex
import subprocess
import sys
import time

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["BASE"]
REGULATOR = os.environ["REGULATOR"]
SCHOOL = os.environ["SCHOOL"]
OUT = os.environ["OUT"]
REVOKE = shlex.split(os.environ["REVOKE"])

failures = []
checked_pages = set()


def check(condition, message):
    if not condition:
        failures.append(message)
        print("  FAIL", message, flush=True)


def browser(language="es-MX,es"):
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(0)
    return driver


def accessible(driver, name):
    """axe on the page as shown, at desktop width and at 360 px; no serious or critical violation."""
    for width in (1280, 360):
        driver.set_window_size(width, 1000)
        axe = Axe(driver)
        axe.inject()
        results = axe.run()
        bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
        for violation in bad:
            nodes = ", ".join(node["target"][0] for node in violation["nodes"][:3])
            check(False, f"{name} at {width}px: axe {violation['impact']} {violation['id']}: {violation['help']} ({nodes})")
        if width == 360:
            overflow = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
            check(not overflow, f"{name}: the page scrolls sideways at 360 px")
    driver.set_window_size(1280, 1000)
    checked_pages.add(name)


def shot(driver, name):
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(os.path.join(OUT, f"{name}.png"))


def wait_for(driver, condition, seconds=20):
    # A page being replaced (a form sent, a link followed) leaves the element a condition read
    # stale for a moment: the condition is simply read again.
    return WebDriverWait(
        driver, seconds, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)
    ).until(condition)


def text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def click_fresh(driver, selector):
    """Clicks the element `selector` names, found again if the live list was swapped under it."""
    for _ in range(20):
        try:
            driver.find_element(By.CSS_SELECTOR, selector).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.25)
    driver.find_element(By.CSS_SELECTOR, selector).click()


def sign_in(driver, token):
    driver.get(BASE + "/console/")
    wait_for(driver, EC.url_contains("/console/sign-in"))
    accessible(driver, "sign-in")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    wait_for(driver, lambda d: "/sign-in" not in d.current_url)


def main():
    school = browser()
    regulator = browser()
    try:
        # The regulator signs in first and keeps the inbox open.
        sign_in(regulator, REGULATOR)
        check(regulator.current_url.endswith("/console/cases"), f"regulator lands on the inbox, not {regulator.current_url}")
        check(regulator.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es-MX", "the console speaks Spanish first")
        accessible(regulator, "inbox")
        shot(regulator, "inbox")

        # A national regulator reaches a planted ring's case: sign in (1), the network case (2).
        rings = regulator.find_elements(By.PARTIAL_LINK_TEXT, "Red en ")
        check(bool(rings), "the inbox lists a network case")
        if rings:
            rings[0].click()
            wait_for(regulator, EC.presence_of_element_located((By.CSS_SELECTOR, "h1")))
            check("Red en" in regulator.find_element(By.TAG_NAME, "h1").text, "a network case page opens")
            accessible(regulator, "network case")
            shot(regulator, "network-case")
            # What the ring's reports share, and who appears where.
            regulator.find_element(By.PARTIAL_LINK_TEXT, "Ver lo que comparten").click()
            wait_for(regulator, EC.presence_of_element_located((By.ID, "people-heading")))
            check(bool(regulator.find_elements(By.CSS_SELECTOR, "svg.network circle.person")), "the network is drawn")
            accessible(regulator, "pattern")
            shot(regulator, "pattern")
            # The ring's case file: every school's reports, for a prosecutor.
            regulator.find_element(By.PARTIAL_LINK_TEXT, "todas sus escuelas").click()
            wait_for(regulator, EC.presence_of_element_located((By.CSS_SELECTOR, "article.case-file")))
            check(len(regulator.find_elements(By.CSS_SELECTOR, "section.file-report")) > 1, "the ring's reports are in its file")
            accessible(regulator, "pattern case file")
            regulator.back()
            regulator.back()
            wait_for(regulator, EC.presence_of_element_located((By.ID, "facilities-heading")))
            # The facility of a ring (3): its score and the factors behind it.
            regulator.find_element(By.CSS_SELECTOR, "#facilities-heading + ul a").click()
            wait_for(regulator, EC.presence_of_element_located((By.CSS_SELECTOR, "figure.factors, .score")))
            accessible(regulator, "facility")
            shot(regulator, "facility")
            # Its case file, made to print.
            regulator.find_element(By.PARTIAL_LINK_TEXT, "Expediente para imprimir").click()
            wait_for(regulator, EC.presence_of_element_located((By.CSS_SELECTOR, "article.case-file")))
            check("Expediente de" in regulator.find_element(By.TAG_NAME, "h1").text, "the case file opens")
            accessible(regulator, "case file")
        # The review queue of proposed pairs.
        regulator.find_element(By.LINK_TEXT, "Revisión de personas").click()
        wait_for(regulator, EC.presence_of_element_located((By.CSS_SELECTOR, "main h1")))
        accessible(regulator, "review queue")
        shot(regulator, "review")
        # The alerts, filtered by severity, and one alert's page with its steps.
        regulator.find_element(By.LINK_TEXT, "Alertas").click()
        wait_for(regulator, EC.presence_of_element_located((By.ID, "filter-severity")))
        Select(regulator.find_element(By.ID, "filter-severity")).select_by_value("critical")
        regulator.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        wait_for(regulator, EC.url_contains("severity=critical"))
        accessible(regulator, "alerts")
        shot(regulator, "alerts")
        regulator.find_element(By.LINK_TEXT, "Quitar filtros").click()
        wait_for(regulator, lambda d: "severity=" not in d.current_url)
        rows = regulator.find_elements(By.CSS_SELECTOR, "[data-live-region] tbody tr a")
        check(bool(rows), "the planted ring's reports raised alerts")
        if rows:
            rows[0].click()
            wait_for(regulator, EC.presence_of_element_located((By.ID, "actions-heading")))
            check(bool(regulator.find_elements(By.ID, "snooze-until")), "an open alert can be snoozed")
            accessible(regulator, "alert")
        # The map by state, and a state's schools by score.
        regulator.find_element(By.LINK_TEXT, "Mapa").click()
        wait_for(regulator, EC.presence_of_element_located((By.CSS_SELECTOR, "svg.tiles")))
        check(len(regulator.find_elements(By.CSS_SELECTOR, "svg.tiles g.tile")) == 32, "the map draws Mexico's 32 states")
        accessible(regulator, "map")
        shot(regulator, "map")
        states = regulator.find_elements(By.CSS_SELECTOR, "table a[href*='within=']")
        check(bool(states), "the map lists the regulator's states")
        if states:
            states[0].click()
            wait_for(regulator, EC.url_contains("/console/facilities?within="))
            check(bool(regulator.find_elements(By.CSS_SELECTOR, "tbody tr a")), "a state's schools are listed")
            accessible(regulator, "state's schools")
        regulator.get(BASE + "/console/cases")
        wait_for(regulator, EC.presence_of_element_located((By.CSS_SELECTOR, "[data-live-region]")))

        # The school files a report: first with a date in the future and no category.
        sign_in(school, SCHOOL)
        check(school.current_url.endswith("/console/reports"), f"school lands on its reports, not {school.current_url}")
        accessible(school, "my reports")
        school.find_element(By.CSS_SELECTOR, "a.button.primary").click()
        wait_for(school, EC.presence_of_element_located((By.ID, "narrative")))
        accessible(school, "report form")
        school.execute_script("document.getElementById('occurred_from').value = '2099-01-01'")
        school.execute_script("document.getElementById('discovered_on').value = '2026-11-20'")
        Select(school.find_element(By.ID, "reporter_type")).select_by_value("parent")
        school.find_element(By.ID, "adult-name-0").send_keys("Hombre del disfraz")
        Select(school.find_element(By.ID, "adult-role-0")).select_by_value("other")
        school.find_element(By.ID, "child-ref-0").send_keys("NNA-01")
        school.find_element(By.ID, "child-age-0").send_keys("4")
        school.find_element(By.ID, "tactic-disguise").click()
        narrative = "Un adulto disfrazado llevó a los niños fuera del salón."
        school.find_element(By.ID, "narrative").send_keys(narrative)
        school.find_element(By.CSS_SELECTOR, "form.report-form button[type=submit]").click()
        wait_for(school, EC.presence_of_element_located((By.ID, "form-errors")))
        check(school.find_element(By.ID, "occurred_from").get_attribute("aria-invalid") == "true", "the bad date is marked")
        check(bool(school.find_elements(By.ID, "occurred_from-error")), "the date's error is beside it")
        check(bool(school.find_elements(By.ID, "category-error")), "the missing category's error is beside it")
        check(school.find_element(By.ID, "narrative").get_attribute("value") == narrative, "the account typed is kept")
        check(school.find_element(By.ID, "adult-name-0").get_attribute("value") == "Hombre del disfraz", "the adult typed is kept")
        check(school.find_element(By.ID, "tactic-disguise").is_selected(), "the tactic ticked is kept")
        check(school.switch_to.active_element.get_attribute("id") == "form-errors", "the focus moves to the errors' summary")
        accessible(school, "report form with errors")
        shot(school, "report-form-errors")
        school.execute_script("document.getElementById('occurred_from').value = '2026-11-18'")
        Select(school.find_element(By.ID, "category")).select_by_value("sexual_abuse")
        school.find_element(By.CSS_SELECTOR, "form.report-form button[type=submit]").click()
        wait_for(school, EC.presence_of_element_located((By.CSS_SELECTOR, ".receipt")))
        check("Reporte recibido" in text(school), "the receipt is shown")
        accessible(school, "receipt")
        shot(school, "receipt")

        # The regulator's inbox shows it without a reload (a case event arrives on the stream).
        try:
            wait_for(regulator, lambda d: d.find_element(By.CSS_SELECTOR, "[data-live]").text.strip() != "", seconds=60)
        except Exception:
            check(False, "the inbox did not update live within 60 s")
        # The newest activity heads the list: the case the school's report went to.
        time.sleep(1)  # the events of one report come together; let the list settle
        click_fresh(regulator, "[data-live-region] tbody tr a")
        wait_for(regulator, EC.presence_of_element_located((By.ID, "actions-heading")))
        check("abuso sexual" in text(regulator).lower() or "menor de 6" in text(regulator), "the case shows the new alert")
        accessible(regulator, "case")
        case_url = regulator.current_url
        acknowledge = regulator.find_elements(By.XPATH, "//button[contains(., 'Marcar como atendido')]")
        if acknowledge:
            acknowledge[0].click()
            wait_for(regulator, EC.url_contains("done=1"))
            check("Hecho." in text(regulator), "acknowledging is confirmed")
        Select(regulator.find_element(By.ID, "close-reason")).select_by_value("referred_to_authorities")
        regulator.find_element(By.ID, "close-note").send_keys("Canalizado a la fiscalía estatal.")
        regulator.find_element(By.XPATH, "//button[contains(., 'Cerrar el caso')]").click()
        wait_for(regulator, EC.alert_is_present(), seconds=5)
        regulator.switch_to.alert.accept()
        wait_for(regulator, EC.url_contains("done=1"))
        check("Cerrado" in regulator.find_element(By.CSS_SELECTOR, ".facts").text, "the case is closed")
        check("Canalizado a la fiscalía estatal." in text(regulator), "the closing note is in the history")
        accessible(regulator, "case closed")
        shot(regulator, "case-closed")

        # The school's staff roster.
        school.find_element(By.LINK_TEXT, "Plantilla").click()
        wait_for(school, EC.presence_of_element_located((By.ID, "staff_ref")))
        accessible(school, "staff roster")

        # A school cannot open a regulator's page.
        school.get(case_url)
        check("Página no encontrada" in text(school), "a school is told a regulator's case does not exist")
        school.get(BASE + "/console/cases")
        check("Página no encontrada" in text(school), "a school is told the inbox does not exist")
        accessible(school, "not found")

        # English from the switch, and back.
        school.get(BASE + "/console/reports")
        school.find_element(By.CSS_SELECTOR, "form.lang button[value=en]").click()
        wait_for(school, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
        check("My reports" in text(school), "the switch shows English")
        accessible(school, "my reports (English)")
        school.find_element(By.CSS_SELECTOR, "form.lang button[value=es-MX]").click()
        wait_for(school, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es-MX")

        # Sign-out ends the session; the revocation of a token ends its sessions.
        school.find_element(By.XPATH, "//button[contains(., 'Cerrar sesión')]").click()
        wait_for(school, EC.url_contains("/console/sign-in"))
        school.get(BASE + "/console/reports")
        check("/console/sign-in" in school.current_url, "after sign-out the reports need a new sign-in")
        subprocess.run(REVOKE + [REGULATOR[:12], "--reason", "browser test"], check=True, capture_output=True)
        regulator.get(BASE + "/console/cases")
        check("/console/sign-in" in regulator.current_url, "a revoked token's session is over")
    finally:
        school.quit()
        regulator.quit()

    print(f"browser: {len(checked_pages)} pages checked with axe ({', '.join(sorted(checked_pages))})")
    if failures:
        print(f"browser: {len(failures)} failed")
        sys.exit(1)
    print("browser: all checks passed")


if __name__ == "__main__":
    main()
