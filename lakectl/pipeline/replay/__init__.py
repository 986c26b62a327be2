"""Quarantine replay: quarantined records re-run through today's parsing and expectations (lakectl replay)."""
