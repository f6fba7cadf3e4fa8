"""Developer tooling (benchmark, eval harness, briefing eval). The runtime never imports it; only rag.app does, lazily."""
