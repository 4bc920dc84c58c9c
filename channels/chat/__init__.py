"""What the chat channels (WeChat, Weibo's private messages and mentions) share: the commands a citizen
may type, and their answers."""
