"""`python -m gilcheck`: the same command line as the `gilcheck` script."""

from gilcheck.cli import main

if __name__ == "__main__":
    main()
