"""Baseline (b): WeRoBot 1.13.1 answering a text message with a text reply, served by waitress.

WeRoBot is a synchronous Bottle (WSGI) application: it checks the signature, parses the XML and renders
the reply; it stores nothing. Its SQLite session store is turned off (the handler takes no session;
left on, it would read and write a row per message), which makes it the strongest baseline.

    python bench/wechat/werobot_app.py PORT THREADS
"""

from __future__ import annotations

import logging
import sys

import waitress
from pushes import TOKEN  # bench/wechat/ is on the path when this file runs as a script
from werobot import WeRoBot
from werobot.messages.messages import TextMessage

robot = WeRoBot(token=TOKEN, SESSION_STORAGE=False)


@robot.text
def receipt(message: TextMessage) -> str:
    return f"您的诉求已受理。编号：WZ20261127-{message.message_id % 100000:05d}。"


def main() -> None:
    port, threads = int(sys.argv[1]), int(sys.argv[2])
    # waitress warns on every request that finds all threads busy, which under load is every request
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress.serve(robot.wsgi, host="127.0.0.1", port=port, threads=threads, _quiet=True)


if __name__ == "__main__":
    main()
