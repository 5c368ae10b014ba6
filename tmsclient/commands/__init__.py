"""One module per subcommand; see tmsclient.cli.COMMAND_MODULES."""
