"""The Content Security Policy, on the pages the site renders."""

from csp.middleware import CSPMiddleware


class PageCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, for HTML responses only.

    A policy guards a document that runs scripts. On a PDF it does harm: Chrome shows PDFs in
    an <embed> that the page policy's object-src 'none' blocks (crbug.com/271452), and staff
    open members' scanned documents in the browser (branches.private_files).
    """

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
