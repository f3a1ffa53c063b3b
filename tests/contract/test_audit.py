"""`AuditLog`: newest first, pages by cursor, one tenant's log only."""

from __future__ import annotations

from chalicelib.stores.ports import AuditEntry, Stores

from .helpers import entry


def _write(stores: Stores, tenant_id: str, n: int) -> list[AuditEntry]:
    """`n` audited changes of the tenant; their entries, newest first."""
    written = []
    for i in range(n):
        audit = entry(tenant_id, f"change.{i}")
        stores.settings.put(tenant_id, "notifications", {"emails": [], "n": i}, audit)
        written.append(audit)
    return written[::-1]


def _pages(stores: Stores, tenant_id: str, limit: int) -> list[list[AuditEntry]]:
    pages, after = [], None
    while True:
        page, after = stores.audit.page(tenant_id, limit, after)
        assert len(page) <= limit
        pages.append(page)
        if after is None:
            return pages
        assert after == page[-1].position
        assert len(pages) < 50, "the pages do not end"


def test_pages_walk_the_log_newest_first_and_end_exactly(stores: Stores) -> None:
    newest_first = _write(stores, "acme", 7)
    assert _pages(stores, "acme", 3) == [newest_first[0:3], newest_first[3:6], newest_first[6:]]
    assert _pages(stores, "acme", 7) == [newest_first]  # no empty page after a full one
    assert _pages(stores, "acme", 1) == [[e] for e in newest_first]
    assert _pages(stores, "acme", 100) == [newest_first]


def test_an_entry_reads_back_as_written(stores: Stores) -> None:
    (written,) = _write(stores, "acme", 1)
    page, after = stores.audit.page("acme", 10)
    assert page == [written] and after is None


def test_a_page_after_the_last_entry_is_empty(stores: Stores) -> None:
    oldest = _write(stores, "acme", 2)[-1]
    assert stores.audit.page("acme", 5, oldest.position) == ([], None)


def test_another_tenant_never_reads_a_tenants_log_even_with_its_cursor(stores: Stores) -> None:
    acme = _write(stores, "acme", 4)
    assert stores.audit.page("globex", 10) == ([], None)
    assert stores.audit.page("globex", 10, acme[0].position) == ([], None)
    globex = _write(stores, "globex", 2)
    assert stores.audit.page("globex", 10, acme[-1].position) == ([], None)
    assert stores.audit.page("globex", 10, acme[0].position)[0] == []
    assert stores.audit.page("globex", 10)[0] == globex
    assert stores.audit.page("acme", 10)[0] == acme


def test_the_service_pages_by_an_opaque_cursor(stores: Stores) -> None:
    from chalicelib import audit

    newest_first = _write(stores, "acme", 5)
    first = audit.entries("acme", 2)
    assert [e["action"] for e in first["entries"]] == [e.action for e in newest_first[:2]]
    second = audit.entries("acme", 2, first["next_cursor"])
    third = audit.entries("acme", 2, second["next_cursor"])
    assert [e["action"] for e in second["entries"] + third["entries"]] == [
        e.action for e in newest_first[2:]
    ]
    assert third["next_cursor"] is None
    assert audit.entries("globex", 2, first["next_cursor"]) == {"entries": [], "next_cursor": None}
