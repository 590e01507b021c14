"""web.scim through HTTP: Okta- and Entra-style requests, refusals as SCIM errors, auth."""

from __future__ import annotations

from glassgate.directory.guard import ProtectedGroup
from tests.unit.directory._fakes import FakeStore
from tests.unit.directory.okta_fixture import ADMINS, okta_directory
from tests.unit.web.scim_harness import ENTERPRISE, GROUP, PATCH, USER, Scim, run, scim


async def _user(s: Scim, user_name: str, **extra: object) -> str:
    body = {"schemas": [USER], "userName": user_name, "active": True, **extra}
    response = await s.call("POST", "/Users", body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _id_of(s: Scim, user_name: str) -> str:
    response = await s.call("GET", f'/Users?filter=userName eq "{user_name}"')
    (found,) = response.json()["Resources"]
    return str(found["id"])


def test_discovery_needs_no_token_and_everything_else_does() -> None:
    async def body() -> None:
        s = await scim()
        config = await s.call("GET", "/ServiceProviderConfig", token=None)
        assert config.status_code == 200
        document = config.json()
        assert document["patch"]["supported"] is True
        assert document["bulk"]["supported"] is False
        assert document["sort"]["supported"] is True
        assert document["etag"]["supported"] is True
        for token in (None, "wrong", ""):
            response = await s.call("GET", "/Users", token=token)
            assert response.status_code == 401
            assert "Bearer" in response.headers["WWW-Authenticate"]

    run(body())


def test_okta_provisioning_lifecycle() -> None:
    async def body() -> None:
        s = await scim(protected=())
        uid = await _user(
            s,
            "ana@example.com",
            name={"givenName": "Ana", "familyName": "Lopez"},
            emails=[{"value": "ana@example.com", "primary": True, "type": "work"}],
            password="Sup3r!secret",
        )
        found = await s.call(
            "GET", '/Users?filter=userName eq "ANA@example.com"&startIndex=1&count=100'
        )
        assert found.json()["totalResults"] == 1
        # Okta deactivates with a value object and no path
        off = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
        response = await s.call("PATCH", f"/Users/{uid}", off)
        assert response.status_code == 200
        assert response.json()["active"] is False
        assert s.store.users[uid].status.value == "suspended"
        # Okta pushes a group, then removes a member by filter
        group = await s.call(
            "POST",
            "/Groups",
            {
                "schemas": [GROUP],
                "displayName": "Engineering",
                "members": [{"value": uid, "display": "Ana"}],
            },
        )
        gid = group.json()["id"]
        remove = {
            "schemas": [PATCH],
            "Operations": [{"op": "remove", "path": f'members[value eq "{uid}"]'}],
        }
        assert (await s.call("PATCH", f"/Groups/{gid}", remove)).status_code == 200
        assert s.store.groups[gid].members == frozenset()
        # Okta renames a group with its id in the value
        rename = {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Eng"}}],
        }
        assert (await s.call("PATCH", f"/Groups/{gid}", rename)).json()["displayName"] == "Eng"
        assert "Sup3r" not in repr(s.store.users[uid])
        assert "Sup3r" not in repr(s.audit.events)
        assert [e.type for e in s.audit.events] == ["admin.directory.scim"] * 5

    run(body())


def test_entra_style_patches() -> None:
    async def body() -> None:
        s = await scim(protected=())
        uid = await _user(s, "bo@example.com", externalId="bo")
        manager = await _user(s, "boss@example.com")
        ops = {
            "schemas": [PATCH],
            "Operations": [
                {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "IT"},
                {"op": "Add", "path": 'emails[type eq "work"].value', "value": "bo@corp.example"},
                {"op": "Replace", "path": "name.givenName", "value": "Bo"},
                {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": manager},
                {"op": "Replace", "path": "active", "value": "False"},
            ],
        }
        response = await s.call("PATCH", f"/Users/{uid}", ops)
        assert response.status_code == 200, response.text
        user = s.store.users[uid]
        assert user.attributes["department"] == "IT"
        assert user.attributes["givenName"] == "Bo"
        assert user.attributes["manager"] == manager
        assert user.attributes["email"] == "bo@corp.example"
        assert user.status.value == "suspended"
        by_external = await s.call(
            "GET", '/Users?filter=externalId eq "bo"&excludedAttributes=groups'
        )
        assert by_external.json()["totalResults"] == 1
        gid = (
            await s.call(
                "POST",
                "/Groups",
                {
                    "schemas": [GROUP],
                    "displayName": "Ops",
                    "members": [{"value": uid}, {"value": manager}],
                },
            )
        ).json()["id"]
        removal = {
            "schemas": [PATCH],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": uid}]}],
        }
        assert (await s.call("PATCH", f"/Groups/{gid}", removal)).status_code == 200
        assert s.store.groups[gid].members == {manager}
        listed = await s.call(
            "GET", '/Groups?filter=displayName eq "ops"&excludedAttributes=members'
        )
        assert listed.json()["totalResults"] == 1

    run(body())


def test_refusals_and_bad_requests_are_scim_errors_never_500() -> None:
    async def body() -> None:
        s = await scim(protected=())
        uid = await _user(s, "cy@example.com")
        cases = [
            (
                "POST",
                "/Users",
                {"schemas": [USER], "userName": "CY@example.com"},
                409,
                "uniqueness",
            ),
            ("POST", "/Users", {"schemas": [USER], "userName": "x" * 300}, 400, "invalidValue"),
            ("POST", "/Users", {"schemas": [USER], "userName": "a\u0000b"}, 400, None),
            (
                "POST",
                "/Groups",
                {"schemas": [GROUP], "displayName": "G", "members": [{"value": "ghost"}]},
                400,
                "invalidValue",
            ),
            (
                "POST",
                "/Groups",
                {
                    "schemas": [GROUP],
                    "displayName": "G",
                    "members": [{"value": uid, "type": "Group"}],
                },
                400,
                "invalidValue",
            ),
            (
                "PATCH",
                f"/Users/{uid}",
                {"schemas": [PATCH], "Operations": [{"op": "explode"}]},
                400,
                None,
            ),
            (
                "PATCH",
                f"/Users/{uid}",
                {
                    "schemas": [PATCH],
                    "Operations": [{"op": "replace", "path": "active", "value": "maybe"}],
                },
                400,
                None,
            ),
            ("GET", "/Users?filter=userName eq", None, 400, "invalidFilter"),
            ("GET", "/Users/nope", None, 404, None),
            ("DELETE", "/Groups/nope", None, 404, None),
        ]
        for method, url, payload, status, scim_type in cases:
            response = await s.call(method, url, payload)
            assert response.status_code == status, (method, url, response.text)
            error = response.json()
            assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
            if scim_type is not None:
                assert error.get("scimType") == scim_type
        stale = await s.call("GET", f"/Users/{uid}")
        etag = stale.headers["ETag"]
        await s.call(
            "PATCH",
            f"/Users/{uid}",
            {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]},
        )
        async_headers_patch = await s.call(
            "PUT", f"/Users/{uid}", {"schemas": [USER], "userName": "cy@example.com"}
        )
        assert async_headers_patch.status_code == 200
        assert etag != async_headers_patch.headers["ETag"]

    run(body())


def test_the_okta_lockout_scenario_over_scim() -> None:
    """The IdP takes admins away one by one; glassgate refuses once two active ones are left."""

    async def body() -> None:
        s = await scim(FakeStore.of(okta_directory()))
        names = ("lena.ortiz", "omar.haddad", "priya.patel", "jun.tanaka")
        lena, omar, priya, jun = [await _id_of(s, f"{name}@example.com") for name in names]
        deactivate = {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        }
        assert (await s.call("PATCH", f"/Users/{lena}", deactivate)).status_code == 200  # 4 -> 3
        move = {
            "schemas": [PATCH],
            "Operations": [
                {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Facilities"}
            ],
        }
        assert (
            await s.call("PATCH", f"/Users/{omar}", move)
        ).status_code == 200  # 3 -> 2, by the rule
        assert s.service.current.active_members("Admins") == (
            "jun.tanaka@example.com",
            "priya.patel@example.com",
        )

        # suspending the last-but-one admin through SCIM is refused
        refused = await s.call("PATCH", f"/Users/{priya}", deactivate)
        assert refused.status_code == 409
        detail = refused.json()["detail"]
        assert "protected group 'Admins' needs at least 2 active member(s)" in detail
        assert "would keep 1 (jun.tanaka@example.com)" in detail
        # a PATCH whose attribute change the rule turns into a removal is refused too
        assert (await s.call("PATCH", f"/Users/{jun}", move)).status_code == 409
        # ... and deleting one, and replacing one with PUT active=false
        assert (await s.call("DELETE", f"/Users/{jun}")).status_code == 409
        put = {"schemas": [USER], "userName": "jun.tanaka@example.com", "active": False}
        assert (await s.call("PUT", f"/Users/{jun}", put)).status_code == 409
        assert s.service.current.active_members("Admins") == (
            "jun.tanaka@example.com",
            "priya.patel@example.com",
        )
        refusals = [e for e in s.audit.events if e.type == "directory.lockout.refused"]
        assert len(refusals) == 4
        assert all(e.actor == "scim:okta" for e in refusals)
        assert len(s.alerts.sent) == 4
        alert = s.alerts.sent[0][0]
        assert alert.severity.value == "critical"
        assert "upstream IdP (SCIM)" in alert.summary
        assert "itself the incident" in alert.summary
        assert alert.runbook == "README.md#break-glass-at-2-am"

    run(body())


def test_a_group_patch_removing_the_second_to_last_admin_is_refused() -> None:
    """Okta push groups: a directly managed protected group loses members through PATCH."""

    async def body() -> None:
        s = await scim(protected=(ProtectedGroup("Platform Admins", 2),))
        ids = [await _user(s, f"admin{i}@example.com") for i in range(3)]
        group = {
            "schemas": [GROUP],
            "displayName": "Platform Admins",
            "members": [{"value": i} for i in ids],
        }
        gid = (await s.call("POST", "/Groups", group)).json()["id"]

        def remove(uid: str) -> dict[str, object]:
            return {
                "schemas": [PATCH],
                "Operations": [{"op": "remove", "path": f'members[value eq "{uid}"]'}],
            }

        assert (await s.call("PATCH", f"/Groups/{gid}", remove(ids[0]))).status_code == 200
        refused = await s.call("PATCH", f"/Groups/{gid}", remove(ids[1]))
        assert refused.status_code == 409
        assert "would keep 1 (admin2@example.com)" in refused.json()["detail"]
        entra = {
            "schemas": [PATCH],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": ids[2]}]}],
        }
        assert (await s.call("PATCH", f"/Groups/{gid}", entra)).status_code == 409
        assert (await s.call("DELETE", f"/Groups/{gid}")).status_code == 409
        assert s.store.groups[gid].members == {ids[1], ids[2]}
        assert ADMINS  # the Okta admins are untouched here: this org pushes its admins group

    run(body())


def test_an_oversized_body_is_413_before_it_is_parsed() -> None:
    async def body() -> None:
        s = await scim(protected=())
        huge = {"schemas": [USER], "userName": "a@example.com", "title": "x" * (5 * 1024 * 1024)}
        response = await s.call("POST", "/Users", huge)
        assert response.status_code == 413
        assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert s.store.users == {}

    run(body())
