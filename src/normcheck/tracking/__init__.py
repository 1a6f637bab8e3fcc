"""Tracking plans: load (native, Segment, Iglu, RudderStack), name, cross-check."""
