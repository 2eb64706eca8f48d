"""An in-memory KurrentDB test double speaking the gRPC client protocol."""
