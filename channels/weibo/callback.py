"""`GET|POST /channels/weibo`: the fans-service (粉丝服务平台) push, answered inside Weibo's 5 seconds.

Every request is signed (protocols.md §4.6): the console's URL verification is answered with its
``echostr``, and each push is stored before the reply, as WeChat's are (channels.chat.responder): a
private message becomes an inquiry or joins the citizen's unscreened one, a chat command or a menu click
is answered, a follow is welcomed. The reply goes in the HTTP answer (``data`` URL-encoded JSON); an
empty answer tells Weibo not to retry, for events and types with nothing to say.
"""

from __future__ import annotations

import logging

from aiohttp import web

from channels.chat.responder import ChatOptions, ChatResponder
from channels.weibo.inbound import push_message
from channels.weibo.replies import passive_reply
from channels.weibo.security import PushSecurity, WeiboRejected
from core.service import InquiryService

log = logging.getLogger(__name__)

PATH = "/channels/weibo"


class WeiboCallback:
    def __init__(self, service: InquiryService, security: PushSecurity, chat: ChatOptions) -> None:
        self.security = security
        self.responder = ChatResponder(service, chat)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.verify), web.post(PATH, self.push)]

    async def verify(self, request: web.Request) -> web.Response:
        try:
            return web.Response(text=self.security.verify_url(request.query))
        except WeiboRejected as rejected:
            return _refuse(rejected)

    async def push(self, request: web.Request) -> web.Response:
        try:
            push = self.security.open(request.query, await request.read())
            message = push_message(push.payload, push.raw)
        except WeiboRejected as rejected:
            return _refuse(rejected)
        if message is None:
            log.info("weibo push of an unhandled type skipped", extra={"channel": "weibo"})
            return web.Response(text="")
        text = await self.responder.answer(message)
        if text is None:
            return web.Response(text="")
        account = str(push.payload.get("receiver_id", ""))
        return web.Response(
            text=passive_reply(account, message.sender, text), content_type="application/json"
        )


def _refuse(rejected: WeiboRejected) -> web.Response:
    log.warning("weibo push refused: %s", rejected.reason, extra={"channel": "weibo"})
    return web.Response(status=rejected.status, text=rejected.reason)
