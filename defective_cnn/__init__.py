__version__ = "0.1.0"

# The one name the package offers at its top level (notebook 22_defectify); nbdev_export rewrites only the line above.
from .defectify import defectify
