# Thin on purpose: every fixture and hook lives in the dojo package (dojo/plugin.py).
# Loaded here rather than through a pytest11 entry point, so that dojo's autouse guards
# never reach other projects installed in the same environment.
pytest_plugins = ["dojo.plugin"]
