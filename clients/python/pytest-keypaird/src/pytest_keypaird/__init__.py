"""pytest fixtures for keypaird, a local Tencent Cloud key-pair API (CVM and Lighthouse).

`keypaird_server` (session scope) starts `keypaird serve --ephemeral --test-credentials`
on a free loopback port once per test session; `keypaird` (function scope) is the same
server, reset before each test. Both yield a `Keypaird`.
"""

from .server import Keypaird, start

__all__ = ["Keypaird", "start"]
