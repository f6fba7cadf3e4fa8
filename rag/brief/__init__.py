"""Briefings: group articles into events (events), analyse them (analysis, text, figures), build (build) and render (render) a briefing."""
