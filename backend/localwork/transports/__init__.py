"""How the app is reached: the desktop window, the loopback HTTP server for a browser, and
the bridge both of them call (the only methods the page may use)."""
