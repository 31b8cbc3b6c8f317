"""Environments, one module (or small package) per environment. Nothing else lives here."""
