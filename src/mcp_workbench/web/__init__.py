"""Web capability: SSRF-safe, cached fetching of web pages as Markdown, text or JSON."""
