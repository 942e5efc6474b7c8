"""Reports and raw answers as CSV and XLSX files: tables, writers, downloads, the CLI."""
