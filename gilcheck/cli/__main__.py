"""`python -m gilcheck.cli`: the console script."""

from gilcheck.cli.app import main

if __name__ == "__main__":
    main()
