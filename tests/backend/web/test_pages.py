"""The web pages over HTTP: sessions, CSRF, languages, member links, the public page."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from cer_backend.models import MemberLink, WebSession, utcnow
from cer_backend.service.web_access import IDLE_HOURS
from tests.support.cli import backend_env, run_cli

from .conftest import POD_FAMILY, POD_HOME, POD_PLANT, Site, csrf_of

pytestmark = pytest.mark.database

REPO = Path(__file__).resolve().parents[3]
CONSOLE_PAGES = (
    "/console",
    "/console/anagrafica",
    "/console/dati",
    "/console/liquidazioni",
    "/console/gse",
    "/console/avvisi",
    "/console/token",
    "/console/schede",
)


async def test_console_needs_an_admin_token_and_sets_a_strict_http_only_cookie(
    site: Site,
) -> None:
    async with site.browser() as client:
        status, _ = await site.get(client, "/console")
        assert status == 303
        for token in ("viewer_a", "cer_unknown"):
            status, page, _ = await site.post(client, "/console/accedi", {"token": token})
            assert status == 401
            assert "Token sconosciuto" in page
        status, _, response = await site.post(
            client, "/console/accedi", {"token": site.tokens["admin_a"]}
        )
        assert status == 303
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert "Path=/console" in cookie
        for path in CONSOLE_PAGES:
            status, page = await site.get(client, path)
            assert status == 200, (path, page[:500])
            assert "CER Test A" in page
            assert 'name="csrf"' in page  # every page has at least the sign-out form


async def test_a_form_without_its_csrf_token_is_refused(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        for data in ({"period": "2025-06"}, {"period": "2025-06", "csrf": "wrong"}):
            status, page, _ = await site.post(client, "/console/liquidazioni", data)
            assert status == 403
            assert "CSRF" in page
        status, page = await site.get(client, "/console/liquidazioni")
        assert 'id="runs"' not in page  # nothing was run
        status, _, _ = await site.post(
            client, "/console/liquidazioni", {"period": "2025-06", "csrf": csrf_of(page)}
        )
        assert status == 303  # the same form with its token runs the month


async def test_sign_out_ends_the_session_on_the_server(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        _, page = await site.get(client, "/console")
        cookie = client.cookie_jar.filter_cookies(site.server.make_url("/console"))[
            "cer_console"
        ].value
        status, _, _ = await site.post(client, "/console/esci", {"csrf": csrf_of(page)})
        assert status == 303
    async with site.browser() as replay:  # the old cookie, replayed, opens nothing
        status, _ = await site.get(replay, "/console", headers={"Cookie": f"cer_console={cookie}"})
        assert status == 303


async def test_a_session_ends_after_eight_idle_hours_and_with_its_token(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        assert (await site.get(client, "/console"))[0] == 200
        async with site.engine.begin() as connection:
            await connection.execute(
                update(WebSession).values(
                    last_seen=utcnow() - timedelta(hours=IDLE_HOURS, seconds=1)
                )
            )
        assert (await site.get(client, "/console"))[0] == 303
        await site.sign_in(client)
        _, page = await site.get(client, "/console/token")
        admin_id = re.findall(r"/console/token/(\d+)/revoca", page)[0]  # the first: admin_a
        status, _, _ = await site.post(
            client, f"/console/token/{admin_id}/revoca", {"csrf": csrf_of(page)}
        )
        assert status == 303
        assert (await site.get(client, "/console"))[0] == 303  # its own token is revoked


async def test_a_global_admin_picks_the_community(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client, "root")
        status, _ = await site.get(client, "/console")
        assert status == 303  # to the picker
        status, page = await site.get(client, "/console/comunita")
        assert "CER Test A" in page and "CER Test B" in page
        status, _, _ = await site.post(
            client, "/console/comunita", {"community": site.community_b, "csrf": csrf_of(page)}
        )
        assert status == 303
        status, page = await site.get(client, "/console")
        assert status == 200 and "CER Test B" in page


async def test_an_admin_of_one_community_sees_only_its_own(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client, "admin_b")
        _, page = await site.get(client, "/console/anagrafica")
        assert "CER Test B" in page and POD_HOME not in page
        status, _, _ = await site.post(
            client, "/console/comunita", {"community": site.community_a, "csrf": csrf_of(page)}
        )
        assert status == 403


async def test_tokens_are_shown_once_and_a_site_sheet_names_the_url(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        _, page = await site.get(client, "/console/schede")
        assert POD_PLANT in page
        status, sheet, _ = await site.post(
            client,
            "/console/token",
            {
                "csrf": csrf_of(page),
                "role": "site",
                "pods": POD_PLANT,
                "label": "Scuola",
                "sheet": "1",
            },
        )
        assert status == 200
        secret = re.search(r'id="sheet-token">(cer_[^<]+)<', sheet)
        assert secret is not None
        assert site.url("/").rstrip("/") in sheet
        _, listing = await site.get(client, "/console/token")
        assert "Scuola" in listing and secret.group(1) not in listing


async def _member_link(site: Site, member: str, community: str | None = None) -> str:
    async with (
        site.browser() as client,
        client.post(
            site.url(f"/api/v1/communities/{community or site.community_a}/members/{member}/link"),
            headers={"Authorization": f"Bearer {site.tokens['admin_a']}"},
        ) as response,
    ):
        assert response.status == 201, await response.text()
        url: str = (await response.json())["url"]
    return url


async def test_a_member_link_works_once_after_its_button(site: Site) -> None:
    url = await _member_link(site, "famiglia")
    assert url.startswith(site.url("/socio/accesso/"))
    path = url.removeprefix(site.url("/").rstrip("/"))
    async with site.browser() as client:
        for _ in range(2):  # a mail scanner's GETs use nothing up
            status, page = await site.get(client, path)
            assert status == 200 and 'id="enter"' in page
        status, _, response = await site.post(client, path)
        assert status == 303
        assert "HttpOnly" in response.headers["Set-Cookie"]
        assert "Path=/socio" in response.headers["Set-Cookie"]
        status, _ = await site.get(client, "/socio")
        status, page = await site.get(client, f"/socio/{site.community_a}/famiglia")
        assert status == 200
        assert "Famiglia Rossi" in page and POD_FAMILY in page
        assert POD_HOME not in page and "Comune" not in page.replace("Comunità", "")
        for other in (f"/socio/{site.community_a}/comune", f"/socio/{site.community_b}/ente"):
            status, page = await site.get(client, other)
            assert status == 403
            assert POD_HOME not in page
        assert (await site.get(client, "/console"))[0] == 303  # not a console session
    async with site.browser() as other:
        assert (await site.post(other, path))[0] == 404  # used
        assert (await site.get(other, path))[0] == 404


async def test_an_expired_link_opens_nothing(site: Site) -> None:
    url = await _member_link(site, "famiglia")
    async with site.engine.begin() as connection:
        await connection.execute(update(MemberLink).values(expires_at=utcnow()))
    path = url.removeprefix(site.url("/").rstrip("/"))
    async with site.browser() as client:
        assert (await site.post(client, path))[0] == 404


async def test_a_link_for_an_unknown_member_or_another_community_is_refused(site: Site) -> None:
    async with site.browser() as client:
        for path, status in (
            (f"/api/v1/communities/{site.community_a}/members/nobody/link", 404),
            (f"/api/v1/communities/{site.community_b}/members/ente/link", 403),
        ):
            async with client.post(
                site.url(path), headers={"Authorization": f"Bearer {site.tokens['admin_a']}"}
            ) as response:
                assert response.status == status


def test_member_link_command_prints_the_link_last(database_url: str, tmp_path: Path) -> None:
    env = backend_env(tmp_path, database_url)
    imported = run_cli("community", "import", str(REPO / "examples/comune/community.yaml"), env=env)
    assert imported.returncode == 0, imported.stderr
    community = imported.stdout.strip().splitlines()[-1]
    made = run_cli(
        "member",
        "link",
        "--community",
        community,
        "famiglia_01",
        "--base-url",
        "https://cer.example.it",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(
        r"https://cer\.example\.it/socio/accesso/[A-Za-z0-9_-]{43}",
        made.stdout.strip().splitlines()[-1],
    )
    unknown = run_cli("member", "link", "--community", community, "nobody", env=env)
    assert unknown.returncode == 2
    assert unknown.stderr.strip().count("\n") == 0 and "nobody" in unknown.stderr


async def test_the_public_page_names_no_pod_and_no_private_member(site: Site) -> None:
    async with site.browser() as client:
        status, page = await site.get(client, "/pubblico")
        assert status == 200
        assert f"/pubblico/{site.community_a}" in page
        assert site.community_b not in page  # B has no public_page
        status, page = await site.get(client, f"/pubblico/{site.community_a}")
        assert status == 200
        assert "Comune" in page  # a municipality that agreed to be named
        assert "Famiglia Rossi" not in page
        assert re.search(r"IT\d{3}E\d+", page) is None
        status, _ = await site.get(client, f"/pubblico/{site.community_b}")
        assert status == 404
        status, _ = await site.get(client, "/pubblico/nessuna")
        assert status == 404


async def test_italian_by_default_english_on_request_and_kept_in_the_session(
    site: Site,
) -> None:
    async with site.browser() as client:
        _, page = await site.get(client, "/console/accedi")
        assert 'lang="it"' in page and "Accedi" in page
        _, page = await site.get(client, "/console/accedi?lang=en")
        assert 'lang="en"' in page and "Sign in" in page
        _, page = await site.get(
            client, "/console/accedi", headers={"Accept-Language": "en-GB,en;q=0.8"}
        )
        assert 'lang="en"' in page
        await site.sign_in(client)
        _, page = await site.get(client, "/console?lang=en")
        assert "Overview" in page
        _, page = await site.get(client, "/console/anagrafica")  # no ?lang: the session's
        assert 'lang="en"' in page and "Members" in page


async def test_read_only_pages_carry_no_script(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        for path in (*CONSOLE_PAGES, f"/pubblico/{site.community_a}", "/pubblico"):
            _, page = await site.get(client, path)
            assert "<script" not in page, path


async def test_the_registry_is_edited_as_a_community_file_with_its_diff_first(
    site: Site,
) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        status, page = await site.get(client, "/console/anagrafica/modifica")
        assert status == 200
        found = re.search(r'<textarea id="text" name="text"[^>]*>(.*?)</textarea>', page, re.S)
        assert found is not None
        text = html.unescape(found.group(1))
        csrf = csrf_of(page)
        status, page, _ = await site.post(
            client, "/console/anagrafica/importa", {"csrf": csrf, "text": text}
        )
        assert status == 200 and 'id="dry-run"' in page
        diff = page[page.index('id="diff"') :]
        assert "famiglia" not in diff.split("</table>")[0]  # the registry as it is: no change
        # a broken file is refused with its problems, nothing stored
        broken = text.replace("type: person", "type: large_enterprise")
        status, page, _ = await site.post(
            client, "/console/anagrafica/importa", {"csrf": csrf, "text": broken}
        )
        assert status == 422 and 'id="problems"' in page and "members[1].type" in page
        # add a member, end the household on a day: the diff first, then the import
        edited = text.replace(
            "  joined: '2025-01-01'\n",
            "  joined: '2025-01-01'\n  left: '2025-07-01'\n"
            "- id: bar\n  name: Bar Sport\n  type: sme\n  pods:\n  - IT001E00000004\n",
        )
        assert edited != text
        status, page, _ = await site.post(
            client, "/console/anagrafica/importa", {"csrf": csrf, "text": edited}
        )
        assert status == 200 and 'id="dry-run"' in page
        diff = page[page.index('id="diff"') :].split("</table>")[0]
        assert "bar" in diff and "famiglia (left)" in diff
        _, registry_page = await site.get(client, "/console/anagrafica")
        assert "Bar Sport" not in registry_page  # a dry run stored nothing
        status, page, _ = await site.post(
            client, "/console/anagrafica/importa", {"csrf": csrf, "text": edited, "apply": "1"}
        )
        assert status == 200 and 'id="applied"' in page
        _, page = await site.get(client, "/console/anagrafica")
        assert "Bar Sport" in page and "IT001E00000004" in page
        assert "2025-07-01" in page  # the member's last day is in the table and the history


async def test_a_run_is_finalised_by_force_downloaded_and_sent_as_a_dry_run(site: Site) -> None:
    async with site.browser() as client:
        await site.sign_in(client)
        _, page = await site.get(client, "/console/liquidazioni")
        csrf = csrf_of(page)
        status, _, response = await site.post(
            client, "/console/liquidazioni", {"csrf": csrf, "period": "2025-06"}
        )
        assert status == 303
        run_path = response.headers["Location"]
        _, page = await site.get(client, run_path)
        assert 'id="guards"' in page  # no readings: incomplete
        status, page, _ = await site.post(client, f"{run_path}/finalizza", {"csrf": csrf})
        assert status == 409 and 'id="error"' in page
        status, page, _ = await site.post(
            client, f"{run_path}/finalizza", {"csrf": csrf, "force": "1"}
        )
        assert status == 422  # forcing needs a reason
        status, _, _ = await site.post(
            client, f"{run_path}/finalizza", {"csrf": csrf, "force": "1", "reason": "prova"}
        )
        assert status == 303
        _, page = await site.get(client, run_path)
        assert "definitiva" in page and "prova" in page
        for name, kind in (
            ("report.csv", "text/csv"),
            ("report.pdf", "application/pdf"),
            ("export.csv", "text/csv"),
            ("export.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("statement.pdf?member=famiglia", "application/pdf"),
        ):
            async with client.get(site.url(f"{run_path}/{name}")) as download:
                assert download.status == 200, name
                assert download.content_type == kind
                assert "attachment" in download.headers["Content-Disposition"]
        status, page = await site.get(client, f"{run_path}/statement.pdf?member=nobody")
        assert status == 404
        status, page, _ = await site.post(
            client, f"{run_path}/invia", {"csrf": csrf, "dry_run": "1"}
        )
        assert status == 200 and 'id="sent"' in page
