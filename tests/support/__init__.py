"""Helpers shared by the test suites (backend, end to end, deployment): running the
``cer-backend`` command, a live ``serve`` process, a real SMTP server.

Importable from every environment that runs tests: :mod:`tests.support.cli`,
:mod:`tests.support.net` and :mod:`tests.support.serve` use only the standard library (the
end-to-end tests run them under Home Assistant's environment); :mod:`tests.support.smtp`
needs aiosmtpd (the backend's test environment).
"""
