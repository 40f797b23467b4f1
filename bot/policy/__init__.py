"""Pure decisions: frozen snapshots in, decisions with reasons out. No I/O here."""
