"""Every active namespace has a `default` ServiceAccount; this package keeps it so."""

from edgekube.controllers.serviceaccounts.ensuring import DEFAULT_ACCOUNT, ServiceAccountController

__all__ = ["DEFAULT_ACCOUNT", "ServiceAccountController"]
