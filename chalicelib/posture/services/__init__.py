"""One reader per service: `collect(scope)` reads it in the scope's region (`GLOBAL = True`:
once per account) and records resources and facts. Listing calls are paginated; per-resource
calls are made only where the service has no batch call, through `scope.each`."""
