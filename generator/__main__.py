"""``python -m generator`` runs the ``controlbook`` command."""

from .cli import main

if __name__ == "__main__":
    main()
