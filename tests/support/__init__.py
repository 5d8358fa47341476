"""Test data made as AWS and the official archives make it, for the tests, the benchmarks and
scripts/ (which put the repository root on ``sys.path``), and checks of what the product
published. Not part of the installed package."""
