"""The bundled app's entry point (PyInstaller runs this as the main script)."""

from localwork.cli.main import main

raise SystemExit(main())
