"""marketrec: a market-data recorder and ETL pipeline."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("marketrec")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.0.0+unknown"
