"""Dataset fetchers: a cache directory, sha256 checks and clear offline errors."""
