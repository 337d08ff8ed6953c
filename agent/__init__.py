"""The EdgeKube node agent (runs pods bound to its node); built on the shared client."""
