"""The attack suite: forged, hostile and broken inputs, and misbehaving tools."""
