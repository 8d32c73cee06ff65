"""The package version, in a module of its own: ``setup.cfg`` reads it, and code inside the package
(``iccc.parsing`` digests its code with it where the sources cannot be read) imports it without
going through ``iccc/__init__.py``.
"""

__version__ = "0.1.0"
