"""Outside gateways (SMS providers, WeChat). Each adapter turns every failure into a
``GatewayError``, saying whether trying again could help."""


class GatewayError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent
