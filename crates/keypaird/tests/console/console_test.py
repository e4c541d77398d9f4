#!/usr/bin/env python3
"""The web console in a real Chromium (Debian's chromium and chromium-driver, through
Selenium; no browser download), against a release keypaird on SQLite, then on a
throwaway PostgreSQL cluster.

Per store and per product (CVM, then Lighthouse), through the page only:
  - create a key pair, download its private key, and check that `ssh-keygen -y` on the
    downloaded file gives the public key the page lists;
  - import a key made by `ssh-keygen` from a file, with a tag; filter the list by that
    tag; rename it (CVM: Lighthouse has no ModifyKeyPairAttribute); bind it to a
    configured instance; fail to delete it (the API's refusal is on screen); unbind it;
    delete it;
  - sign in with a wrong SecretKey and read AuthFailure.SignatureFailure on screen.
Throughout: axe-core (from npm, injected by the test) finds no serious or critical
violation on any view; every network request the page made went to keypaird's own
origin; the sign-in works from the keyboard alone; the list fits a phone-sized viewport
and 400% zoom without scrolling sideways. A durable server without [console] answers
404 at /console/.

Usage: console_test.py --binary target/release/keypaird [--axe DIR] [--screenshots DIR]
  --axe: a directory holding node_modules/axe-core (installed there when missing)
  --screenshots: where the list, create and bind views are saved (docs/ keeps them)
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fleet"))
import pgfleet  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SECRET_ID, SECRET_KEY = "AKIDconsoletest0000000000000000001", "consolesecretkey000000000000000001"
ACCOUNT = "1250000901"
INSTANCES = {"cvm": "ins-console1", "lighthouse": "lhins-console1"}
WAIT = 20  # seconds any one thing on the page may take
CHECKS = []


def check(ok, what):
    CHECKS.append(what)
    if not ok:
        pgfleet.fail(f"console: {what}")
    print(f"ok  {what}", flush=True)


# ---- servers ---------------------------------------------------------------------------

def start_server(binary, store, console):
    """keypaird on `store` with one account and a stopped instance per product; returns
    (process, origin)."""
    work = tempfile.mkdtemp(prefix="keypair-console-")
    pgfleet._CLEANUP.append(lambda: shutil.rmtree(work, ignore_errors=True))
    store = store or f"sqlite:{work}/keys.db"
    instances = ", ".join(f'{{ id = "{i}", state = "STOPPED" }}' for i in INSTANCES.values())
    config = os.path.join(work, "keypaird.toml")
    with open(config, "w") as f:
        f.write(f'listen = "127.0.0.1:0"\nstore = "{store}"\n[admin]\ntoken = "console-admin"\n'
                f"[console]\nenabled = {'true' if console else 'false'}\n"
                f'[[accounts]]\nid = "{ACCOUNT}"\ninstances = [{instances}]\n'
                f'credentials = [{{ secret_id = "{SECRET_ID}", secret_key = "{SECRET_KEY}" }}]\n')
    proc = subprocess.Popen([binary, "serve", "--config", config], stdout=subprocess.PIPE,
                            stderr=open(os.path.join(work, "server.log"), "w"), text=True)
    pgfleet._CLEANUP.append(proc.kill)
    m = re.match(r"listening on (http://\S+)", proc.stdout.readline())
    if not m:
        pgfleet.fail(f"keypaird did not start:\n{open(os.path.join(work, 'server.log')).read()[-2000:]}")
    return proc, m.group(1)


def status_of(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


# ---- the browser -----------------------------------------------------------------------

def browser(downloads):
    profile = tempfile.mkdtemp(prefix="keypair-chromium-")
    pgfleet._CLEANUP.append(lambda: shutil.rmtree(profile, ignore_errors=True))
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--window-size=1280,1000",
                 f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                           "download.prompt_for_download": False})
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=opts, service=service)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return driver


class Page:
    """The console in one browser, with the checks every view gets."""

    def __init__(self, driver, origin, axe_source, screenshots):
        self.d, self.origin, self.axe, self.screenshots = driver, origin, axe_source, screenshots
        self.requests = []

    def el(self, id_):
        return WebDriverWait(self.d, WAIT).until(EC.visibility_of_element_located((By.ID, id_)))

    def click(self, id_):
        WebDriverWait(self.d, WAIT).until(EC.element_to_be_clickable((By.ID, id_))).click()

    def fill(self, id_, text):
        e = self.el(id_)
        e.clear()
        e.send_keys(text)

    def wait_text(self, id_, predicate, what):
        try:
            return WebDriverWait(self.d, WAIT).until(
                lambda d: (lambda t: t if predicate(t) else False)(d.find_element(By.ID, id_).text))
        except Exception:
            pgfleet.fail(f"console: {what}: #{id_} reads {self.d.find_element(By.ID, id_).text!r}")

    def status(self, contains):
        return self.wait_text("status", lambda t: contains in t, f"status saying {contains!r}")

    def error_code(self):
        WebDriverWait(self.d, WAIT).until(EC.visibility_of_element_located((By.ID, "error")))
        return self.d.find_element(By.ID, "error-code").text, self.d.find_element(By.ID, "error-message").text

    def audit(self, view):
        """axe-core on the current view: no serious or critical violation."""
        self.d.execute_script(self.axe)
        found = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
            "v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help}))));")
        bad = [v for v in found if v["impact"] in ("serious", "critical")]
        check(not bad, f"axe: no serious or critical violation on the {view} view {bad or ''}")

    def shot(self, name):
        if self.screenshots:
            self.d.save_screenshot(os.path.join(self.screenshots, f"console-{name}.png"))

    def collect_requests(self):
        """Every request a document of the console made (the browser's own start page
        and internal fetches are not the page's)."""
        for entry in self.d.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            params = msg.get("params", {})
            if msg.get("method") == "Network.requestWillBeSent" and \
                    params.get("documentURL", "").startswith(self.origin + "/console"):
                self.requests.append(params["request"]["url"])


# ---- the flows -------------------------------------------------------------------------

def sign_in_by_keyboard(page, secret_key):
    """The sign-in form from the keyboard alone: type, Tab between fields, Enter."""
    page.d.get(page.origin + "/console/")
    field = page.el("secret-id")
    field.clear()
    field.click()
    field.send_keys(SECRET_ID, Keys.TAB)
    active = page.d.switch_to.active_element
    check(active.get_attribute("id") == "secret-key", "Tab moves from the SecretId to the SecretKey")
    active.send_keys(Keys.CONTROL, "a")
    active.send_keys(secret_key, Keys.ENTER)


def choose(page, product):
    page.click(f"product-{product}")
    page.wait_text("page-caption", lambda t: t.startswith("CVM" if product == "cvm" else "Lighthouse"),
                   f"the {product} list")


def create_and_download(page, product, downloads, keygen):
    name = f"made_{product}"
    page.click("nav-create")
    page.fill("create-name", name)
    page.click("create")
    page.el("created-private-key")
    check("cannot be shown again" in page.el("created-warning").text, f"{product}: the one-time warning is shown")
    page.audit("create")
    page.shot(f"create-{product}")
    key_id = re.search(r"\((\w+-\w+)\)", page.el("created-id").text).group(1)
    page.click("download-private-key")
    path = os.path.join(downloads, f"{key_id}.pem")
    deadline = time.time() + WAIT
    while not (os.path.exists(path) and os.path.getsize(path) > 0) and time.time() < deadline:
        time.sleep(0.1)  # polling for the download with a deadline
    check(os.path.exists(path), f"{product}: the private key downloads as {key_id}.pem")
    os.chmod(path, 0o600)
    derived = subprocess.run([keygen, "-y", "-f", path], check=True, capture_output=True, text=True).stdout.split()[:2]
    page.click("created-done")
    page.status("key pairs")
    rows = page.d.find_element(By.ID, "key-rows")
    rows.find_element(By.XPATH, f".//button[text()='{key_id}']").click()
    listed = page.el("detail-public-key").get_attribute("value").split()[:2]
    check(derived == listed, f"{product}: ssh-keygen -y on the download gives the listed public key")
    return key_id


def import_tagged(page, product, work, keygen):
    base = os.path.join(work, f"imported_{product}")
    subprocess.run([keygen, "-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "console", "-f", base], check=True)
    page.click("nav-import")
    page.fill("import-name", f"imp_{product}")
    page.el("import-file").send_keys(base + ".pub")
    WebDriverWait(page.d, WAIT).until(lambda d: d.find_element(By.ID, "import-public-key").get_attribute("value"))
    page.fill("import-tag-key", "team")
    page.fill("import-tag-value", f"blue_{product}")
    page.audit("import")
    page.click("import")
    status = page.status("Imported")
    return re.search(r"Imported (\S+)", status).group(1)


def filter_by_tag(page, product, key_id):
    page.click("nav-list")
    page.wait_text("page-caption", lambda t: t.endswith("of 2"), "the created and the imported key pair")
    page.shot(f"list-{product}")
    page.fill("filter-tag-key", "team")
    page.fill("filter-tag-value", f"blue_{product}")
    page.click("filter-apply")
    page.wait_text("page-caption", lambda t: t.endswith("of 1"), "one key pair with the tag")
    ids = [b.text for b in page.d.find_elements(By.CSS_SELECTOR, "#key-rows button")]
    check(ids == [key_id], f"{product}: the tag filter lists only the tagged key pair")
    page.audit("list")
    page.d.find_element(By.XPATH, f"//tbody[@id='key-rows']//button[text()='{key_id}']").click()
    page.el("detail-public-key")


def rename(page, key_id):
    page.fill("modify-name", "renamed_cvm")
    page.fill("modify-description", "made in the console")
    page.click("modify")
    page.status(f"Saved {key_id}")
    check(page.el("detail-name").text == "renamed_cvm", "cvm: the rename shows in the details")


def bind_refuse_unbind_delete(page, product, key_id):
    instance = INSTANCES[product]
    page.fill("bind-instances", instance)
    if product == "lighthouse":
        page.fill("bind-username", "root")
    page.click("bind")
    page.status("Bound")
    check(instance in page.el("detail-bound-instances").text, f"{product}: the binding shows in the details")
    page.audit("detail")
    page.shot(f"bind-{product}")
    page.click("delete")
    page.d.switch_to.alert.accept()
    code, message = page.error_code()
    expected = "InvalidParameterValue.KeyPairNotSupported" if product == "cvm" else "ResourceInUse.KeyPairInUse"
    check(code == expected and message, f"{product}: deleting a bound key pair shows {code}: {message}")
    page.click("unbind")
    page.status("Unbound")
    check(page.el("detail-bound-instances").text == "none", f"{product}: the unbinding shows in the details")
    page.click("delete")
    page.d.switch_to.alert.accept()
    page.status(f"Deleted {key_id}")
    ids = [b.text for b in page.d.find_elements(By.CSS_SELECTOR, "#key-rows button")]
    check(key_id not in ids, f"{product}: the deleted key pair is gone from the list")


def fits(page, width, height, scale, what):
    """No sideways scrolling of the page itself at this viewport (the table scrolls in
    its own box)."""
    page.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": width < 500})
    over = page.d.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    check(over <= 0, f"the list fits {what} without scrolling sideways ({over} px over)")


def run_store(args, store, label, axe, work):
    binary = args.binary
    downloads, keys = os.path.join(work, f"downloads-{label}"), os.path.join(work, f"keys-{label}")
    os.makedirs(downloads)
    os.makedirs(keys)
    proc, origin = start_server(binary, store, console=True)
    driver = browser(downloads)
    page = Page(driver, origin, axe, args.screenshots if label == "sqlite" else None)
    try:
        sign_in_by_keyboard(page, SECRET_KEY + "wrong")
        code, _ = page.error_code()
        check(code == "AuthFailure.SignatureFailure", f"{label}: a wrong SecretKey shows {code}")
        page.audit("sign-in")
        sign_in_by_keyboard(page, SECRET_KEY)
        page.status("key pairs")
        for product in ("cvm", "lighthouse"):
            choose(page, product)
            create_and_download(page, product, downloads, args.ssh_keygen)
            key_id = import_tagged(page, product, keys, args.ssh_keygen)
            filter_by_tag(page, product, key_id)
            if product == "cvm":
                rename(page, key_id)
            bind_refuse_unbind_delete(page, product, key_id)
        page.click("nav-list")
        page.click("filter-apply")
        page.status("key pairs")
        fits(page, 360, 740, 2, "a phone-sized viewport (360 × 740)")
        fits(page, 320, 256, 4, "400% zoom of 1280 × 1024")
        page.click("nav-admin")
        page.audit("admin")
        page.fill("admin-token", "console-admin")
        page.click("admin-reset")
        page.d.switch_to.alert.accept()
        removed = page.status("Removed")
        check(removed == "Removed 2 key pairs", f"{label}: the admin view's reset removes the 2 key pairs left: {removed}")
        page.collect_requests()
        foreign = [u for u in page.requests if not (u.startswith(origin + "/") or u.startswith("blob:" + origin)
                                                   or u.startswith("data:"))]
        check(page.requests and not foreign,
              f"{label}: all {len(page.requests)} requests the page made went to {origin} {foreign or ''}")
    finally:
        driver.quit()
        proc.terminate()
        proc.wait(timeout=30)


def axe_source(directory):
    path = os.path.join(directory, "node_modules", "axe-core", "axe.min.js")
    if not os.path.exists(path):
        os.makedirs(directory, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", directory, "axe-core@4"],
                       check=True)
    with open(path) as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(pgfleet.ROOT, "target", "release", "keypaird"))
    ap.add_argument("--axe", default=os.path.join(pgfleet.ROOT, "target", "e2e-clients", "axe"))
    ap.add_argument("--screenshots", default=None)
    ap.add_argument("--ssh-keygen", default=shutil.which("ssh-keygen") or "ssh-keygen")
    args = ap.parse_args()
    axe = axe_source(args.axe)
    work = pgfleet.workdir("keypair-console-test-")

    proc, origin = start_server(args.binary, None, console=False)
    check(status_of(origin + "/console/") == 404, "a durable server without [console] answers 404 at /console/")
    proc.terminate()
    proc.wait(timeout=30)

    run_store(args, None, "sqlite", axe, work)
    db = pgfleet.Cluster(pgfleet.workdir("keypair-console-pg-"), "db").init_primary()
    run_store(args, f"postgres://postgres@127.0.0.1:{db.port}/postgres", "postgres", axe, work)
    print(f"console: {len(CHECKS)} checks passed in a real Chromium (SQLite and PostgreSQL)", flush=True)


if __name__ == "__main__":
    main()
