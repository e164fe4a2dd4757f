"""The seqlab command (main.py) and its subcommands: the only code that reads Hydra configs."""
