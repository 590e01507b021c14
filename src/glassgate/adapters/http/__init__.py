"""HTTP adapters: the front doors (proxy, forward-auth) and the upstream client."""
