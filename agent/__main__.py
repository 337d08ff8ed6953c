"""`python -m agent`: the node agent on its own (the same as `edgekube agent`)."""

from agent.command import main

raise SystemExit(main())
