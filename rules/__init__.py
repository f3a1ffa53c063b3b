"""Built-in rules, one package per artifact type (`rules.<type>`): the engine imports a pack
the first time it evaluates an artifact of that type, and the pack's modules register their
rules as they are imported."""
