"""Reference (a'): what WeChat's own protocol work costs with nothing stored, as the issue's targets
were set against ("wechatpy alone, no storage"). aiohttp with wechatpy: the signature checked, the XML
parsed, a text reply rendered; in safe mode the push decrypted (``msg_signature`` checked) and the reply
encrypted. No deduplication, no database, no case number.

    python bench/wechat/wechatpy_alone.py PORT plain|safe
"""

from __future__ import annotations

import sys

from aiohttp import web
from pushes import APP_ID, ENCODING_AES_KEY, TOKEN  # bench/wechat/ is on the path when run as a script
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import check_signature

CRYPTO = WeChatCrypto(TOKEN, ENCODING_AES_KEY, APP_ID)


def receipt(message_id: int) -> str:
    return f"您的诉求已受理。编号：WZ20261127-{message_id % 100000:05d}。"


async def plain(request: web.Request) -> web.Response:
    query = request.query
    check_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])
    message = parse_message(await request.read())
    reply = create_reply(receipt(message.id), message).render()
    return web.Response(text=reply, content_type="application/xml")


async def safe(request: web.Request) -> web.Response:
    query = request.query
    check_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])
    xml = CRYPTO.decrypt_message(
        await request.read(), query["msg_signature"], query["timestamp"], query["nonce"]
    )
    message = parse_message(xml)
    reply = create_reply(receipt(message.id), message).render()
    sealed = CRYPTO.encrypt_message(reply, query["nonce"], query["timestamp"])
    return web.Response(text=sealed, content_type="application/xml")


def main() -> None:
    port, mode = int(sys.argv[1]), sys.argv[2]
    app = web.Application()
    app.router.add_post("/channels/wechat", {"plain": plain, "safe": safe}[mode])
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
