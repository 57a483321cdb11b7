"""Kept for old commands: ``python -m cgan.demo [options]`` is ``cgan train [options]``."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main(["train"] + __import__("sys").argv[1:]))
