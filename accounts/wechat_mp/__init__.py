"""WeChat official account (公众号) login inside WeChat: an allauth provider, id ``weixin_mp``."""
