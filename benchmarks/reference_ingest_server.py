"""The reference of ``bench_ingest.py``: the same requests answered by aiohttp alone.

It takes ``POST /api/v1/readings`` as the backend does (a bearer token, a JSON body of one
POD's readings) and answers ``{"accepted": n, "rejected": []}`` without looking any further:
no validation, no database. What the backend reaches against it in the same run is the share
of the machine's HTTP and JSON capacity left after its own work (checks, storage, commit),
a ratio that a loaded machine changes much less than the absolute figures.

    python benchmarks/reference_ingest_server.py PORT
"""

from __future__ import annotations

import sys

from aiohttp import web


async def readings(request: web.Request) -> web.Response:
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return web.json_response({"error": "unauthorized"}, status=401)
    body = await request.json()
    return web.json_response({"accepted": len(body["readings"]), "rejected": []})


def main() -> None:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/api/v1/readings", readings)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
