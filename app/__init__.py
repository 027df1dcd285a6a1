"""ILL Desk domain and services. No Qt here: the desk's rules work from the command line."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("illdesk")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"
