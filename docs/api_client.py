"""
A small client for the Digital Leadership Atlas API, using only the standard library.

It follows cursors to the end of a list, syncs incrementally with
``updated_since``, sends an API key as ``Authorization: Bearer``, waits out
``429 Too Many Requests`` and reports errors from their problem+json body.

    python docs/api_client.py                                  # list Illinois' initiatives
    python docs/api_client.py --sync state.json                # fetch what changed since last run
    ATLAS_API_KEY=... python docs/api_client.py --base-url https://atlas.example.org/api/v1

See docs/api-client.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_BASE_URL = "http://127.0.0.1:8000/api/v1"
# A transaction that commits after taking its timestamp can land just behind a
# cursor; starting each sync a little before the last one closes that gap.
SYNC_OVERLAP = dt.timedelta(minutes=1)


class ApiError(Exception):
    """An error answer, with its RFC 9457 problem document when there is one."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{status} {problem.get('title', '')}: {problem.get('detail', '')}")


class AtlasClient:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, api_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.api_key = api_key

    def request(self, method: str, url: str, body: Any = None) -> Any:
        """Send one request and return its JSON; a 429 is retried after Retry-After."""
        url = urllib.parse.urljoin(self.base_url, url)
        # Only http(s): urllib would also open file: URLs, and a link comes from the server.
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"Not an http(s) URL: {url}")
        headers = {"Accept": "application/json", "User-Agent": "atlas-api-client/1.0"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for _attempt in range(5):
            request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    payload = response.read()
                    return json.loads(payload) if payload else None
            except urllib.error.HTTPError as error:
                if error.code == 429:
                    time.sleep(float(error.headers.get("Retry-After", "1")))
                    continue
                raw = error.read()
                try:
                    problem = json.loads(raw)
                except ValueError:
                    problem = {"detail": raw.decode(errors="replace")}
                raise ApiError(error.code, problem) from None
        raise ApiError(429, {"title": "Too many requests", "detail": "gave up after 5 tries"})

    def iterate(self, resource: str, **params: str) -> Iterator[dict[str, Any]]:
        """Every record of a list, following ``next`` until it is null."""
        url: str | None = f"{resource.strip('/')}/?{urllib.parse.urlencode(params)}"
        while url:
            page = self.request("GET", url)
            yield from page["results"]
            url = page["next"]

    def changed_since(
        self, resource: str, since: dt.datetime | None, **params: str
    ) -> Iterator[dict[str, Any]]:
        """Records changed since ``since`` (all of them when None), oldest change first."""
        params = {"ordering": "updated_at", "page_size": "200", **params}
        if since is not None:
            params["updated_since"] = (since - SYNC_OVERLAP).isoformat()
        return self.iterate(resource, **params)


def sync(client: AtlasClient, state_file: Path, resource: str = "initiatives") -> int:
    """Fetch what changed since the last run, remember the newest change; return the count."""
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    since = dt.datetime.fromisoformat(state[resource]) if resource in state else None
    newest = since
    count = 0
    for record in client.changed_since(resource, since):
        # Store or update the record by its slug here; a council key also sees archived ones.
        changed = dt.datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00"))
        newest = max(newest, changed) if newest else changed
        count += 1
    if newest is not None:
        state[resource] = newest.isoformat()
        state_file.write_text(json.dumps(state, indent=2))
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("ATLAS_API_URL", DEFAULT_BASE_URL))
    parser.add_argument("--jurisdiction", default="illinois", help="A slug or an OCD id.")
    parser.add_argument("--sync", type=Path, metavar="STATE_FILE", help="Sync incrementally.")
    args = parser.parse_args()
    client = AtlasClient(args.base_url, api_key=os.environ.get("ATLAS_API_KEY"))
    try:
        if args.sync:
            print(f"{sync(client, args.sync)} initiatives changed since the last sync")
            return 0
        records = client.iterate(
            "initiatives", jurisdiction=args.jurisdiction, include_descendants="true"
        )
        for initiative in records:
            print(f"{initiative['slug']:<50} {initiative['status']:<10} {initiative['title']}")
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
