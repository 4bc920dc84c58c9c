"""The Sina Weibo channel: polled @-mentions answered with comments; the fans-service (粉丝服务) push."""
