from localwork.cli import main

raise SystemExit(main())
