from localwork.cli.main import main

raise SystemExit(main())
