"""The release tool of the repository (never published): ``es-release --help``."""
