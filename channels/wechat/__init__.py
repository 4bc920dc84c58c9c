"""The WeChat Official Account (公众号) channel: callback security, message parsing and passive replies."""
