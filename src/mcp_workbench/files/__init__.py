"""Files capability: sandboxed reading and writing under configured roots."""
