"""The research capability's domain: questions answered from many sources, ranked, cited, validated.

Nothing here imports MCP: the tool adapter builds a :class:`~.service.ResearchService` and calls
:meth:`~.service.ResearchService.run`.
"""
