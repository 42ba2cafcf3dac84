"""The scenarios: which program each one drives, with which requests, and which run back to back."""

from __future__ import annotations

HOT_IDS = 1000  # cached reads draw from this many ids (all cached after the warm-up)
MIX_IDS = 10000  # the read/write mix and the original routes work on this many ids

# name, target, wrk kind, path (or path prefix), id range ("hot", "mix", "all" or None), title.
# orig_*: the original app's routes (/read, /update, /create) served by the service: "original routes".
# tut_*: the same routes served by the tutorial app itself (../shared/reference/tutorial_app.py).
SCENARIOS = [
    ("ref_json", "ref", "fixed", "/json", None, "Reference: bare ASP.NET Core, fixed JSON"),
    ("ref_db", "ref", "get", "/db/", "all", "Reference: bare ASP.NET Core + MySqlConnector, select by id"),
    ("ref_create", "ref", "create", "/db", None, "Reference: bare ASP.NET Core + MySqlConnector, one autocommit INSERT"),
    ("ref_patch", "ref", "patch", "/db/", "all", "Reference: bare ASP.NET Core + MySqlConnector, one autocommit UPDATE by id"),
    ("get_db", "svc_none", "get", "/customers/", "all", "GET /customers/{id}, cache off (database)"),
    ("get_cached", "svc_memory", "get", "/customers/", "hot", "GET /customers/{id}, memory cache hits"),
    ("get_cached_keyed", "svc_keyed", "get", "/customers/", "hot",
     "GET /customers/{id}, memory cache hits, with an API key (authentication + scope check on)"),
    ("get_spread", "svc_memory", "get", "/customers/", "all", "GET /customers/{id}, memory cache, every id (the cache fills to its bound)"),
    ("list_first", "svc_memory", "fixed", "/customers?limit=50&sort=id", None, "GET /customers first page (50)"),
    ("list_deep", "svc_memory", "fixed", "DEEP", None, "GET /customers page deep in the table (cursor)"),
    ("mix", "svc_memory", "mix", "/customers/", "mix", "90% GET / 10% PATCH /customers/{id}"),
    ("patch", "svc_memory", "patch", "/customers/", "all", "PATCH /customers/{id} (merge patch: name)"),
    ("create", "svc_memory", "create", "/customers", None, "POST /customers"),
    ("orig_read", "svc_memory", "get", "/read/", "mix", "Original route GET /read/{id} (ours)"),
    ("orig_update", "svc_memory", "orig_update", "/update/", "mix", "Original route PUT /update/{id} (ours)"),
    ("orig_create", "svc_memory", "orig_create", "/create", None, "Original route POST /create (ours)"),
    ("get_cached_redis", "svc_redis", "get", "/customers/", "hot", "GET /customers/{id}, memory + Redis cache hits"),
    ("patch_redis", "svc_redis", "patch", "/customers/", "all", "PATCH /customers/{id}, memory + Redis + backplane"),
    # On SQLite: the reference's /sqlite endpoints on its own copy of the file, the service on its file.
    ("ref_sqlite_get", "ref", "get", "/sqlite/", "all", "Reference: bare ASP.NET Core + Microsoft.Data.Sqlite, select by id"),
    ("get_sqlite", "svc_sqlite", "get", "/customers/", "all", "GET /customers/{id} on SQLite, cache off (database)"),
    ("ref_sqlite_patch", "ref", "patch", "/sqlite/", "all", "Reference: bare ASP.NET Core + Microsoft.Data.Sqlite, one autocommit UPDATE by id"),
    ("patch_sqlite", "svc_sqlite", "patch", "/customers/", "all", "PATCH /customers/{id} on SQLite (merge patch: name)"),
    ("ref_sqlite_create", "ref", "create", "/sqlite", None, "Reference: bare ASP.NET Core + Microsoft.Data.Sqlite, one autocommit INSERT"),
    ("create_sqlite", "svc_sqlite", "create", "/customers", None, "POST /customers on SQLite"),
    ("tut_read", "tutorial", "get", "/read/", "mix", "Tutorial app GET /read/{id}"),
    ("tut_update", "tutorial", "orig_update", "/update/", "mix", "Tutorial app PUT /update/{id}"),
    ("tut_create", "tutorial", "orig_create", "/create", None, "Tutorial app POST /create"),
    # The peer (bench/harness/directus.py): Directus over a copy of the same rows, its defaults and tuned.
    ("dx_get", "dx_default", "get", "/items/customers/", "all", "Peer: Directus 12.4 (defaults), GET /items/customers/{id}"),
    ("dx_get_tuned", "dx_tuned", "get", "/items/customers/", "all",
     "Peer: Directus 12.4 tuned (schema frozen, data cache in memory), GET /items/customers/{id}"),
    ("dx_patch", "dx_default", "patch_json", "/items/customers/", "all",
     "Peer: Directus 12.4 (defaults), PATCH /items/customers/{id} (name; writes activity + revision)"),
    ("dx_patch_tuned", "dx_tuned", "patch_json", "/items/customers/", "all",
     "Peer: Directus 12.4 tuned, PATCH /items/customers/{id} (name; writes activity + revision)"),
]
OURS = {s[0] for s in SCENARIOS if s[1].startswith("svc_")}

READ_ONLY = {"get_db", "get_spread", "get_cached", "get_cached_keyed", "get_cached_redis", "list_first", "list_deep",
             "orig_read", "get_sqlite"}

# Scenarios in one block run one after another at each concurrency before the next concurrency:
# a ratio's two sides are measured minutes apart at most, under the same background load.
BLOCKS = [
    ["ref_json", "get_cached", "get_cached_keyed", "get_cached_redis"],
    ["ref_db", "get_db", "get_spread", "dx_get", "dx_get_tuned"],
    ["list_first", "list_deep"],
    ["mix"],
    ["orig_read", "tut_read"],
    ["ref_patch", "patch", "patch_redis", "dx_patch", "dx_patch_tuned"],
    ["orig_update", "tut_update"],
    ["ref_create", "create"],
    ["orig_create", "tut_create"],
    ["ref_sqlite_get", "get_sqlite"],
    ["ref_sqlite_patch", "patch_sqlite"],
    ["ref_sqlite_create", "create_sqlite"],
]
assert sorted(n for b in BLOCKS for n in b) == sorted(s[0] for s in SCENARIOS)

# --baseline-commit: every selected scenario of the service also runs against a build of that commit,
# as "<name>_base" right after its own in the block, so rounds alternate A B A B under the same load.
BASE_SUFFIX = "_base"

# The bare write each write scenario is also compared with (same block, same rounds).
WRITE_REFERENCE = {"create": "ref_create", "patch": "ref_patch", "patch_redis": "ref_patch",
                   "create_sqlite": "ref_sqlite_create", "patch_sqlite": "ref_sqlite_patch"}


def base_name(name: str) -> str:
    return name[: -len(BASE_SUFFIX)] if name.endswith(BASE_SUFFIX) else name


def with_baseline(selected: list[tuple], blocks: list[list[str]], commit: str) -> tuple[list[tuple], list[list[str]]]:
    """The selected scenarios plus a baseline twin of each service scenario, and the blocks with each twin
    placed right after its scenario."""
    twins = {s[0]: (s[0] + BASE_SUFFIX, "base_" + s[1], *s[2:5], f"{s[5]} — baseline {commit}")
             for s in selected if s[1].startswith("svc_")}
    out_blocks = [[m for n in b for m in ([n, twins[n][0]] if n in twins else [n])] for b in blocks]
    return selected + list(twins.values()), out_blocks

# Names runs before the "original routes" naming used: --scenarios still accepts them, and --render maps
# them when it re-reads a saved run, so evaluate() finds its scenarios.
OLD_NAMES = {"t_read": "orig_read", "t_update": "orig_update", "t_create": "orig_create"}
OLD_KINDS = {"tupdate": "orig_update", "tcreate": "orig_create"}
