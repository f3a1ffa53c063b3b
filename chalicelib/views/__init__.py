"""HTTP views: each takes a `Call` (the checked principal, body, query) and path parameters."""
