"""teespark: confidential, oblivious analytics for Spark on GlobalPlatform TEEs."""

from teespark.errors import TeesparkError

__version__ = "0.1.0"

__all__ = ["TeesparkError", "__version__"]
