"""EdgeKube: a Kubernetes-compatible orchestrator for small edge fleets."""

__version__ = "0.1.0"
