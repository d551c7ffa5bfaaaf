# pytester runs small pytest sessions of their own, to test the plugin as a user's suite meets it.
pytest_plugins = ["pytester"]
