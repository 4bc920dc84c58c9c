"""Baseline (a): a bare aiohttp handler that answers every POST with ``success`` and does nothing else.

python bench/wechat/bare.py PORT
"""

from __future__ import annotations

import sys

from aiohttp import web


async def push(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text="success")


def main() -> None:
    app = web.Application()
    app.router.add_post("/channels/wechat", push)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
