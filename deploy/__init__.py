"""Deployment files: gunicorn settings, the nginx template and its renderer (docs/deploy.md)."""
