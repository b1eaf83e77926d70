"""pyiceberg's REST catalog with floe-infra's timeouts and bounded retries on every request.

Imported when a REST catalog is opened (`floe_infra.iceberg.catalogs.open_catalog`), not by the
Pulumi programs that only declare tables.
"""

from __future__ import annotations

from pyiceberg.catalog.rest import RestCatalog
from requests import Session

from floe_infra.http import HttpPolicy, mount_policy


class BoundedRestCatalog(RestCatalog):
    """pyiceberg's REST catalog, every request of it bounded by an `HttpPolicy`.

    pyiceberg 0.12 has no timeout or retry setting; `_create_session` is where both its config
    request (sent by the constructor) and every later call get their session, so the policy is
    mounted there. floe-infra pins pyiceberg <0.13; the fault tests fail if this hook moves.
    """

    def __init__(self, name: str, policy: HttpPolicy, **properties: str) -> None:
        self.policy = policy  # set first: the parent constructor already sends requests
        super().__init__(name, **properties)

    def _create_session(self) -> Session:
        return mount_policy(super()._create_session(), self.policy)
