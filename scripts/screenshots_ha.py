"""The README's pictures of the Lovelace dashboards, from a live Home Assistant 2026.10.

Called by ``scripts/screenshots`` (which builds the environments, starts Home Assistant and the
simulated devices, and cleans up), in two steps:

``config DIR --port N --repo PATH``
    writes a throw-away ``configuration.yaml`` into DIR: Italian, the HTTP server on
    127.0.0.1:N, and each dashboard of ``dashboards/lovelace`` as a YAML dashboard (PATH: the
    repository as Home Assistant sees it).
``shoot --ha URL --devices FILE --work DIR --out DIR [--only NAME] [--hass-pid PID]``
    loads the example community into a live ``cer-backend serve`` (``cer-backend demo``, site
    tokens of the town hall and the school), creates Home Assistant's owner through the
    onboarding API, configures the community dashboard entry "CER Comune" and the sites
    "Municipio" and "Scuola" with their devices through the config-flow and options-flow REST
    API (as the user interface does), waits for every entity the dashboards name, then opens
    each view in headless Chromium at a desktop and a phone width, checks that no card says
    its entity is not there (``hui-warning``: "Entità non trovata"), and writes the PNGs.

Every wait is bounded; an error is one line (exit code 1), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tests.backend.web.browser import LiveBackend, browser_available, chromium

ROOT = Path(__file__).resolve().parents[1]
LOVELACE = ROOT / "dashboards" / "lovelace"
EXAMPLES = ROOT / "examples"


@dataclass(frozen=True)
class Dashboard:
    """A Lovelace file shown as a YAML dashboard at ``url_path``; its PNGs are named
    ``lovelace-<key>[-<view path>][-phone].png`` (the view's path only when it has several)."""

    key: str
    url_path: str
    file: str
    title: str
    icon: str
    #: (entity, least value) to wait for before the pictures, so that they show figures
    #: that take a round trip through the backend (a minute or two); None: no wait
    ready: tuple[str, float] | None = None


#: The dashboards photographed (the Italian files: Home Assistant is set up in Italian).
DASHBOARDS = (
    Dashboard(
        "staff",
        "cer-comunita",
        "municipal_staff.yaml",
        "CER Comunità",
        "mdi:solar-power",
        # both sites' live figures have reached the backend and come back as the community's
        ready=("sensor.cer_comune_siti_della_comunita_che_trasmettono", 2),
    ),
    Dashboard("building", "cer-edificio", "building.yaml", "CER Municipio", "mdi:office-building"),
)

#: Viewports: (suffix of the file name, width, smallest height, mobile).
VIEWPORTS = (("", 1400, 700, False), ("-phone", 412, 800, True))
#: The tallest picture, px (longer views are cut there).
MAX_HEIGHT = 4000

#: The sites of the example community that run Home Assistant here (as the dashboards were
#: drawn): entry name → (POD, member id, [(device key, name, role, profile)]).
SITES = {
    "Municipio": (
        "IT001E00000103",
        "comune",
        [
            ("municipio.inverter", "Inverter", "production", "sunspec"),
            ("municipio.grid", "Grid meter", "grid", "sdm630"),
            ("municipio.lighting", "Lighting", "load", "em24"),
        ],
    ),
    "Scuola": (
        "IT001E00000101",
        "comune",
        [
            ("scuola.inverter", "Inverter", "production", "sunspec"),
            ("scuola.grid", "Grid meter", "grid", "sdm630"),
        ],
    ),
}
COMMUNITY_ENTRY = "CER Comune"

#: Bounds of each wait, s.
HA_START_S = 600
READY_S = 240
ENTITIES_S = 180
RENDER_S = 90
#: Time given to graphs and statistics to draw once the cards are there, s.
SETTLE_S = 4.0

ENTITY_ID = re.compile(r"\b(?:sensor|binary_sensor)\.[a-z0-9_]+\b")


class ShotError(Exception):
    """A step failed: one line for the user."""


def log(text: str) -> None:
    """A progress line, as the shell scripts write them."""
    print(f"\033[1m==> {text}\033[0m", file=sys.stderr, flush=True)


def wait_for(what: str, seconds: float, probe: Callable[[], Any], alive: Callable[[], None]) -> Any:
    """Call ``probe`` until it returns something truthy; ShotError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        alive()
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise ShotError(f"{what}: not within {seconds:.0f} s")
        time.sleep(1.0)


# --- configuration.yaml ------------------------------------------------------------------


def chosen(only: str | None) -> tuple[Dashboard, ...]:
    """The dashboards ``--only`` names (by key or address), or all of them."""
    dashboards = tuple(d for d in DASHBOARDS if only in {None, d.key, d.url_path})
    if not dashboards:
        known = ", ".join(d.key for d in DASHBOARDS)
        raise ShotError(f"--only {only}: no such dashboard (known: {known})")
    return dashboards


def write_config(folder: Path, port: int, repo: str) -> None:
    """A throw-away configuration: what the integration and its dashboards need, Italian."""
    dashboards = {
        dashboard.url_path: {
            "mode": "yaml",
            "title": dashboard.title,
            "icon": dashboard.icon,
            "show_in_sidebar": True,
            "filename": f"{repo}/dashboards/lovelace/{dashboard.file}",
        }
        for dashboard in DASHBOARDS
    }
    config = {
        "homeassistant": {
            "name": "CER Borgo Sole",
            "time_zone": "Europe/Rome",
            "country": "IT",
            "language": "it",
            "unit_system": "metric",
            "currency": "EUR",
            "latitude": 43.77,
            "longitude": 11.25,
            "elevation": 50,
        },
        "frontend": {},
        "config": {},
        "history": {},
        "sun": {},
        "lovelace": {"dashboards": dashboards},
        "logger": {"default": "warning", "logs": {"custom_components.cer_community": "info"}},
    }
    folder.mkdir(parents=True, exist_ok=True)
    text = "# Written by scripts/screenshots for one run (thrown away afterwards).\n"
    text += yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    (folder / "configuration.yaml").write_text(text, encoding="utf-8")
    storage = folder / ".storage"
    storage.mkdir(exist_ok=True)
    (storage / "http").write_text(json.dumps(http_storage(port), indent=2), encoding="utf-8")
    # Onboarding's other steps done: its location step would set up the weather (met.no, on
    # the Internet), radio browser, Google Translate and a shopping list on this instance.
    onboarding = {
        "version": 4,
        "minor_version": 1,
        "key": "onboarding",
        "data": {"done": ["core_config", "analytics", "integration"]},
    }
    (storage / "onboarding").write_text(json.dumps(onboarding), encoding="utf-8")


def http_storage(port: int) -> dict[str, Any]:
    """Home Assistant 2026.10's stored HTTP settings: 127.0.0.1:``port``, confirmed.

    From 2026.10 an ``http:`` section in YAML is migrated once into storage as a *pending*
    setting that the user must confirm in a dialog (which would cover the screenshots) and
    that is reverted with a restart after 5 minutes; a stored *stable* setting is used as is.
    """
    stable = {
        "server_host": ["127.0.0.1"],
        "server_port": port,
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    return {
        "version": 2,
        "minor_version": 2,
        "key": "http",
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }


# --- Home Assistant's REST API ----------------------------------------------------------


class HomeAssistant:
    """The REST API of a live Home Assistant, as the frontend uses it."""

    def __init__(self, url: str, alive: Callable[[], None]) -> None:
        self.url = url.rstrip("/")
        self.client_id = f"{self.url}/"
        self.alive = alive
        self.tokens: dict[str, Any] = {}

    def request(
        self, method: str, path: str, body: Any = None, *, form: bool = False, auth: bool = True
    ) -> tuple[int, Any]:
        """(status, decoded JSON or text)."""
        headers = {}
        data = None
        if body is not None and form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth and self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens['access_token']}"
        request = urllib.request.Request(self.url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as reply:
                status, raw = reply.status, reply.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """The decoded answer; ShotError unless 200/201."""
        status, answer = self.request(method, path, body, **kwargs)
        if status not in {200, 201}:
            raise ShotError(f"{method} {path}: HTTP {status}: {str(answer)[:300]}")
        return answer

    def answers(self) -> bool:
        """Whether the onboarding endpoint answers (the HTTP server is up)."""
        try:
            status, _ = self.request("GET", "/api/onboarding", auth=False)
        except OSError:
            return False
        return status == 200

    def onboard(self) -> None:
        """The owner and a token for it (the other steps are marked done in the storage)."""
        answer = self.call(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": "Ufficio tecnico",
                "username": "cer",
                "password": "cer-screenshots",
                "language": "it",
            },
            auth=False,
        )
        self.tokens = self.call(
            "POST",
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": answer["auth_code"],
                "client_id": self.client_id,
            },
            form=True,
            auth=False,
        )
        self.tokens["expires_at_ms"] = int((time.time() + self.tokens["expires_in"]) * 1000)

    def running(self) -> bool:
        """Whether Home Assistant has finished starting."""
        status, answer = self.request("GET", "/api/config")
        return status == 200 and isinstance(answer, dict) and answer.get("state") == "RUNNING"

    def flow(self, kind: str, handler: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """Walk a config flow (kind "flow") or options flow ("options/flow"), posting each of
        ``steps`` in turn; the finished flow's answer (ShotError on a form error or abort)."""
        base = f"/api/config/config_entries/{kind}"
        answer = self.call("POST", base, {"handler": handler, "show_advanced_options": False})
        for body in steps:
            if answer.get("type") not in {"form", "menu"}:
                raise ShotError(f"{kind} {handler}: ended early: {answer}")
            answer = self.call("POST", f"{base}/{answer['flow_id']}", body)
            if answer.get("errors"):
                raise ShotError(f"{kind} {handler}: {answer['step_id']}: {answer['errors']}")
        if answer.get("type") != "create_entry":
            raise ShotError(f"{kind} {handler}: did not finish: {answer}")
        return dict(answer)

    def entry_state(self, entry_id: str) -> str | None:
        """The state of a config entry ("loaded", "setup_in_progress", …)."""
        entries = self.call("GET", "/api/config/config_entries/entry?domain=cer_community")
        return next((e["state"] for e in entries if e["entry_id"] == entry_id), None)

    def states(self) -> dict[str, str]:
        """entity id → state."""
        return {item["entity_id"]: item["state"] for item in self.call("GET", "/api/states")}


def entry_id_of(answer: dict[str, Any]) -> str:
    """The new entry's id in a finished config flow's answer (2024.3 and 2026.10 forms)."""
    result = answer.get("result")
    if isinstance(result, dict) and "entry_id" in result:
        return str(result["entry_id"])
    if isinstance(result, str):
        return result
    raise ShotError(f"no entry id in {answer}")


# --- the example backend ------------------------------------------------------------------


def start_backend(work: Path) -> tuple[LiveBackend, str, dict[str, str]]:
    """``cer-backend demo`` and the sites' tokens, then ``serve``: (backend, viewer token,
    site name → site token)."""
    backend = LiveBackend(work / "backend")
    backend.data_dir.mkdir(parents=True, exist_ok=True)
    demo = subprocess.run(
        [sys.executable, "-m", "cer_backend", "demo", "--example", str(EXAMPLES)],
        env=backend.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if demo.returncode != 0:
        raise ShotError(f"cer-backend demo: {demo.stderr.strip()}")
    result_lines = demo.stdout.splitlines()
    community = re.match(r"community (\S+) from ", result_lines[0])
    viewer = next(
        (line.split(": ", 1)[1] for line in result_lines if line.startswith("viewer token: ")),
        None,
    )
    if community is None or viewer is None:
        raise ShotError(f"cer-backend demo printed no community or viewer token: {result_lines}")
    backend.community_id = community.group(1)
    site_tokens = {}
    for name, (pod, _, _) in SITES.items():
        site_tokens[name] = backend.command(
            "token", "create", "--role", "site", "--community", backend.community_id,
            "--pod", pod,
        )  # fmt: skip
    backend.start()
    return backend, viewer, site_tokens


# --- configuration through the flows ----------------------------------------------------------


def configure(
    ha: HomeAssistant,
    backend_url: str,
    viewer: str,
    site_tokens: dict[str, str],
    ports: dict[str, int],
) -> None:
    """The community dashboard entry and the two sites with their devices, as a user would."""
    ha.flow(
        "flow",
        "cer_community",
        [
            {"next_step_id": "community"},
            {"name": COMMUNITY_ENTRY, "backend_url": backend_url, "token": viewer},
        ],
    )
    log(f"Entry {COMMUNITY_ENTRY!r} (community dashboard) created")
    for name, (pod, member, devices) in SITES.items():
        site = ha.flow(
            "flow",
            "cer_community",
            [
                {"next_step_id": "site"},
                {
                    "name": name,
                    "pod": pod,
                    "member_id": member,
                    "site_role": "prosumer",
                    "backend_url": backend_url,
                    "token": site_tokens[name],
                },
            ],
        )
        entry_id = entry_id_of(site)
        for key, device, role, profile in devices:
            ha.flow(
                "options/flow",
                entry_id,
                [
                    {"next_step_id": "add_device"},
                    {"name": device, "source": "modbus", "role": role},
                    {"profile": profile, "host": "127.0.0.1", "port": ports[key], "unit": 1},
                ],
            )
            # The entry reloads with the new device; options saved while it reloads are not
            # applied (its update listener is registered again only at the end of the set-up),
            # so the next device waits for this one's entities, as a person would.
            prefix = "sensor." + re.sub(r"[^a-z0-9]+", "_", f"{name} {device}".lower()) + "_"
            wait_for(
                f"the entities of {name}'s {device}",
                ENTITIES_S,
                lambda prefix=prefix, entry_id=entry_id: (
                    any(e.startswith(prefix) for e in ha.states())
                    and ha.entry_state(entry_id) == "loaded"
                ),
                ha.alive,
            )
        log(f"Site {name!r} ({pod}) with {', '.join(d[1] for d in devices)} created")


def wanted_entities(dashboards: tuple[Dashboard, ...]) -> set[str]:
    """Every entity id the photographed dashboards name."""
    return {
        entity
        for dashboard in dashboards
        for entity in ENTITY_ID.findall((LOVELACE / dashboard.file).read_text(encoding="utf-8"))
    }


# --- the browser ------------------------------------------------------------------------------

#: The page's elements across shadow roots: cards drawn, warnings, loading spinners, and the
#: height of the view's content.
PAGE_PROBE = """
const seen = [];
const walk = (root) => {
  for (const el of root.querySelectorAll('*')) {
    seen.push(el);
    if (el.shadowRoot) walk(el.shadowRoot);
  }
};
walk(document);
const name = (el) => el.localName;
const cards = seen.filter((el) => /^hui-.*-card$/.test(name(el)) && name(el) !== 'hui-error-card');
const warnings = seen
  .filter((el) => name(el) === 'hui-warning' || name(el) === 'hui-error-card')
  .map((el) => (el.innerText || el.textContent || '').trim() ||
               (el.shadowRoot ? el.shadowRoot.textContent.trim() : '') || name(el));
const spinners = seen.filter((el) => ['ha-spinner', 'ha-circular-progress',
  'hass-loading-screen'].includes(name(el)) && el.getClientRects().length > 0).length;
const view = seen.find((el) => name(el) === 'hui-view');
let bottom = 0;
for (const el of seen) {
  if (/^hui-.*-card$/.test(name(el))) {
    const rect = el.getBoundingClientRect();
    if (rect.height > 0) bottom = Math.max(bottom, rect.bottom);
  }
}
return {cards: cards.length, warnings: warnings, spinners: spinners, view: !!view,
        bottom: Math.ceil(bottom + (window.scrollY || 0)), url: location.pathname};
"""


class Browser:
    """Headless Chromium logged in to Home Assistant with the owner's tokens."""

    def __init__(self, ha: HomeAssistant, download_dir: Path) -> None:
        self.ha = ha
        self.driver = chromium(download_dir, 1400, 900)

    def login(self) -> None:
        """The tokens where the frontend keeps them (``hassTokens``), Italian, then home."""
        self.driver.get(f"{self.ha.url}/auth/authorize?response_type=code")
        tokens = {
            "hassUrl": self.ha.url,
            "clientId": self.ha.client_id,
            "access_token": self.ha.tokens["access_token"],
            "refresh_token": self.ha.tokens["refresh_token"],
            "token_type": "Bearer",
            "expires_in": self.ha.tokens["expires_in"],
            "expires": self.ha.tokens["expires_at_ms"],
        }
        self.driver.execute_script(
            "localStorage.setItem('hassTokens', arguments[0]);"
            "localStorage.setItem('selectedLanguage', JSON.stringify('it'));",
            json.dumps(tokens),
        )

    def viewport(self, width: int, height: int, mobile: bool) -> None:
        """The page's size in CSS pixels, 1 device pixel each."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def probe(self) -> dict[str, Any]:
        """What the page shows now (see PAGE_PROBE)."""
        return dict(self.driver.execute_script(PAGE_PROBE))

    def rendered(self, path: str) -> dict[str, Any]:
        """Open ``path`` and wait until its cards are drawn and stay the same."""
        self.driver.get(f"{self.ha.url}{path}")
        deadline = time.monotonic() + RENDER_S
        previous: tuple[int, int] | None = None
        while True:
            page = self.probe()
            if page["url"].startswith("/auth"):
                raise ShotError(f"{path}: the browser was sent to the login page")
            state = (page["cards"], page["bottom"])
            if page["view"] and page["cards"] and not page["spinners"] and state == previous:
                return page
            previous = state
            if time.monotonic() > deadline:
                raise ShotError(f"{path}: the cards were not drawn within {RENDER_S} s ({page})")
            time.sleep(1.0)

    def shoot(
        self, path: str, target: Path, width: int, min_height: int, mobile: bool
    ) -> list[str]:
        """One view to ``target`` at ``width``, as tall as its cards; the warnings it shows."""
        self.viewport(width, min_height, mobile)
        page = self.rendered(path)
        height = min(max(min_height, page["bottom"] + 16), MAX_HEIGHT)
        if height != min_height:
            self.viewport(width, height, mobile)
        time.sleep(SETTLE_S)
        page = self.probe()
        self.driver.save_screenshot(str(target))
        return list(page["warnings"])

    def quit(self) -> None:
        """Close the browser."""
        self.driver.quit()


def colours_of(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct colours of the picture shrunk to 64 px wide): a blank page
    has one or two."""
    from PIL import Image  # noqa: PLC0415 - Pillow comes with reportlab

    with Image.open(path) as image:
        width, height = image.size
        small = image.convert("RGB").resize((64, max(height * 64 // width, 1)))
        colours = small.getcolors(64 * 64 * 4) or []
    return width, height, len(colours)


def shoot_all(
    ha: HomeAssistant, work: Path, out: Path, dashboards: tuple[Dashboard, ...]
) -> list[Path]:
    """Every view of ``dashboards`` at each viewport; ShotError listing every warning seen."""
    out.mkdir(parents=True, exist_ok=True)
    browser = Browser(ha, work)
    written: list[Path] = []
    problems: list[str] = []
    try:
        browser.login()
        for dashboard in dashboards:
            data = yaml.safe_load((LOVELACE / dashboard.file).read_text(encoding="utf-8"))
            views = data["views"]
            for view in views:
                stem = f"lovelace-{dashboard.key}"
                if len(views) > 1:
                    stem += f"-{view['path']}"
                path = f"/{dashboard.url_path}/{view['path']}"
                for suffix, width, height, mobile in VIEWPORTS:
                    target = out / f"{stem}{suffix}.png"
                    warnings = browser.shoot(path, target, width, height, mobile)
                    written.append(target)
                    problems += [f"{target.name}: {text}" for text in warnings]
                    log(f"{target} ({path}, {width} px wide)")
    finally:
        browser.quit()
    if problems:
        raise ShotError("cards without their entity: " + "; ".join(problems))
    return written


# --- commands ---------------------------------------------------------------------------------


def shoot(args: argparse.Namespace) -> None:
    """The ``shoot`` step."""
    reason = browser_available()
    if reason is not None:
        raise ShotError(reason)
    dashboards = chosen(args.only)
    work = Path(args.work)

    def alive() -> None:
        if args.hass_pid and not _running(args.hass_pid):
            raise ShotError("Home Assistant stopped (its log: home-assistant.log in the config)")

    backend, viewer, site_tokens = start_backend(work)
    try:
        log(f"Example backend (cer-backend demo) on {backend.url}")
        ha = HomeAssistant(args.ha, alive)
        ports_file = Path(args.devices)
        wait_for("the simulated devices", 60, ports_file.exists, alive)
        ports = json.loads(ports_file.read_text(encoding="utf-8"))
        wait_for(f"Home Assistant on {ha.url}", HA_START_S, ha.answers, alive)
        ha.onboard()
        wait_for("Home Assistant started", HA_START_S, ha.running, alive)
        log(f"Home Assistant 2026.10 on {ha.url}: owner created, running")
        configure(ha, backend.url, viewer, site_tokens, ports)
        wanted = wanted_entities(dashboards)

        absent: list[str] = []

        def all_there() -> dict[str, str] | None:
            now = ha.states()
            absent[:] = sorted(wanted - set(now))
            return None if absent else now

        try:
            states = wait_for(
                f"the {len(wanted)} entities of the dashboards", ENTITIES_S, all_there, alive
            )
        except ShotError as error:
            present = set(ha.states())
            near = sorted(
                entity
                for entity in present
                if any(entity.startswith(gone.rsplit("_", 1)[0]) for gone in absent)
            )
            raise ShotError(
                f"{error}; not created: {', '.join(absent)} (similar: {', '.join(near)})"
            ) from None
        missing = sorted(e for e in wanted if states.get(e) in {None, "unavailable"})
        log(
            f"{len(wanted)} entities of the dashboards present"
            + (f"; unavailable: {', '.join(missing)}" if missing else ", none unavailable")
        )
        for dashboard in dashboards:
            if dashboard.ready is not None:
                wait_ready(ha, *dashboard.ready)
        written = shoot_all(ha, work, Path(args.out), dashboards)
        for path in written:
            width, height, colours = colours_of(path)
            if colours < 8:
                raise ShotError(f"{path}: {width}×{height} with {colours} colours: blank")
        log(f"{len(written)} pictures written, no card without its entity")
    finally:
        backend.stop()


def wait_ready(ha: HomeAssistant, entity: str, least: float) -> None:
    """Wait (at most READY_S) for ``entity`` to reach ``least``; a log line if it does not."""

    def value() -> float:
        try:
            return float(ha.states().get(entity, "nan"))
        except ValueError:
            return float("nan")

    log(f"Waiting for {entity} ≥ {least:g} (live figures through the backend, ≤ {READY_S} s)")
    deadline = time.monotonic() + READY_S
    while not value() >= least:
        ha.alive()
        if time.monotonic() > deadline:
            log(f"{entity} is still {ha.states().get(entity)}: the pictures show it so")
            return
        time.sleep(2.0)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    """``config`` or ``shoot`` (see the module's docstring)."""
    parser = argparse.ArgumentParser(prog="screenshots_ha.py")
    steps = parser.add_subparsers(dest="step", required=True)
    config = steps.add_parser("config")
    config.add_argument("folder")
    config.add_argument("--port", type=int, required=True)
    config.add_argument("--repo", required=True)
    config.add_argument("--only")
    shot = steps.add_parser("shoot")
    shot.add_argument("--ha", required=True)
    shot.add_argument("--devices", required=True)
    shot.add_argument("--work", default=tempfile.gettempdir())
    shot.add_argument("--out", default=str(ROOT / "docs" / "images"))
    shot.add_argument("--only")
    shot.add_argument("--hass-pid", type=int)
    args = parser.parse_args(argv)
    # SIGTERM (scripts/screenshots stopping, or its timeout) unwinds: the browser and the
    # backend are stopped by the ``finally`` blocks
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if args.step == "config":
            chosen(args.only)
            write_config(Path(args.folder), args.port, args.repo)
        else:
            shoot(args)
    except (ShotError, OSError, AssertionError) as error:
        print(f"error: screenshots: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
