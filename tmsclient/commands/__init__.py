"""One module per subcommand (tmsclient.cli.COMMANDS), and their helpers: pool.py, sources.py, renew_steps.py."""
