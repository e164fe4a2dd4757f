"""Entry-point logic behind scripts/: the only code that reads Hydra configs."""
