"""gristmill: prepare LLM training data with verified recipes, then mix it while the model trains."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gristmill")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
