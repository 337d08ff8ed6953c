from edgekube.cli import main

raise SystemExit(main())
